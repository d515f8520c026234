"""Privacy-gate throughput and Deduce load time (a benchmark figure, not a test).

    .venv/bin/python -m bench.gate [--rounds 3] [--cold]

Texts: every gated free-text field of the demo corpus (ontology/data/cases.jsonl)
plus every sentence of the labelled gate set. One process, one thread, so the
figure is per core. --cold builds the gate's Deduce lookup structures in an
empty cache directory, to time a first install.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from graph.case import gated_texts
from ingest import deduce_gate
from ingest.anonymise import find_personal_data
from ingest.gate_eval import load_items
from ontology import DEMO_CASES_FILE


def corpus_texts() -> list[str]:
    records = [json.loads(line) for line in DEMO_CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [text for record in records for _, text in gated_texts(record) if isinstance(text, str)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gate")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="build Deduce's lookup structures in an empty cache")
    args = parser.parse_args()

    if args.cold:
        os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="bench-gate-")
    seconds = deduce_gate.warm_up()
    print(f"Deduce: {'built (first install)' if args.cold else 'loaded from its cache'} in {seconds:.1f} s")

    sets = {"demo corpus fields": corpus_texts(), "gate set sentences": [i["text"] for i in load_items()]}
    for name, texts in sets.items():
        chars = sum(map(len, texts)) / len(texts)
        best = min(_timed(texts) for _ in range(args.rounds))
        print(f"{name}: {len(texts)} texts, {chars:.0f} chars on average: {len(texts) / best:,.0f} texts/s")


def _timed(texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        find_personal_data(text)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
