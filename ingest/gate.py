"""The privacy gate as the checker calls it: in this process, or run ahead in worker processes.

On a large import the gate (Deduce and the patterns of ingest/anonymise.py) is about 70 % of
checking a record, and it needs nothing but the text. `GateAhead` reads records a few batches
ahead of the checker and sends their gated texts to one worker process per core; the checker
then finds each answer waiting. What the gate decides does not change: the workers run the same
functions on the same texts, and a text they did not see is gated here.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any

from graph.case import ID_FIELD, gated_texts
from ingest.anonymise import Finding, find_personal_data, redact

# Below this many records the workers' start (each loads Deduce: ~2 s) costs more than it saves.
AHEAD_MIN_RECORDS = 2_000
BATCH_RECORDS = 200
BATCHES_PER_WORKER = 3  # in flight per worker: enough to keep it busy, few enough to bound memory

Redacted = tuple[str, list[Finding]]


class Gate:
    """The gate, run here."""

    def find(self, text: str) -> list[Finding]:
        return find_personal_data(text)

    def redact(self, text: str) -> Redacted:
        return redact(text)

    def records(self, records: Iterable[tuple[str, Any]]) -> Iterable[tuple[str, Any]]:
        return records


class GateAhead(Gate):
    """The gate run ahead of the checker by worker processes; `records()` must wrap the records read."""

    def __init__(self, redacting: bool, workers: int | None = None):
        self.redacting = redacting
        self.workers = workers or usable_cores()
        self._found: dict[str, list[Finding]] = {}
        self._redacted: dict[str, Redacted] = {}

    def find(self, text: str) -> list[Finding]:
        found = self._found.get(text)
        return found if found is not None else find_personal_data(text)

    def redact(self, text: str) -> Redacted:
        done = self._redacted.get(text)
        return done if done is not None else redact(text)

    def records(self, records: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
        """The records as read, each batch yielded once its gate answers are in."""
        source = iter(records)
        # spawn, not fork: the importing process has threads (progress, the store) a fork would copy mid-lock
        with ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            pending: deque[tuple[list, Future]] = deque()
            while True:
                while len(pending) < self.workers * BATCHES_PER_WORKER:
                    batch = list(islice(source, BATCH_RECORDS))
                    if not batch:
                        break
                    pending.append((batch, pool.submit(_gated, _texts_of(batch), self.redacting)))
                if not pending:
                    return
                batch, answers = pending.popleft()
                self._found, self._redacted = answers.result()
                yield from batch


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _texts_of(batch: list[tuple[str, Any]]) -> tuple[list[str], list[str]]:
    """(texts to search, texts to redact) of a batch, as the checker will gate them: ids are only ever
    searched (refused, never redacted), the other texts stripped."""
    ids, others = [], []
    for _, raw in batch:
        if not isinstance(raw, dict):
            continue
        if isinstance(raw.get(ID_FIELD), (str, int)):
            ids.append(str(raw[ID_FIELD]))
        for name, value in gated_texts(raw):
            if name != ID_FIELD and isinstance(value, str):
                others.append(value.strip())
    return ids, others


def _gated(texts: tuple[list[str], list[str]], redacting: bool) -> tuple[dict, dict]:
    """In a worker: the gate's answers for a batch's texts."""
    ids, others = texts
    if redacting:
        return {t: find_personal_data(t) for t in ids}, {t: redact(t) for t in others}
    return {t: find_personal_data(t) for t in ids + others}, {}
