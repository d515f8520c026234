"""Measure the privacy gate on the labelled set: recall per kind, false-positive rate.

`make gate-eval` (python -m ingest.gate_eval [--misses]) prints the figures for
the "tune" half (used while building the detectors) and the "heldout" half
(not looked at while tuning). An item counts as found when a finding of its
kind overlaps its span; a clean sentence counts as a false positive when the
gate reports anything in it.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ingest.anonymise import KINDS, find_personal_data

GATE_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "gate" / "gate_set.jsonl"


@dataclass
class Score:
    found: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    clean: int = 0
    false_positives: int = 0
    misses: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.total[kind] if self.total[kind] else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.clean if self.clean else 0.0


def load_items(path: Path = GATE_SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _found(item: dict) -> tuple[bool, list]:
    findings = find_personal_data(item["text"])
    if item["kind"] is None:
        return not findings, findings
    start = item["text"].index(item["span"])
    end = start + len(item["span"])
    return any(f.kind == item["kind"] and f.start < end and start < f.end for f in findings), findings


def evaluate(items: list[dict]) -> dict[str, Score]:
    scores: dict[str, Score] = defaultdict(Score)
    for item in items:
        score = scores[item["split"]]
        ok, findings = _found(item)
        if item["kind"] is None:
            score.clean += 1
            score.false_positives += not ok
        else:
            score.total[item["kind"]] += 1
            score.found[item["kind"]] += ok
        if not ok:
            got = ", ".join(f"{f.kind}:{f.text!r}" for f in findings) or "niets"
            score.misses.append(f"[{item['kind'] or 'schoon'}] {item['text']}  -> {got}")
    return scores


def report(scores: dict[str, Score], show_misses: bool = False) -> str:
    lines = []
    for split in ("tune", "heldout"):
        score = scores[split]
        lines.append(f"{split}: {sum(score.total.values())} persoonsgegevens, {score.clean} schone zinnen")
        for kind in KINDS:
            if score.total[kind]:
                lines.append(f"  recall {kind:<14} {score.recall(kind):.3f}  ({score.found[kind]}/{score.total[kind]})")
        lines.append(f"  vals-positief        {score.false_positive_rate:.3f}  ({score.false_positives}/{score.clean})")
        if show_misses:
            lines += [f"    {miss}" for miss in score.misses]
    return "\n".join(lines)


def main() -> None:
    print(report(evaluate(load_items()), show_misses="--misses" in sys.argv))


if __name__ == "__main__":
    main()
