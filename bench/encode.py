"""The encoder's own throughput on the texts the index encodes for the generated cases.

Texts per case are `search.index.passage_texts(title, situation)`. Two ways, after a
warm-up call (the first call also finishes loading the model, timed separately):
- `single`: `encoder.encode` in calls of 256 texts, in this one process;
- `bulk`: `encoder.encode_bulk` on all texts at once, when the encoder has it (the
  call the import makes; for USE it starts one worker process per core on large
  inputs, and that start-up is included).
The import is compared with the faster of the two: encoding is the floor.
Above the sample size a fixed random sample of cases (bench.workload.read_cases) is
encoded and the rate extrapolated: the rate is per text, and texts per case vary little.
"""

from __future__ import annotations

import time

BATCH_TEXTS = 256


def encoder_throughput(chosen: list[dict], total: int, spec: str) -> dict:
    """Encode the texts of `chosen` cases (all `total` cases, or a sample of them)."""
    from search.encoders import get_encoder
    from search.index import passage_texts

    t0 = time.perf_counter()
    encoder = get_encoder(spec)
    load_s = time.perf_counter() - t0
    texts = [t for c in chosen for t in passage_texts(c["title"], c["situation"])]
    t0 = time.perf_counter()
    encoder.encode(texts[:64])
    first_call_s = time.perf_counter() - t0

    def rate(seconds: float) -> dict:
        return {
            "seconds": round(seconds, 2),
            "texts_per_s": round(len(texts) / seconds, 1),
            "cases_per_s": round(len(chosen) / seconds, 1),
        }

    t0 = time.perf_counter()
    for start in range(0, len(texts), BATCH_TEXTS):
        encoder.encode(texts[start : start + BATCH_TEXTS])
    out: dict = {
        "encoder": encoder.id,
        "load_s": round(load_s, 2),
        "first_call_s": round(first_call_s, 2),
        "cases_encoded": len(chosen),
        "sampled": len(chosen) < total,
        "texts": len(texts),
        "texts_per_case": round(len(texts) / len(chosen), 2),
        "single": rate(time.perf_counter() - t0),
    }
    if hasattr(encoder, "encode_bulk"):
        t0 = time.perf_counter()
        encoder.encode_bulk(texts)
        out["bulk"] = rate(time.perf_counter() - t0)
    out["cases_per_s"] = max(out[k]["cases_per_s"] for k in ("single", "bulk") if k in out)
    return out
