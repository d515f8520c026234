"""Search: encoders, dense and lexical indexes, hybrid graph-aware ranking, explanations, evaluation."""
