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
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from graph.cases import CaseDoc
from search.encoders import IN_PROCESS_CHUNK_TEXTS, EncodePool, Encoder
from search.index import passage_texts

# Texts per group sent to a worker: ~0.6 s of USE, so a worker's wait for the next request (the
# importing process holds the GIL most of the time) is small next to its work.
GROUP_TEXTS = 256
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
        """The passage vectors of `docs`, in order, one case's rows after the other: read straight into
        one new array, a run of cases stored one after the other at a time (no second copy)."""
        out = np.empty((sum(self._spans[d.iri][1] for d in docs), self.dim), dtype=np.float32)
        at = 0
        for first, rows in self._runs(docs):
            self._read(first, out[at : at + rows])
            at += rows
        return out

    def _runs(self, docs: list[CaseDoc]) -> Iterator[tuple[int, int]]:
        """(first row, rows) of `docs`' vectors, neighbours in the file joined."""
        run_first, run_rows = 0, 0
        for doc in docs:
            first, rows = self._spans[doc.iri]
            if run_rows and first == run_first + run_rows:
                run_rows += rows
                continue
            if run_rows:
                yield run_first, run_rows
            run_first, run_rows = first, rows
        if run_rows:
            yield run_first, run_rows

    def _read(self, first: int, into: np.ndarray) -> None:
        if self._memory is not None:
            into[:] = self._memory[first : first + len(into)]
            return
        assert self._fd is not None
        # read, not memory-mapped: a million cases' vectors must not count as the importer's memory
        buffer, offset = into.data.cast("B"), first * self.dim * 4
        while buffer:
            got = os.preadv(self._fd, [buffer], offset)
            if got <= 0:
                raise OSError("vectors-ahead: file shorter than its vectors")
            buffer, offset = buffer[got:], offset + got


class CaseEncoder:
    """Feed cases, then `finish()` for their vectors. With `workers`, groups go to worker processes as
    they fill and a thread writes their vectors to a temporary file in `spill_dir` as they come back;
    without, they are encoded in `finish()`. A group holds its cases, not their texts: a backlog of
    a million cases costs a list of references (the caller keeps the docs anyway)."""

    def __init__(self, encoder: Encoder, workers: int = 0, spill_dir: Path | None = None):
        self.encoder = encoder
        self._group_texts = GROUP_TEXTS if workers else IN_PROCESS_CHUNK_TEXTS  # a search waits for one group
        self._spans: dict[str, tuple[int, int]] = {}
        self._rows = 0  # passage rows fed so far
        self._group: list[CaseDoc] = []
        self._group_first = 0  # first row of the open group
        self._group_rows = 0
        self._groups: list[tuple[int, list[CaseDoc]]] = []  # in-process: encoded in finish()
        self._pool: EncodePool | None = None
        self._fd: int | None = None
        self._sent = 0
        self._stored = 0  # groups written to the file
        self._stored_rows = 0
        self._failed: BaseException | None = None
        self._changed = threading.Condition()
        if workers:
            self._fd, name = tempfile.mkstemp(prefix="vectors-ahead-", dir=spill_dir)
            os.unlink(name)  # at once: whatever ends this process, nothing is left behind
            self._pool = EncodePool(encoder, workers)
            threading.Thread(target=self._store_answers, args=(self._pool, self._fd), daemon=True).start()

    def __contains__(self, case_iri: str) -> bool:
        return case_iri in self._spans

    def feed(self, doc: CaseDoc) -> None:
        rows = len(passage_texts(doc.title, doc.situation))
        self._spans[doc.iri] = (self._rows, rows)
        self._rows += rows
        self._group.append(doc)
        self._group_rows += rows
        if self._group_rows >= self._group_texts:  # groups end at a case's end: the order alone decides them
            self._close_group()

    def _close_group(self) -> None:
        if not self._group:
            return
        group, first = self._group, self._group_first
        self._group, self._group_first, self._group_rows = [], self._rows, 0
        if self._pool is not None:
            self._pool.submit(first, lambda: _texts(group))
            self._sent += 1
        else:
            self._groups.append((first, group))

    def finish(self, progress: Progress | None = None) -> EncodedCases:
        """Wait for every group; progress(n) counts cases as their groups come in."""
        self._close_group()
        per_case = self._rows / max(len(self._spans), 1)
        if self._pool is None:
            memory = np.empty((self._rows, self.encoder.dim), dtype=np.float32)
            for first, group in self._groups:
                texts = _texts(group)
                memory[first : first + len(texts)] = self.encoder.encode(texts)
                if progress:
                    progress(len(group))
            self._groups = []
            return EncodedCases(self.encoder.dim, self._spans, memory, None)
        told = 0  # rows told to `progress`
        with self._changed:
            while True:
                if self._failed is not None:
                    raise RuntimeError("Een encoder-proces is onverwacht gestopt") from self._failed
                if progress and self._stored_rows > told:
                    progress(round((self._stored_rows - told) / per_case))
                    told = self._stored_rows
                if self._stored == self._sent:
                    break
                self._changed.wait()
        return EncodedCases(self.encoder.dim, self._spans, None, self._fd)

    def _store_answers(self, pool: EncodePool, fd: int) -> None:
        """In a thread: write each group's vectors to the file as it comes back (none pile up in memory)."""
        try:
            while True:
                first, vectors = pool.result()  # type: ignore[misc]  # blocking: never None
                data = np.ascontiguousarray(vectors, dtype="<f4").tobytes()
                if os.pwrite(fd, data, first * self.encoder.dim * 4) != len(data):
                    raise OSError("vectors-ahead: short write")
                with self._changed:
                    self._stored += 1
                    self._stored_rows += len(vectors)
                    self._changed.notify_all()
        except BaseException as exc:  # a worker died, or close() stopped the pool
            with self._changed:
                self._failed = exc
                self._changed.notify_all()

    def close(self) -> None:
        """Stop the workers and drop the vectors (after the sync used them, or when the import failed)."""
        if self._pool is not None:
            self._pool.close()  # ends the writer thread too (its next result() fails)
            self._pool = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CaseEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _texts(group: list[CaseDoc]) -> list[str]:
    return [t for doc in group for t in passage_texts(doc.title, doc.situation)]
