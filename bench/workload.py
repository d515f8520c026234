"""What the benchmark asks: a fixed sample of plain-Dutch situation texts, and the case texts to encode.

Queries: every query of the labelled set (search/eval/gold.jsonl), topped up with
situations of generated cases (alternately whole and only their first sentence),
to `n` texts, shuffled with a fixed seed: the same sample in every run and size.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bench.load import Req, similar_cases

SEED = 7


def gold_file() -> Path:
    from search.evaluate import GOLD_FILE

    return Path(GOLD_FILE)


@dataclass
class Corpus:
    """The generated file, streamed: every case id, and a fixed random sample of whole cases."""

    ids: list[str]
    sample: list[dict]

    @property
    def sampled(self) -> bool:
        return len(self.sample) < len(self.ids)


def read_cases(cases_file: Path, keep: int) -> Corpus:
    """Reservoir sample (fixed seed) of `keep` cases, so a 1M-case file never sits in memory whole."""
    rng = random.Random(SEED)
    ids: list[str] = []
    sample: list[dict] = []
    with open(cases_file, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            case = json.loads(line)
            ids.append(case["id"])
            if len(sample) < keep:
                sample.append(case)
            else:
                j = rng.randrange(len(ids))
                if j < keep:
                    sample[j] = case
    return Corpus(ids, sample)


def query_texts(cases: list[dict], n: int = 200) -> list[str]:
    gold = [json.loads(line)["query"] for line in gold_file().read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(SEED)
    texts = gold[:n]
    picks = rng.sample(cases, min(len(cases), max(0, n - len(texts))))
    for i, case in enumerate(picks):
        situation = case["situation"]
        texts.append(situation if i % 2 else re.split(r"(?<=\.)\s", situation, maxsplit=1)[0])
    rng.shuffle(texts)
    return texts


def similar_requests(texts: list[str], count: int) -> list[Req]:
    """`count` POST /api/similar-cases requests cycling through the texts."""
    return [similar_cases(texts[i % len(texts)]) for i in range(count)]


def mixed_requests(texts: list[str], case_ids: list[str], count: int) -> list[Req]:
    """Half POST /api/similar-cases, a quarter GET /api/cases/{id}/similar, a quarter GET /api/cases?q=."""
    rng = random.Random(SEED)
    out: list[Req] = []
    for i in range(count):
        text = texts[i % len(texts)]
        if i % 4 in (0, 2):
            out.append(similar_cases(text))
        elif i % 4 == 1:
            case_id = rng.choice(case_ids)
            out.append(Req("GET /api/cases/{id}/similar", "GET", f"/api/cases/{quote(case_id)}/similar?k=10"))
        else:
            out.append(Req("GET /api/cases?q=", "GET", f"/api/cases?q={quote(text[:300])}&page_size=10"))
    return out
