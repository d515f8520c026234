"""Recall, speed and size of compressed dense indexes against exact search, on a saved index's vectors.

    python -m bench.recall --index-dir DATA/index [--queries 300] [--cells C] [--synthetic N --work DIR]

Reads `vectors.npy` (memory-mapped, read-only), `passage_row.npy`, `row_offsets.npy` and the
alive rows of the facets (the `facets/alive.npy` column, or `facets.json` of a base not yet
converted) from the index's base (the append segment is left out); it never opens the data dir with
maatwerk and writes nothing.

Queries, in three equal parts (fixed seeds):
- gold: queries of the labelled set (search/eval/gold.jsonl), encoded with the index's encoder;
- new: situations of generated cases with seed 2 (the benchmark corpus uses seed 1), alternately
  whole and their first sentence, encoded: text the index has never seen;
- similar: the mean of a random case's passage vectors with that case excluded, which is what
  "similar cases" of a stored case asks (excluding a row takes the engine's filtered path).

Truth is exact inner-product search over every passage, reduced to cases as the engine does (a
case scores its best passage), top 10. Each candidate index draws up `shortlist` passages,
re-ranks them with their exact inner products (search.index.nearest_passages, the code the
engine runs) and keeps the best 10 cases. recall@10 counts a returned case as right when its
exact score reaches the 10th best exact score: generated cases share sentences, so many cases
tie and any of them is a right answer; "same ids" is the plain overlap with the exact top 10.
Latency is one query at a time (faiss with its default threads, as the server runs it): search,
re-rank, best case per row, top 10. Index size is faiss's serialised size (≈ its resident memory).

`--cells C` builds the indexes with C cells instead of the shipped 2*sqrt(passages), to probe
the same share of the cells as at a larger scale (1M cases ≈ 2.7M passages ≈ 3,300 cells).
`--synthetic N` also builds the shipped index over N synthetic vectors (the real ones plus
Gaussian noise, renormalised, written under --work) to measure build time, size and latency at
that scale; recall there would say nothing about real text, so it is not reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from search.engine import _best_per_row, _top_rows
from search.index import IVF_NPROBE, IVF_TRAIN_ITERATIONS, _ivf_index, _training_sample, ivf_cells, nearest_passages

K = 10
SEED = 2
SHIPPED_SHORTLIST = 800  # search.engine: CANDIDATES * 4 passages
TIE = 1e-5  # float32 rounding between the exact matrix product and a re-rank of the same vectors


@dataclass
class Corpus:
    vectors: np.ndarray  # passages x dim, memory-mapped
    passage_row: np.ndarray
    row_offsets: np.ndarray
    alive: np.ndarray
    encoder: str


@dataclass
class Query:
    kind: str
    vector: np.ndarray
    exclude: int = -1  # a case row the answer may not contain


def load(index_dir: Path) -> Corpus:
    base, encoder = _base_dir(index_dir)
    columns = base / "facets" / "alive.npy"
    if columns.exists():
        alive = np.load(columns)
    else:
        alive = np.asarray(json.loads((base / "facets.json").read_text())["alive"], dtype=bool)
    return Corpus(
        np.load(base / "vectors.npy", mmap_mode="r"),
        np.load(base / "passage_row.npy"),
        np.load(base / "row_offsets.npy"),
        alive,
        encoder,
    )


def _base_dir(index_dir: Path) -> tuple[Path, str]:
    """The directory holding the vectors, and the encoder: a segmented index (`manifest.json`) keeps
    them in its base; an older single-directory index (`meta.json`) in itself."""
    manifest = index_dir / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        return index_dir / meta["base"], meta["encoder"]
    return index_dir, json.loads((index_dir / "meta.json").read_text())["encoder"]


def queries(corpus: Corpus, n: int) -> list[Query]:
    from ingest.generate import generate
    from search.encoders import get_encoder
    from search.evaluate import load_gold

    rng = np.random.default_rng(SEED)
    part = max(n // 3, 1)
    gold = [g.query for g in load_gold()]
    gold = [gold[i] for i in sorted(rng.choice(len(gold), min(part, len(gold)), replace=False))]
    new = []
    for i, case in enumerate(generate(part, seed=SEED)):
        situation = case["situation"]
        new.append(situation if i % 2 else re.split(r"(?<=\.)\s", situation, maxsplit=1)[0])
    encoder = get_encoder(corpus.encoder)
    out = [Query("gold", v) for v in encoder.encode(gold)] + [Query("new", v) for v in encoder.encode(new)]
    for row in rng.choice(np.flatnonzero(corpus.alive), part, replace=False):
        a, b = corpus.row_offsets[row], corpus.row_offsets[row + 1]
        mean = np.asarray(corpus.vectors[a:b]).mean(axis=0)
        out.append(Query("similar", (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32), int(row)))
    return out


def exact_truth(corpus: Corpus, qs: list[Query], rows_per_block: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Per query: the exact top-10 case rows and the 10th best case score."""
    q = np.stack([x.vector for x in qs]).astype(np.float32)
    n_rows = len(corpus.row_offsets) - 1
    case_scores = np.empty((n_rows, len(qs)), dtype=np.float32)
    for r0 in range(0, n_rows, rows_per_block):
        r1 = min(r0 + rows_per_block, n_rows)
        a, b = corpus.row_offsets[r0], corpus.row_offsets[r1]
        sims = np.asarray(corpus.vectors[a:b], dtype=np.float32) @ q.T
        case_scores[r0:r1] = np.maximum.reduceat(sims, corpus.row_offsets[r0:r1] - a, axis=0)
    case_scores[~corpus.alive] = -np.inf
    for j, x in enumerate(qs):
        if x.exclude >= 0:
            case_scores[x.exclude, j] = -np.inf
    top = np.argpartition(-case_scores, K, axis=0)[:K].T
    tenth = np.take_along_axis(case_scores.T, top, axis=1).min(axis=1)
    return top, tenth


@dataclass
class Row:
    index: str
    nprobe: int
    shortlist: int
    recall: float
    same_ids: float
    recall_by_kind: dict[str, float]
    p50_ms: float
    p99_ms: float
    size_mb: float
    train_s: float
    add_s: float


def run_queries(corpus: Corpus, dense: faiss.Index, qs: list[Query], nprobe: int, shortlist: int):
    """Per query: the top-10 case rows with their exact scores, and the time it took (as search.engine._dense)."""
    results, times = [], []
    for x in qs:
        allowed = corpus.alive.copy()
        if x.exclude >= 0:
            allowed[x.exclude] = False
        query = x.vector.reshape(1, -1)
        start = time.perf_counter()
        bitmap = None
        if not allowed.all():  # the engine's filtered path: a bitmap of the allowed passages
            bitmap = np.packbits(allowed[corpus.passage_row], bitorder="little")
        params = _params(dense, bitmap, len(corpus.passage_row), nprobe)
        scores, ids = nearest_passages(dense, corpus.vectors, query, min(shortlist, dense.ntotal), params)
        best = _best_per_row(corpus.passage_row, scores, ids)
        rows = np.fromiter(best, dtype=np.int64, count=len(best))
        values = np.fromiter(best.values(), dtype=np.float32, count=len(best))
        top = _top_rows(values, K)
        times.append((time.perf_counter() - start) * 1000)
        results.append((rows[top], values[top]))
    return results, times


def _params(dense: faiss.Index, bitmap: np.ndarray | None, n: int, nprobe: int) -> faiss.SearchParameters | None:
    """The caller keeps `bitmap` alive during the search: the selector only points at it."""
    selector = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bitmap)) if bitmap is not None else None
    if isinstance(dense, faiss.IndexIVF):
        return faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)  # type: ignore[call-arg]
    return faiss.SearchParameters(sel=selector) if selector is not None else None  # type: ignore[call-arg]


def score(results, truth: tuple[np.ndarray, np.ndarray], qs: list[Query]) -> tuple[float, float, dict[str, float]]:
    top, tenth = truth
    right, same = [], []
    for (rows, values), exact_top, s10 in zip(results, top, tenth, strict=True):
        right.append(float(np.sum(values >= s10 - TIE)) / K)
        same.append(len(set(rows.tolist()) & set(exact_top.tolist())) / K)
    by_kind = {
        kind: statistics.fmean(r for r, x in zip(right, qs, strict=True) if x.kind == kind)
        for kind in dict.fromkeys(x.kind for x in qs)
    }
    return statistics.fmean(right), statistics.fmean(same), by_kind


# --- candidate indexes ---------------------------------------------------------------


def coarse_quantizer(vectors: np.ndarray, cells: int) -> tuple[faiss.Index, float]:
    """k-means cells trained as `_ivf_index` trains them (inner product), once, shared by every candidate."""
    dim = vectors.shape[1]
    start = time.perf_counter()
    quantizer = faiss.IndexFlatIP(dim)
    trainer = faiss.IndexIVFFlat(quantizer, dim, cells, faiss.METRIC_INNER_PRODUCT)
    trainer.cp.niter = IVF_TRAIN_ITERATIONS
    trainer.train(_training_sample(vectors, cells))
    return quantizer, time.perf_counter() - start


def candidates(dim: int) -> dict[str, Callable[[faiss.Index, int], faiss.Index]]:
    ip = faiss.METRIC_INNER_PRODUCT
    sq = faiss.ScalarQuantizer

    def scalar(qtype: int) -> Callable[[faiss.Index, int], faiss.IndexIVF]:
        return lambda quantizer, cells: faiss.IndexIVFScalarQuantizer(quantizer, dim, cells, qtype, ip)

    def product(m: int) -> Callable[[faiss.Index, int], faiss.IndexIVF]:
        return lambda quantizer, cells: faiss.IndexIVFPQ(quantizer, dim, cells, m, 8, ip)

    return {
        "Flat (exact; checks this benchmark)": lambda quantizer, cells: faiss.IndexFlatIP(dim),
        "IVF,Flat (before)": lambda quantizer, cells: faiss.IndexIVFFlat(quantizer, dim, cells, ip),
        "IVF,SQfp16": scalar(sq.QT_fp16),
        "IVF,SQ8": scalar(sq.QT_8bit),
        "IVF,SQ4": scalar(sq.QT_4bit),
        "IVF,PQ128": product(128),
        "IVF,PQ64": product(64),
    }


def build(make, quantizer: faiss.Index, cells: int, vectors: np.ndarray) -> tuple[faiss.Index, float, float]:
    index = make(quantizer, cells)
    start = time.perf_counter()
    if not index.is_trained:
        index.train(_training_sample(vectors, cells))  # the codec only: the cells are already trained
    trained = time.perf_counter()
    for a in range(0, len(vectors), 100_000):
        index.add(np.ascontiguousarray(vectors[a : a + 100_000], dtype=np.float32))
    return index, trained - start, time.perf_counter() - trained


def size_mb(index: faiss.Index) -> float:
    return len(faiss.serialize_index(index)) / 2**20


def measure(
    corpus: Corpus, qs: list[Query], cells: int | None, names: list[str], nprobes: list[int], shortlists: list[int]
) -> list[Row]:
    truth = exact_truth(corpus, qs)
    cells = cells or ivf_cells(len(corpus.vectors))
    quantizer, kmeans_s = coarse_quantizer(corpus.vectors, cells)
    print(f"cells: {cells}, k-means on the training sample: {kmeans_s:.1f} s", flush=True)
    out = []
    for name, make in candidates(corpus.vectors.shape[1]).items():
        if names and name.split(" ")[0] not in names:
            continue
        dense, train_s, add_s = build(make, quantizer, cells, corpus.vectors)
        mb = size_mb(dense)
        for nprobe in nprobes:
            for shortlist in shortlists:
                results, times = run_queries(corpus, dense, qs, nprobe, shortlist)
                recall, same, by_kind = score(results, truth, qs)
                p50, p99 = np.percentile(times, [50, 99])
                out.append(Row(name, nprobe, shortlist, recall, same, by_kind, p50, p99, mb, train_s, add_s))
                print(_line(out[-1]), flush=True)
    return out


def synthetic(corpus: Corpus, qs: list[Query], n: int, work: Path, nprobes: list[int]) -> list[dict]:
    """The shipped index over n synthetic vectors: build time, size and latency only."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"synthetic-{n}.npy"
    dim = corpus.vectors.shape[1]
    rng = np.random.default_rng(SEED)
    vectors = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    for a in range(0, n, 100_000):
        b = min(a + 100_000, n)
        base = np.asarray(corpus.vectors[np.arange(a, b) % len(corpus.vectors)], dtype=np.float32)
        noisy = base + rng.normal(0, 0.02, base.shape).astype(np.float32)
        vectors[a:b] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    vectors.flush()
    del vectors
    mapped = np.load(path, mmap_mode="r")
    start = time.perf_counter()
    dense = _ivf_index(mapped)
    build_s = time.perf_counter() - start
    faiss.write_index(dense, str(work / "dense.faiss"))
    start = time.perf_counter()
    dense = faiss.read_index(str(work / "dense.faiss"))  # what opening the index costs (page cache warm)
    load_s = time.perf_counter() - start
    rows_per_case = len(corpus.vectors) / max(len(corpus.row_offsets) - 1, 1)
    cases = int(n / rows_per_case)
    passage_row = np.minimum((np.arange(n) / rows_per_case).astype(np.int32), cases - 1)
    offsets = np.searchsorted(passage_row, np.arange(cases + 1)).astype(np.int64)
    big = Corpus(mapped, passage_row, offsets, np.ones(cases, dtype=bool), corpus.encoder)
    out = []
    for nprobe in nprobes:
        _, times = run_queries(big, dense, qs, nprobe, SHIPPED_SHORTLIST)
        p50, p99 = np.percentile(times, [50, 99])
        out.append(
            {
                "vectors": n,
                "cells": ivf_cells(n),
                "nprobe": nprobe,
                "p50_ms": float(p50),
                "p99_ms": float(p99),
                "size_mb": size_mb(dense),
                "build_s": build_s,
                "load_s": load_s,
            }
        )
        print(out[-1], flush=True)
    os.remove(path)
    os.remove(work / "dense.faiss")
    return out


# --- report ------------------------------------------------------------------------


def _line(r: Row) -> str:
    kinds = " / ".join(f"{v:.3f}" for v in r.recall_by_kind.values())
    return (
        f"| {r.index} | {r.nprobe} | {r.shortlist} | {r.recall:.3f} | {kinds} | {r.same_ids:.3f} | "
        f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.size_mb:,.0f} | {r.train_s:.1f} + {r.add_s:.1f} |"
    )


def table(rows: list[Row], qs: list[Query]) -> str:
    kinds = " / ".join(dict.fromkeys(x.kind for x in qs))
    head = (
        f"| index | nprobe | shortlist | recall@10 | by query kind ({kinds}) | same ids | p50 ms | p99 ms "
        "| index MiB | train + add s |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    return "\n".join([head, *map(_line, rows)])


def synthetic_table(rows: list[dict]) -> str:
    head = (
        "| vectors | cells | nprobe | shortlist | p50 ms | p99 ms | index MiB | build s | load s |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"| {r['vectors']:,} | {r['cells']:,} | {r['nprobe']} | {SHIPPED_SHORTLIST} | {r['p50_ms']:.2f} | "
        f"{r['p99_ms']:.2f} | {r['size_mb']:,.0f} | {r['build_s']:.0f} | {r['load_s']:.1f} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.recall", description=__doc__.split("\n\n")[0])
    p.add_argument("--index-dir", type=Path, required=True, help="a saved search index (DATA/index)")
    p.add_argument("--queries", type=int, default=300, help="queries, a third of each kind (default 300)")
    p.add_argument("--cells", type=int, default=None, help="cells of every IVF candidate (default: as shipped)")
    p.add_argument("--nprobe", default=f"16,{IVF_NPROBE},64", help="comma-separated nprobe values")
    p.add_argument("--shortlist", default=f"100,{SHIPPED_SHORTLIST}", help="comma-separated shortlist sizes")
    p.add_argument("--indexes", default="", help="semicolon-separated subset, e.g. 'IVF,Flat;IVF,SQ8' (default: all)")
    p.add_argument("--synthetic", type=int, default=0, help="also time the shipped index at this many vectors")
    p.add_argument("--work", type=Path, default=Path("bench/out/recall"), help="where synthetic vectors go")
    args = p.parse_args(argv)
    nprobes = [int(v) for v in args.nprobe.split(",")]
    corpus = load(args.index_dir)
    qs = queries(corpus, args.queries)
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load {os.getloadavg()[0]:.2f}; "
        f"{len(corpus.vectors):,} passages of {int(corpus.alive.sum()):,} cases ({corpus.encoder}), "
        f"{len(qs)} queries; faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads",
        flush=True,
    )
    names = [n for n in args.indexes.split(";") if n]
    rows = measure(corpus, qs, args.cells, names, nprobes, [int(v) for v in args.shortlist.split(",")])
    print("\n" + table(rows, qs))
    if args.synthetic:
        print("\n" + synthetic_table(synthetic(corpus, qs, args.synthetic, args.work, nprobes)))


if __name__ == "__main__":
    main()
