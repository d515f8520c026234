"""Reads whose cost grows with the number of cases run under the public SPARQL endpoint's limits.

Counting cases per law, listing the cases of an organisation or drawing the
Systeemleren charts costs more with every import. These reads go through the
same sandbox as `/sparql` (`graph.sparql.run_query`: a killable worker process,
a time limit, a row limit), so no page can hold a core or the memory longer
than a query typed into the SPARQL editor could.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.sparql import SparqlError, run_query
from graph.store import to_python


@dataclass(frozen=True)
class Limits:
    """The public endpoint's limits: seconds per query and rows per answer."""

    timeout_s: float = 10.0
    row_limit: int = 10_000

    @classmethod
    def of(cls, settings: Any) -> Limits:
        return cls(settings.sparql_timeout_s, settings.sparql_result_limit)


@dataclass(frozen=True)
class Rows:
    """A SELECT answer as plain Python values; `truncated` when the row limit cut it."""

    rows: tuple[dict[str, Any], ...]
    truncated: bool = False

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def select(kg, query: str, limits: Limits, complete: bool = False) -> Rows:
    """A SELECT under `limits`; over the time limit (or with every worker busy) it raises SparqlError 503.

    With `complete`, an answer cut by the row limit is refused too (503): counts and lists that
    claim to be whole must not silently miss rows.
    """
    result = run_query(kg, query, limits.timeout_s, limits.row_limit)
    if complete and result.truncated:
        raise SparqlError(
            f"Het antwoord heeft meer dan {limits.row_limit} rijen, de limiet van het SPARQL-endpoint", 503
        )
    names = result.variables
    rows = tuple({name: to_python(term) for name, term in zip(names, solution)} for solution in result.solutions)
    return Rows(rows, result.truncated)


def over_limit(exc: SparqlError) -> bool:
    """A refusal because of the limits or a busy endpoint (503): the page says so; anything else is a bug."""
    return exc.status == 503
