"""Feedback on search results ("nuttig", "niet nuttig", "dit is de casus die ik zocht"), kept in SQLite.

Feedback is about how people use the search, not knowledge about cases, so it lives in the data
directory beside the store, not in the graph. The query text is kept only when the privacy gate
finds no personal data in it; otherwise only the vote is kept. No identity is kept unless the
caller passes the signed-in account. `export_pairs` turns the votes into labelled queries in the
format of search/eval/gold.jsonl, so the evaluation set can grow from real use (after review).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.anonymise import find_personal_data

VOTES = ("nuttig", "niet_nuttig", "gezocht")
VOTE_LABELS = {"nuttig": "nuttig", "niet_nuttig": "niet nuttig", "gezocht": "dit is de casus die ik zocht"}
FILE_NAME = "feedback.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,      -- UTC, ISO 8601
    week TEXT NOT NULL,         -- ISO week, e.g. 2026-W49
    query TEXT,                 -- NULL when the gate found personal data in it
    case_id TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('nuttig', 'niet_nuttig', 'gezocht')),
    account TEXT                -- the signed-in writer, else NULL
)
"""


@dataclass(frozen=True)
class Stored:
    """What was kept of one vote: whether its query text was (False when the gate refused the text)."""

    id: int
    query_kept: bool


class FeedbackStore:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / FILE_NAME
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            connection.execute(_SCHEMA)
            connection.commit()
            self._ready = True
        return connection

    def add(
        self, query: str, case_id: str, vote: str, account: str | None = None, now: datetime | None = None
    ) -> Stored:
        """Keep one vote; the query text only if the privacy gate finds nothing in it."""
        if vote not in VOTES:
            raise ValueError(vote)
        kept = query.strip() if query.strip() and not find_personal_data(query) else None
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        year, week, _ = moment.isocalendar()
        with self._lock, closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO feedback (created, week, query, case_id, vote, account) VALUES (?, ?, ?, ?, ?, ?)",
                (moment.isoformat(timespec="seconds"), f"{year}-W{week:02d}", kept, case_id, vote, account),
            )
            return Stored(int(cursor.lastrowid or 0), kept is not None)

    def weekly_counts(self) -> list[dict[str, Any]]:
        """Votes per ISO week, oldest first: [{week, nuttig, niet_nuttig, gezocht, totaal}]."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as db:
            rows = db.execute("SELECT week, vote, COUNT(*) FROM feedback GROUP BY week, vote ORDER BY week").fetchall()
        weeks: dict[str, dict[str, Any]] = {}
        for week, vote, count in rows:
            entry = weeks.setdefault(week, {"week": week, **dict.fromkeys(VOTES, 0), "totaal": 0})
            entry[vote] += count
            entry["totaal"] += count
        return list(weeks.values())

    def rows(self) -> list[tuple[str | None, str, str]]:
        """(query or None, case id, vote) for every vote, in the order given."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as db:
            return db.execute("SELECT query, case_id, vote FROM feedback ORDER BY id").fetchall()


def export_pairs(rows: list[tuple[str | None, str, str]]) -> list[dict[str, Any]]:
    """Labelled queries in the gold-set format, one per query text that has a positive verdict.

    Per (query, case) the votes are weighed; a case with more positive than negative votes is a
    precedent. When someone marked a case as "the one I looked for", those cases are `relevant`
    and the other useful ones `partial`; otherwise every useful case is `relevant`. Cases with more
    negative votes are listed under `not_relevant` (for the reviewer; evaluation ignores the field).
    Votes whose query text was not kept cannot be labelled and are left out.
    """
    tally: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(VOTES, 0)))
    for query, case_id, vote in rows:
        if query:
            tally[query][case_id][vote] += 1
    pairs = []
    for query, cases in tally.items():
        sought: list[str] = []
        useful: list[str] = []
        not_relevant: list[str] = []
        for case_id, votes in sorted(cases.items()):
            positive = votes["nuttig"] + votes["gezocht"]
            if positive > votes["niet_nuttig"]:
                (sought if votes["gezocht"] else useful).append(case_id)
            elif votes["niet_nuttig"] > positive:
                not_relevant.append(case_id)
        relevant, partial = (sought, useful) if sought else (useful, [])
        if relevant or partial:
            pairs.append(
                {
                    "query": query,
                    "relevant": relevant,
                    "partial": partial,
                    "kind": "precedent",
                    "not_relevant": not_relevant,
                    "source": "feedback",
                }
            )
    return pairs
