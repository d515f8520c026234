"""Peak memory of building a base segment (`SearchIndex.merged()` + `save()`), as `reindex --compact` does.

    python -m bench.merge_memory --cases 100000 --work /tmp/merge-bench

Two processes, so each peak is its own:
1. setup: a saved index of N synthetic cases, all in one base: random unit 512-d float32 vectors
   (2-3 passages per case, 2.7 on average as the generated corpus has) and ~150 BM25 tokens per case
   drawn from a Zipf vocabulary of 60,000 words. No encoder runs: the index's sizes are what matter.
2. merge: load that index, re-add 1,000 cases (their old rows die) and remove 1,000, then build
   the new base and save it. Its peak RSS (`resource.getrusage`, ru_maxrss) is the figure, with the
   RSS right after loading for comparison.
The same script measures older code: it passes the index directory to `merged()` only when that
accepts one. Prints one JSON line per phase.
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from search.index import AppendSegment, Facets, SearchIndex

DIM = 512
VOCABULARY = 60_000
TOKENS_PER_CASE = 150
CHANGED = 1_000


class RandomEncoder:
    """Only its id and dimension are used: the benchmark hands the index its vectors."""

    id = "bench-random-512"
    dim = DIM


def synthetic_segment(first: int, n: int, seed: int) -> AppendSegment:
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 4, size=n).astype(np.int64)  # 2 or 3 passages: 2.5 on average
    counts[rng.random(n) < 0.2] += 1
    vectors = rng.standard_normal((int(counts.sum()), DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    facets = Facets()
    for case in range(first, first + n):
        facets.ids.append(f"c{case}")
        facets.iris.append(f"https://w3id.org/maatwerk/id/casus/c{case}")
        facets.stamps.append(f"s{seed}")
        facets.status.append("gepubliceerd")
        facets.year.append(2020 + case % 5)
        facets.concepts.append([f"https://w3id.org/maatwerk/id/concept/k{case % 97}"])
        facets.knelpunttypen.append([])
        facets.alive.append(True)
    words = np.minimum(rng.zipf(1.3, size=(n, TOKENS_PER_CASE)), VOCABULARY)
    tokens = [[f"woord{w}" for w in row] for row in words.tolist()]
    return AppendSegment(vectors, counts, facets, tokens)


def merged(index: SearchIndex, directory: Path) -> SearchIndex:
    if "directory" in inspect.signature(SearchIndex.merged).parameters:
        return index.merged(directory=directory)
    return index.merged()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb(key: str = "VmRSS") -> int:
    """A line of /proc/self/status (VmRSS, RssAnon, RssFile), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0]) // 1024
    raise KeyError(key)


class RssSampler(threading.Thread):
    """The peak of anonymous (heap) and file-backed (memory-mapped) resident memory, every 0.1 s:
    ru_maxrss counts both, but only the first must fit; mapped file pages can be dropped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = {"RssAnon": 0, "RssFile": 0}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            for key in self.peak:
                self.peak[key] = max(self.peak[key], current_mb(key))


def setup(cases: int, directory: Path) -> dict:
    started = time.perf_counter()
    index = SearchIndex(RandomEncoder())  # type: ignore[arg-type]
    batch = 50_000
    for first in range(0, cases, batch):  # in batches: the setup's own peak stays moderate
        index._change([], synthetic_segment(first, min(batch, cases - first), seed=first))
        index = merged(index, directory)
        index.save(directory)
    return {"phase": "setup", "cases": cases, "seconds": round(time.perf_counter() - started, 1)}


def merge(cases: int, directory: Path) -> dict:
    index = SearchIndex.load(directory, RandomEncoder())  # type: ignore[arg-type]
    assert index is not None
    loaded, loaded_anon = current_mb(), current_mb("RssAnon")
    changed = synthetic_segment(0, CHANGED, seed=999)  # the first CHANGED cases again: their base rows die
    index._change(changed.facets.iris, changed)
    index.remove([f"https://w3id.org/maatwerk/id/casus/c{c}" for c in range(cases - CHANGED, cases)])
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    fresh = merged(index, directory)
    fresh.save(directory)
    sampler.done.set()
    return {
        "phase": "merge",
        "cases": cases,
        "passages": int(fresh.row_offsets[-1]),
        "rss_after_load_mb": loaded,
        "anon_after_load_mb": loaded_anon,
        "peak_rss_mb": round(peak_mb()),
        "peak_anon_mb": sampler.peak["RssAnon"],
        "peak_file_mb": sampler.peak["RssFile"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--phase", choices=["setup", "merge"], help="internal: run one phase in this process")
    args = parser.parse_args()
    directory = args.work / f"index-{args.cases}"
    if args.phase:
        print(json.dumps((setup if args.phase == "setup" else merge)(args.cases, directory)), flush=True)
        return
    shutil.rmtree(directory, ignore_errors=True)
    for phase in ("setup", "merge"):
        command = [sys.executable, "-m", "bench.merge_memory", "--cases", str(args.cases), "--work", str(args.work)]
        subprocess.run([*command, "--phase", phase], check=True)


if __name__ == "__main__":
    main()
