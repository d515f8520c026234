"""Per-row case facets of the search index: lists for the small append segment, numpy columns for a base.

A base segment's facets are stored as numpy files in its `facets/` directory and memory-mapped on
load, so opening a base of any size costs milliseconds and no Python object per row (parsing the
JSON of 1M rows took 5 s and a few GB). The layout (docs/architecture.md, "Search index"):

- `ids.npy`, `iris.npy`, `stamps.npy`: uint8, the UTF-8 strings one after the other, and
  `ids_offsets.npy` (...) int64, rows + 1: row r's string is bytes [off[r], off[r+1]);
- `status.npy`: int16 codes into `vocab.json`'s "status" list, -1 for none;
- `year.npy`: int32, NO_YEAR for none;
- `concepts.npy`, `knelpunttypen.npy`: int32 codes into `vocab.json`'s list of that name, with
  `concepts_offsets.npy` (...) int64, rows + 1 (compressed sparse rows);
- `alive.npy`: bool, the rows alive when the base was written (the index's dead set overrides);
- `iri_order.npy`: int64, the rows sorted by IRI (then row), to find a row by IRI by bisection.

A base saved before this layout has `facets.json` (the lists); it is converted once when first
opened (`load_facets`), written under a temporary name and renamed, so a crash leaves either no
`facets/` (converted again) or a complete one.
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydantic_core

from graph.cases import CaseDoc
from graph.store import _crash_point, fsync_dir

FACETS_DIR = "facets"
LEGACY_FACETS = "facets.json"
NO_YEAR = np.iinfo(np.int32).min
NO_CODE = -1
GATHER_ROWS = 50_000
STRING_COLUMNS = ("ids", "iris", "stamps")
LIST_COLUMNS = ("concepts", "knelpunttypen")

log = logging.getLogger(__name__)


@dataclass
class Facets:
    """Per-row data for filters and the graph signal, kept as plain lists (the append segment's)."""

    ids: list[str] = field(default_factory=list)
    iris: list[str] = field(default_factory=list)
    stamps: list[str] = field(default_factory=list)
    status: list[str | None] = field(default_factory=list)
    year: list[int | None] = field(default_factory=list)
    concepts: list[list[str]] = field(default_factory=list)
    knelpunttypen: list[list[str]] = field(default_factory=list)
    alive: list[bool] = field(default_factory=list)

    def append(self, doc: CaseDoc) -> None:
        self.ids.append(doc.id)
        self.iris.append(doc.iri)
        self.stamps.append(doc.stamp)
        self.status.append(doc.status)
        self.year.append(doc.year)
        self.concepts.append(sorted(doc.concepts))
        self.knelpunttypen.append(sorted(doc.knelpunttypen))
        self.alive.append(True)

    def rows(self, rows: Iterable[int]) -> Facets:
        picked = list(rows)
        return Facets(**{name: [values[r] for r in picked] for name, values in self.__dict__.items()})

    def __add__(self, other: Facets) -> Facets:
        return Facets(**{name: values + getattr(other, name) for name, values in self.__dict__.items()})

    def __len__(self) -> int:
        return len(self.ids)


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start, start+1, ..., start+length-1 of every (start, length), one after the other."""
    starts, lengths = np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    firsts = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - firsts, lengths)


def _gathered(array: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """array[start:start+length] of every (start, length), one after the other: GATHER_ROWS at a time,
    so the positions (8 bytes per gathered item) stay small when a merge gathers 1M rows' IRIs."""
    parts = [
        np.asarray(array[ranges(starts[start : start + GATHER_ROWS], lengths[start : start + GATHER_ROWS])])
        for start in range(0, len(starts), GATHER_ROWS)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=array.dtype)


def _offsets(lengths: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64)


class Column(Sequence):
    """A read-only column; equal to any sequence with the same values (as the lists it replaces were)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class Strings(Column):
    """Strings as one UTF-8 byte array and offsets: row r is bytes [offsets[r], offsets[r+1])."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray):
        self.blob, self.offsets = blob, offsets

    @classmethod
    def of(cls, values: Iterable[str]) -> Strings:
        encoded = [v.encode() for v in values]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), _offsets(lengths))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row):
        return self.blob[self.offsets[row] : self.offsets[row + 1]].tobytes().decode()

    def __iter__(self) -> Iterator[str]:
        data, offsets = self.blob.tobytes(), self.offsets.tolist()
        return (data[a:b].decode() for a, b in itertools.pairwise(offsets))

    def take(self, rows: np.ndarray) -> Strings:
        lengths = np.diff(self.offsets)[rows]
        return Strings(_gathered(self.blob, self.offsets[:-1][rows], lengths), _offsets(lengths))

    def __add__(self, other: Strings) -> Strings:
        return Strings(np.concatenate([self.blob, other.blob]), _joined_offsets(self.offsets, other.offsets))


class Codes(Column):
    """One optional value per row from a small vocabulary (the status): codes, NO_CODE for none."""

    def __init__(self, codes: np.ndarray, vocab: list[str]):
        self.codes, self.vocab = codes, vocab

    @classmethod
    def of(cls, values: Iterable[str | None]) -> Codes:
        vocab: dict[str, int] = {}
        codes = [NO_CODE if v is None else vocab.setdefault(v, len(vocab)) for v in values]
        return cls(np.asarray(codes, dtype=np.int16), list(vocab))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, row):
        code = int(self.codes[row])
        return None if code == NO_CODE else self.vocab[code]

    def __iter__(self) -> Iterator[str | None]:
        return (None if c == NO_CODE else self.vocab[c] for c in self.codes.tolist())

    def isin(self, values: Iterable[str]) -> np.ndarray:
        wanted = [code for code, value in enumerate(self.vocab) if value in set(values)]
        return np.isin(self.codes, wanted)

    def take(self, rows: np.ndarray) -> Codes:
        return Codes(np.asarray(self.codes[rows]), self.vocab)

    def __add__(self, other: Codes) -> Codes:
        vocab, remap = _merged_vocab(self.vocab, other.vocab)
        theirs = np.append(remap, NO_CODE)[other.codes]  # NO_CODE (-1) picks the appended NO_CODE
        return Codes(np.concatenate([self.codes, theirs]).astype(np.int16), vocab)


class Years(Column):
    """An optional year per row: int32, NO_YEAR for none."""

    def __init__(self, years: np.ndarray):
        self.years = years

    @classmethod
    def of(cls, values: Iterable[int | None]) -> Years:
        return cls(np.asarray([NO_YEAR if v is None else v for v in values], dtype=np.int32))

    def __len__(self) -> int:
        return len(self.years)

    def __getitem__(self, row):
        year = int(self.years[row])
        return None if year == NO_YEAR else year

    def __iter__(self) -> Iterator[int | None]:
        return (None if y == NO_YEAR else y for y in self.years.tolist())

    def between(self, lo: int, hi: int) -> np.ndarray:
        return (self.years != NO_YEAR) & (self.years >= lo) & (self.years <= hi)

    def take(self, rows: np.ndarray) -> Years:
        return Years(np.asarray(self.years[rows]))

    def __add__(self, other: Years) -> Years:
        return Years(np.concatenate([self.years, other.years]))


class CodeLists(Column):
    """A list of strings per row from a vocabulary (concept IRIs): codes in compressed sparse rows."""

    def __init__(self, codes: np.ndarray, offsets: np.ndarray, vocab: list[str]):
        self.codes, self.offsets, self.vocab = codes, offsets, vocab

    @classmethod
    def of(cls, values: Iterable[list[str]]) -> CodeLists:
        rows = list(values)
        flat = list(itertools.chain.from_iterable(rows))  # C-level loops: 1M rows convert in about a second
        code = {value: i for i, value in enumerate(dict.fromkeys(flat))}
        codes = np.fromiter(map(code.__getitem__, flat), dtype=np.int32, count=len(flat))
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        return cls(codes, _offsets(lengths), list(code))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row):
        return [self.vocab[c] for c in self.codes[self.offsets[row] : self.offsets[row + 1]].tolist()]

    def __iter__(self) -> Iterator[list[str]]:
        codes, offsets, vocab = self.codes.tolist(), self.offsets.tolist(), self.vocab
        return ([vocab[c] for c in codes[a:b]] for a, b in itertools.pairwise(offsets))

    def row_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(row, code) of every entry, in row order."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets)), np.asarray(self.codes)

    def take(self, rows: np.ndarray) -> CodeLists:
        lengths = np.diff(self.offsets)[rows]
        return CodeLists(_gathered(self.codes, self.offsets[:-1][rows], lengths), _offsets(lengths), self.vocab)

    def __add__(self, other: CodeLists) -> CodeLists:
        vocab, remap = _merged_vocab(self.vocab, other.vocab)
        codes = np.concatenate([self.codes, remap[other.codes]]).astype(np.int32)
        return CodeLists(codes, _joined_offsets(self.offsets, other.offsets), vocab)


def _joined_offsets(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([a, a[-1] + np.asarray(b[1:])]).astype(np.int64)


def _merged_vocab(ours: list[str], theirs: list[str]) -> tuple[list[str], np.ndarray]:
    """Our vocabulary extended by their new values, and their codes' new numbers."""
    code = {v: i for i, v in enumerate(ours)}
    vocab = list(ours)
    for value in theirs:
        if value not in code:
            code[value] = len(vocab)
            vocab.append(value)
    return vocab, np.asarray([code[v] for v in theirs], dtype=np.int64)


@dataclass
class FacetTable:
    """A base segment's facets as columns (module docstring); rows are never changed once written."""

    ids: Strings
    iris: Strings
    stamps: Strings
    status: Codes
    year: Years
    concepts: CodeLists
    knelpunttypen: CodeLists
    alive: np.ndarray  # as written; the index's dead set overrides
    iri_order: np.ndarray | None = None  # rows by IRI; made on first lookup when not read from disk

    COLUMNS = ("ids", "iris", "stamps", "status", "year", "concepts", "knelpunttypen")

    def __len__(self) -> int:
        return len(self.alive)

    @classmethod
    def of(cls, facets: Facets) -> FacetTable:
        columns: dict[str, Any] = {name: Strings.of(getattr(facets, name)) for name in STRING_COLUMNS}
        columns |= {"status": Codes.of(facets.status), "year": Years.of(facets.year)}
        columns |= {name: CodeLists.of(getattr(facets, name)) for name in LIST_COLUMNS}
        return cls(**columns, alive=np.asarray(facets.alive, dtype=bool))

    @classmethod
    def empty(cls) -> FacetTable:
        return cls.of(Facets())

    def take(self, rows: np.ndarray) -> FacetTable:
        """These rows, in this order, as a new table in memory (alive as they are here)."""
        rows = np.asarray(rows, dtype=np.int64)
        columns: dict[str, Any] = {name: getattr(self, name).take(rows) for name in self.COLUMNS}
        return FacetTable(**columns, alive=np.asarray(self.alive[rows]))

    def __add__(self, other: FacetTable) -> FacetTable:
        columns: dict[str, Any] = {name: getattr(self, name) + getattr(other, name) for name in self.COLUMNS}
        return FacetTable(**columns, alive=np.concatenate([self.alive, other.alive]))

    def rows_of(self, iri: str) -> list[int]:
        """The rows holding this IRI (one, unless a FORMAT 2 base kept a dead row beside an alive one)."""
        # memoryviews: indexing them costs a tenth of indexing numpy arrays (bisection is all indexing)
        order, target = np.ascontiguousarray(self._iri_order()).data, iri.encode()
        blob, offsets = (np.ascontiguousarray(a).data for a in (self.iris.blob, self.iris.offsets))

        def key(row) -> bytes:  # UTF-8 bytes sort as the strings do (code point order)
            return blob[offsets[row] : offsets[row + 1]].tobytes()

        found = []
        for i in range(bisect.bisect_left(order, target, key=key), len(order)):
            row = order[i]
            if key(row) != target:
                break
            found.append(row)
        return found

    def _iri_order(self) -> np.ndarray:
        if self.iri_order is None:
            iris = list(self.iris)  # a stable sort: rows of one IRI stay in row order
            self.iri_order = np.asarray(sorted(range(len(iris)), key=iris.__getitem__), dtype=np.int64)
        return self.iri_order

    def concept_rows(self, first_row: int = 0) -> dict[str, np.ndarray]:
        """Concept IRI -> rows (from `first_row`) that link it, as `concept_rows` of the lists gives them:
        in row order, a row's explicit and derived concepts before its knelpunttypen."""
        vocab, remap = _merged_vocab(self.concepts.vocab, self.knelpunttypen.vocab)
        rows_c, codes_c = self.concepts.row_codes()
        rows_k, codes_k = self.knelpunttypen.row_codes()
        rows = np.concatenate([rows_c, rows_k])
        codes = np.concatenate([codes_c.astype(np.int64), remap[codes_k]])
        kind = np.concatenate([np.zeros(len(rows_c), np.int8), np.ones(len(rows_k), np.int8)])
        order = np.lexsort((kind, rows, codes))
        rows, codes = rows[order], codes[order]
        bounds = np.searchsorted(codes, np.arange(len(vocab) + 1))
        return {
            vocab[c]: (rows[bounds[c] : bounds[c + 1]] + first_row).astype(np.int32)
            for c in range(len(vocab))
            if bounds[c + 1] > bounds[c]
        }

    # --- files -------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the columns into `directory` (new; the caller makes it appear atomically)."""
        directory.mkdir(parents=True)
        arrays: dict[str, np.ndarray] = {"alive": np.asarray(self.alive, dtype=bool), "iri_order": self._iri_order()}
        for name in STRING_COLUMNS:
            column = getattr(self, name)
            arrays[name], arrays[f"{name}_offsets"] = column.blob, column.offsets
        for name in LIST_COLUMNS:
            column = getattr(self, name)
            arrays[name], arrays[f"{name}_offsets"] = column.codes, column.offsets
        arrays["status"], arrays["year"] = self.status.codes, self.year.years
        for name, array in arrays.items():
            np.save(directory / f"{name}.npy", np.ascontiguousarray(array))
        vocab = {"status": self.status.vocab, **{name: getattr(self, name).vocab for name in LIST_COLUMNS}}
        (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> FacetTable:
        """The columns memory-mapped (only the pages a search reads come in)."""

        def array(name: str) -> np.ndarray:
            return np.load(directory / f"{name}.npy", mmap_mode="r")

        vocab = json.loads((directory / "vocab.json").read_text())
        columns: dict[str, Any] = {name: Strings(array(name), array(f"{name}_offsets")) for name in STRING_COLUMNS}
        columns |= {"status": Codes(array("status"), vocab["status"]), "year": Years(array("year"))}
        columns |= {name: CodeLists(array(name), array(f"{name}_offsets"), vocab[name]) for name in LIST_COLUMNS}
        return cls(**columns, alive=array("alive"), iri_order=array("iri_order"))


def load_facets(base_dir: Path) -> FacetTable:
    """A base's facets: the columns, converted first from `facets.json` if the base predates them.

    If the columns cannot be written (a full disk, a read-only data dir), the converted table is used
    from memory and the next open tries again: never a reason to rebuild the index.
    """
    if (base_dir / FACETS_DIR).is_dir():
        return FacetTable.load(base_dir / FACETS_DIR)
    table = table_from_json(base_dir)
    try:
        write_converted(table, base_dir)
    except OSError as exc:
        log.warning(
            "facets of %s not converted (%s): read from facets.json on every open until they are", base_dir, exc
        )
        return table
    return FacetTable.load(base_dir / FACETS_DIR)


def table_from_json(base_dir: Path) -> FacetTable:
    """The columns of a base's `facets.json`, a column at a time, the lists of each freed once it is made."""
    parsed: dict[str, Any] = pydantic_core.from_json((base_dir / LEGACY_FACETS).read_bytes())
    columns: dict[str, Any] = {name: Strings.of(parsed.pop(name)) for name in STRING_COLUMNS}
    columns |= {"status": Codes.of(parsed.pop("status")), "year": Years.of(parsed.pop("year"))}
    columns |= {name: CodeLists.of(parsed.pop(name)) for name in LIST_COLUMNS}
    return FacetTable(**columns, alive=np.asarray(parsed.pop("alive"), dtype=bool))


def write_converted(table: FacetTable, base_dir: Path) -> None:
    """Write `facets/` next to `facets.json`, atomically: into `facets.tmp/`, fsynced, then renamed.
    `facets.json` stays, so code from before this layout still reads the base; it goes with the base
    at the next merge."""
    staging = base_dir / (FACETS_DIR + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)  # a conversion a crash cut short
    table.save(staging)
    for path in staging.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(staging)
    _crash_point("facets-converted")
    os.replace(staging, base_dir / FACETS_DIR)
    fsync_dir(base_dir)


class Joined(Column):
    """A base column followed by the append segment's list: one row space."""

    def __init__(self, base: Sequence, extra: list):
        self.base, self.extra, self._n = base, extra, len(base)

    def __len__(self) -> int:
        return self._n + len(self.extra)

    def __getitem__(self, row):
        return self.base[row] if row < self._n else self.extra[row - self._n]

    def __iter__(self) -> Iterator:
        yield from self.base
        yield from self.extra


class JointFacets:
    """The facets of both segments (base rows first) as the engine reads them, with the alive flags
    (the base's, the dead set applied, then the append rows') as one writable array."""

    def __init__(self, base: FacetTable, extra: Facets, alive: np.ndarray):
        self.base, self.extra, self.alive = base, extra, alive
        self.ids = Joined(base.ids, extra.ids)
        self.iris = Joined(base.iris, extra.iris)
        self.stamps = Joined(base.stamps, extra.stamps)
        self.status = Joined(base.status, extra.status)
        self.year = Joined(base.year, extra.year)
        self.concepts = Joined(base.concepts, extra.concepts)
        self.knelpunttypen = Joined(base.knelpunttypen, extra.knelpunttypen)

    def __len__(self) -> int:
        return len(self.alive)

    def status_in(self, values: Iterable[str]) -> np.ndarray:
        wanted = set(values)
        appended = np.asarray([s in wanted for s in self.extra.status], dtype=bool)
        return np.concatenate([self.base.status.isin(wanted), appended])

    def year_between(self, lo: int, hi: int) -> np.ndarray:
        appended = np.asarray([y is not None and lo <= y <= hi for y in self.extra.year], dtype=bool)
        return np.concatenate([self.base.year.between(lo, hi), appended])

    def table(self, rows: np.ndarray, adding: Iterable[CaseDoc] = ()) -> FacetTable:
        """These rows (base rows first, each part in order), then the new docs, as one table for a new base."""
        rows = np.asarray(rows, dtype=np.int64)
        n_base = len(self.base)
        listed = self.extra.rows((rows[rows >= n_base] - n_base).tolist())
        for doc in adding:
            listed.append(doc)
        return self.base.take(rows[rows < n_base]) + FacetTable.of(listed)
