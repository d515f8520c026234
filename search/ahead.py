"""Passage vectors of cases, encoded in groups of whole cases in the order the cases are fed.

A large import feeds each case here as soon as it passes its checks (api/core.py), so worker
processes encode while the importing process checks and writes the next cases; the index sync
after the commit then only copies the vectors in. The sync feeds the cases nobody fed ahead the
same way, in the same order (the import's order), so a case's vectors are the same bits whether
they were encoded ahead or after the commit: USE's result depends on the texts encoded with it.

Nothing here touches the store or the index: a refused or killed import leaves only vectors
in an unlinked temporary file, gone with the process.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from graph.cases import CaseDoc
from search.encoders import EncodePool, Encoder
from search.index import passage_texts

# Texts per group sent to a worker: ~0.6 s of USE, so a worker's wait for the next request (the
# importing process holds the GIL most of the time) is small next to its work.
GROUP_TEXTS = 256
# In this process, groups stay small: a search waiting for the encoder waits for one group.
IN_PROCESS_GROUP_TEXTS = 32
Progress = Callable[[int], None]


class EncodedCases:
    """The passage vectors of the cases fed, by case IRI: in memory, or in a temporary file."""

    def __init__(self, dim: int, spans: dict[str, tuple[int, int]], memory: np.ndarray | None, fd: int | None):
        self.dim = dim
        self._spans = spans  # case IRI -> (first row, rows)
        self._memory = memory
        self._fd = fd

    def __contains__(self, case_iri: str) -> bool:
        return case_iri in self._spans

    def vectors(self, docs: list[CaseDoc]) -> np.ndarray:
        """The passage vectors of `docs`, in order, one case's rows after the other."""
        parts = [self._rows(*self._spans[d.iri]) for d in docs]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def _rows(self, first: int, rows: int) -> np.ndarray:
        if self._memory is not None:
            return self._memory[first : first + rows]
        assert self._fd is not None
        size = rows * self.dim * 4
        # read, not memory-mapped: a million cases' vectors must not count as the importer's memory
        data = os.pread(self._fd, size, first * self.dim * 4)
        return np.frombuffer(data, dtype="<f4").reshape(rows, self.dim)


class CaseEncoder:
    """Feed cases, then `finish()` for their vectors. With `workers`, groups go to worker processes as
    they fill (their vectors to a temporary file in `spill_dir`); without, they are encoded in `finish()`."""

    def __init__(self, encoder: Encoder, workers: int = 0, spill_dir: Path | None = None):
        self.encoder = encoder
        self._group_texts = GROUP_TEXTS if workers else IN_PROCESS_GROUP_TEXTS
        self._spans: dict[str, tuple[int, int]] = {}
        self._rows = 0  # passage rows fed so far
        self._group: list[str] = []
        self._group_first = 0  # first row of the open group
        self._groups: list[tuple[int, list[str]]] = []  # in-process: encoded in finish()
        self._sent = 0
        self._pool: EncodePool | None = None
        self._fd: int | None = None
        self._answered = 0
        self._stored_rows = 0
        if workers:
            self._fd, name = tempfile.mkstemp(prefix="vectors-ahead-", dir=spill_dir)
            os.unlink(name)  # at once: whatever ends this process, nothing is left behind
            self._pool = EncodePool(encoder, workers)

    def __contains__(self, case_iri: str) -> bool:
        return case_iri in self._spans

    def feed(self, doc: CaseDoc) -> None:
        texts = passage_texts(doc.title, doc.situation)
        self._spans[doc.iri] = (self._rows, len(texts))
        self._rows += len(texts)
        self._group.extend(texts)
        if len(self._group) >= self._group_texts:  # groups end at a case's end: the order alone decides them
            self._close_group()

    def _close_group(self) -> None:
        if not self._group:
            return
        group, first = self._group, self._group_first
        self._group, self._group_first = [], self._rows
        if self._pool is not None:
            self._pool.submit(first, group)
            self._sent += 1
            self._store_answers(block=False)  # as they come: vectors do not pile up in memory
        else:
            self._groups.append((first, group))

    def finish(self, progress: Progress | None = None) -> EncodedCases:
        """Wait for every group; progress(n) counts cases as their groups come in."""
        self._close_group()
        per_case = self._rows / max(len(self._spans), 1)
        if self._pool is None:
            memory = np.empty((self._rows, self.encoder.dim), dtype=np.float32)
            for first, group in self._groups:
                memory[first : first + len(group)] = self.encoder.encode(group)
                if progress:
                    progress(round(len(group) / per_case))
            self._groups = []
            return EncodedCases(self.encoder.dim, self._spans, memory, None)
        if progress and self._stored_rows:
            progress(round(self._stored_rows / per_case))  # what was encoded while the import checked
        while self._answered < self._sent:
            rows = self._store_answers(block=True)
            if progress:
                progress(round(rows / per_case))
        return EncodedCases(self.encoder.dim, self._spans, None, self._fd)

    def _store_answers(self, block: bool) -> int:
        """Write finished groups' vectors to the file: the next one (`block`), or all finished now; the rows."""
        assert self._pool is not None and self._fd is not None
        rows = 0
        while self._answered < self._sent:
            answer = self._pool.result(block)
            if answer is None:
                break
            first, vectors = answer
            os.pwrite(self._fd, np.ascontiguousarray(vectors, dtype="<f4").tobytes(), first * self.encoder.dim * 4)
            self._answered += 1
            rows += len(vectors)
            if block:
                break
        self._stored_rows += rows
        return rows

    def close(self) -> None:
        """Stop the workers and drop the vectors (after the sync used them, or when the import failed)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CaseEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
