"""Crash safety, black box: real `maatwerk import-cases` processes killed with SIGKILL.

README "Reliability": a killed import leaves the graph and the indexes exactly as before it
or fully after it, and the next start repairs an index that is behind the graph.
Everything here goes through the `maatwerk` command and the data directory on disk,
never through the application's internals, so the tests hold whatever the importer
and the index look like inside.

Where an import is, is read from the data directory (see graph/store.py):
`store/journal.tmp` while cases are gated and written (nothing committed yet),
`store/journal` from the commit point until the change is applied, then the index
update, and the index save shows as a change of the files beside `store/`. The
steps of the commit itself are too short to hit from outside on a busy machine, so
`MAATWERK_CRASH_POINT` makes the import SIGKILL itself at exactly one of them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MAATWERK = Path(sys.executable).with_name("maatwerk")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
COUNT_QUERY = "SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus }"
PHASES = ("start", "gate", "commit", "index", "save", "finished")
COMMITTED = {"commit", "index", "save", "finished"}  # past the commit point: the import must land
# graph/store.py's crash points, in the order a commit passes them, and whether the import has landed there
CRASH_POINTS = {
    "journal-written": False,
    "committed": True,
    "dropped": True,
    "applied": True,
    "counted": True,
    "published": True,
    "cleanup": True,
}


# --- the command, black box -------------------------------------------------------------------


def maatwerk(*args: str, data_dir: Path | None = None, timeout: float = 3600) -> subprocess.CompletedProcess:
    cmd = [str(MAATWERK), *args, *(["--data-dir", str(data_dir)] if data_dir else [])]
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout, check=False)
    print(f"  maatwerk {args[0]}: {time.monotonic() - start:.1f}s")
    return done


def case_count(data_dir: Path) -> int:
    done = maatwerk("sparql", COUNT_QUERY, "--format", "csv", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[1])


def indexed(data_dir: Path, case_id: str) -> bool:
    """Whether search knows the case: `similar` answers for indexed cases, exits 2 for unknown ones."""
    done = maatwerk("similar", case_id, "-k", "3", "--json", data_dir=data_dir)
    if done.returncode == 2 and "Onbekende casus" in done.stderr:
        return False
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["case"]["id"] == case_id
    return True


def found_by_search(data_dir: Path, record: dict) -> bool:
    """Searching a case's own title and situation finds it in the top 10 (or an exact twin of it)."""
    done = maatwerk("search", f"{record['title']}. {record['situation']}", "-k", "10", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    return any(r["id"] == record["id"] or r["situation"] == record["situation"] for r in results)


def assert_valid(data_dir: Path) -> None:
    done = maatwerk("validate", data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def assert_analytics_consistent(data_dir: Path) -> None:
    """The counts, the case facts, the graph sizes and the kubus graph equal a recomputation from the graph
    (graph/analytics.py), and /health's cases and triples equal the scans."""
    done = maatwerk("check-analytics", data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def generate(path: Path, n: int, seed: int) -> list[dict]:
    done = maatwerk("generate", "--n", str(n), "--out", str(path), "--seed", str(seed))
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in path.read_text().splitlines()]


def split(
    records: list[dict], sizes: tuple[int, ...], directory: Path, names: tuple[str, ...] = ("a", "b", "c")
) -> list[list[dict]]:
    """Consecutive slices of `records`, each written to `directory/<name>.jsonl`."""
    parts, start = [], 0
    for name, size in zip(names, sizes, strict=True):
        part = records[start : start + size]
        (directory / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part))
        parts.append(part)
        start += size
    return parts


def init(data_dir: Path) -> None:
    done = maatwerk("init", "--no-demo", data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def journal_leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "store").glob("journal*"))


# --- an import to kill ---------------------------------------------------------------------


@dataclass
class Kill:
    phase: str  # where the import was when it was killed (or "finished")
    at_s: float  # seconds after the process started
    seen: dict[str, float] = field(default_factory=dict)  # first time each phase was observed

    @property
    def landed(self) -> bool:
        return self.phase in COMMITTED


class ImportProcess:
    """`maatwerk import-cases FILE` in the background, with its phase read from the data dir."""

    def __init__(self, data_dir: Path, file: Path, log_dir: Path, crash_point: str | None = None):
        assert not journal_leftovers(data_dir), "the previous open should have cleaned up the journal"
        env = {**ENV, "MAATWERK_CRASH_POINT": crash_point} if crash_point else ENV
        self.data_dir, self.store = data_dir, data_dir / "store"
        self.baseline = self._index_files()
        self.seen_gate = self.seen_commit = False
        self.seen: dict[str, float] = {}
        self.log = log_dir / f"import-{file.stem}-{time.monotonic_ns()}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [str(MAATWERK), "import-cases", str(file), "--data-dir", str(data_dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.t0 = time.monotonic()

    def _index_files(self) -> dict[str, tuple[int, int]]:
        """Everything in the data dir beside the store (the indexes), with sizes and mtimes."""
        files = {}
        for top in self.data_dir.iterdir() if self.data_dir.exists() else ():
            if top.name == "store":
                continue
            # os.walk skips what disappears while it walks (the import removes old index segments)
            walked = [(top.parent, [], [top.name])] if not top.is_dir() else os.walk(top)
            for root, _, names in walked:
                for name in names:
                    p = Path(root) / name
                    try:
                        st = p.stat()
                    except FileNotFoundError:  # being renamed or removed right now
                        continue
                    files[str(p.relative_to(self.data_dir))] = (st.st_size, st.st_mtime_ns)
        return files

    def phase(self) -> str:
        if self.process.poll() is not None:
            found = "finished"
        elif (self.store / "journal").exists() or (self.store / "journal.done").exists():
            self.seen_commit = True
            found = "commit" if (self.store / "journal").exists() else "index"
        elif (self.store / "journal.tmp").exists():
            self.seen_gate = True
            found = "gate"
        elif self.seen_gate or self.seen_commit:
            # journal.tmp only ever goes away by the commit rename (or a rejected import, not made here)
            self.seen_commit = True
            found = "index"
        else:
            found = "start"
        if found == "index" and self._index_files() != self.baseline:
            found = "save"
        self.seen.setdefault(found, round(time.monotonic() - self.t0, 3))
        return found

    def kill_at(self, target: str, delay: float = 0.0, timeout: float = 3600) -> Kill:
        """SIGKILL once the import reaches `target` (plus `delay` seconds); it may have finished first."""
        deadline = time.monotonic() + timeout
        reached_at = None
        while time.monotonic() < deadline:
            phase = self.phase()
            if phase == "finished":
                break
            if reached_at is None and PHASES.index(phase) >= PHASES.index(target):
                reached_at = time.monotonic()
            if reached_at is not None and time.monotonic() - reached_at >= delay:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait()
                if self.process.returncode == 0:  # it finished between the last look and the kill
                    phase = "finished"
                assert self.process.returncode in (0, -signal.SIGKILL), self.log.read_text(errors="replace")
                return Kill(phase, round(time.monotonic() - self.t0, 3), dict(self.seen))
            time.sleep(0.002)
        else:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"import never reached {target} within {timeout} s; seen {self.seen}")
        assert self.process.returncode == 0, self.log.read_text(errors="replace")
        return Kill("finished", round(time.monotonic() - self.t0, 3), dict(self.seen))


def kill_import(data_dir: Path, file: Path, target: str, delay: float = 0.0, **kwargs) -> Kill:
    kill = ImportProcess(data_dir, file, file.parent).kill_at(target, delay, **kwargs)
    print(f"{file.name}: aimed at {target}+{delay:.2f}s, killed in {kill.phase} at {kill.at_s}s, seen {kill.seen}")
    return kill


def crash_import(data_dir: Path, file: Path, crash_point: str, timeout: float = 3600) -> Kill:
    """An import that SIGKILLs itself at one step of the commit (graph/store.py `_crash_point`)."""
    run = ImportProcess(data_dir, file, file.parent, crash_point)
    run.process.wait(timeout)
    assert run.process.returncode == -signal.SIGKILL, (
        f"not killed at {crash_point}: exit {run.process.returncode}\n{run.log.read_text(errors='replace')}"
    )
    return Kill("commit" if CRASH_POINTS[crash_point] else "gate", round(time.monotonic() - run.t0, 3))


def check_after_kill(data_dir: Path, kill: Kill, before: int, records: list[dict], index: bool = True) -> int:
    """The graph holds exactly `before` or `before + len(records)` cases, as the kill's phase says; returns it.

    With `index`, search is opened too, which must bring the index in step with the graph.
    """
    count = case_count(data_dir)  # opening the store replays or discards the journal
    assert count in (before, before + len(records)), f"half an import: {count} cases ({kill})"
    expected = before + len(records) if kill.landed else before
    assert count == expected, f"killed in {kill.phase}: expected {expected} cases, found {count}"
    assert not journal_leftovers(data_dir), journal_leftovers(data_dir)
    assert_analytics_consistent(data_dir)
    if index:
        if kill.landed:
            assert indexed(data_dir, records[0]["id"]), "the next start did not catch the index up"
            assert found_by_search(data_dir, records[-1]), "search does not find a newly landed case"
        else:
            assert not indexed(data_dir, records[0]["id"]), "a case of an import that never landed is in the index"
    return count


# --- the tests ---------------------------------------------------------------------------------


SMALL_N = 80


def test_import_killed_at_several_points_is_all_or_nothing(tmp_path):
    """Real imports killed while gating, at the commit point, while indexing and while saving the index.

    The order keeps the expensive part (re-encoding after a kill) to one catch-up of the two
    landed imports plus a small one: the default encoder does a few hundred texts a second here.
    """
    rng = random.Random(20261126)
    data_dir = tmp_path / "data"
    init(data_dir)
    a, b, c = split(generate(tmp_path / "all.jsonl", 2 * SMALL_N + 10, seed=11), (SMALL_N, SMALL_N, 10), tmp_path)
    kills = []

    # 1. while the cases are gated and written to the journal: nothing lands, not even in the index
    kills.append(kill_import(data_dir, tmp_path / "a.jsonl", "gate", delay=rng.uniform(0.05, 0.25)))
    count = check_after_kill(data_dir, kills[-1], 0, a)

    # 2. right after the commit point (journal in place, nothing applied): the next open completes it
    kills.append(crash_import(data_dir, tmp_path / "a.jsonl", "committed"))
    count = check_after_kill(data_dir, kills[-1], count, a, index=False)  # the index stays behind for now

    # 3. while the index is updated (a fresh process first catches up on a's cases, then b's)
    kills.append(kill_import(data_dir, tmp_path / "b.jsonl", "index", delay=rng.uniform(0.2, 1.0)))
    count = check_after_kill(data_dir, kills[-1], count, b)  # the next start repairs the index: a and b

    # 4. while the index is saved
    kills.append(kill_import(data_dir, tmp_path / "c.jsonl", "save", delay=rng.uniform(0.0, 0.03)))
    count = check_after_kill(data_dir, kills[-1], count, c, index=False)
    assert found_by_search(data_dir, c[-1]) and found_by_search(data_dir, a[-1])

    assert [k.landed for k in kills] == [False, True, True, True], kills
    assert count == 2 * SMALL_N + len(c)
    assert_valid(data_dir)


def test_import_killed_at_each_step_of_the_commit(tmp_path):
    """The journal's steps, one SIGKILL each: before the rename nothing, after it everything.

    Includes a re-import killed after the old versions were dropped and before the new
    ones were loaded, which must come back as the new versions, not as nothing. After
    every kill the analytics layer (counts, case facts, kubus graph) equals a
    recomputation from the graph, also when the kill fell between its two steps.
    """
    data_dir = tmp_path / "data"
    init(data_dir)
    first, _ = split(generate(tmp_path / "all.jsonl", 10, seed=41), (5, 5), tmp_path, ("first", "second"))
    revised = [{**r, "title": f"Herzien {r['title']}"} for r in first]
    (tmp_path / "revised.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in revised))

    def state() -> tuple[int, int]:
        query = (
            "SELECT (COUNT(?c) AS ?n) (SUM(IF(STRSTARTS(STR(?t), 'Herzien'), 1, 0)) AS ?revised) "
            "WHERE { ?c a mw:Casus ; dcterms:title ?t }"
        )
        done = maatwerk("sparql", query, "--format", "csv", data_dir=data_dir)
        assert done.returncode == 0, done.stderr
        n, revised_n = done.stdout.split()[1].split(",")
        assert not journal_leftovers(data_dir), journal_leftovers(data_dir)
        assert_analytics_consistent(data_dir)
        return int(n), int(revised_n or 0)

    crash_import(data_dir, tmp_path / "first.jsonl", "journal-written")  # all written and fsynced, not renamed
    assert state() == (0, 0)
    crash_import(data_dir, tmp_path / "first.jsonl", "committed")  # renamed, nothing applied: replayed on open
    assert state() == (5, 0)
    crash_import(data_dir, tmp_path / "first.jsonl", "applied")  # applied, journal not yet cleared: replayed again
    assert state() == (5, 0)
    crash_import(data_dir, tmp_path / "revised.jsonl", "dropped")  # old versions dropped, new ones not loaded
    assert state() == (5, 5)
    crash_import(data_dir, tmp_path / "first.jsonl", "counted")  # counts updated, kubus graph not: republished
    assert state() == (5, 0)
    crash_import(data_dir, tmp_path / "revised.jsonl", "published")  # both updated, journal not cleared
    assert state() == (5, 5)
    crash_import(
        data_dir, tmp_path / "second.jsonl", "cleanup"
    )  # applied, journal renamed to journal.done, not removed
    assert state() == (10, 5)

    done = maatwerk("similar", first[0]["id"], "-k", "3", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["case"]["title"].startswith("Herzien"), "the index kept the old version"
    assert_valid(data_dir)


def encode_workers(mark: str) -> list[int]:
    """Live encoder worker processes (search/encode_worker.py) started with MAATWERK_TEST_MARK=`mark`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if b"search.encode_worker" in (proc / "cmdline").read_bytes() and (
                f"MAATWERK_TEST_MARK={mark}".encode() in (proc / "environ").read_bytes().split(b"\0")
            ):
                found.append(int(proc.name))
        except (OSError, ValueError):  # not a process, or gone meanwhile
            continue
    return found


def test_import_killed_while_encoding_ahead(tmp_path, monkeypatch):
    """A large import with the default encoder: its workers encode cases while the rest is checked
    (search/ahead.py). Killed then, nothing is stored or indexed and the workers end with it; killed
    after the commit, while the last vectors come in or the index is written, it lands whole and the
    next start brings the index in step."""
    mark = str(tmp_path)
    monkeypatch.setitem(ENV, "MAATWERK_ENCODER", "use-multilingual")
    monkeypatch.setitem(ENV, "MAATWERK_TEST_MARK", mark)
    data_dir = tmp_path / "data"
    init(data_dir)
    records = generate(tmp_path / "big.jsonl", 2_100, seed=43)  # past api.core's AHEAD_MIN_RECORDS
    run = ImportProcess(data_dir, tmp_path / "big.jsonl", tmp_path)
    deadline = time.monotonic() + 120
    while not (run.phase() == "gate" and len(encode_workers(mark)) >= 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    kill = run.kill_at("gate", delay=3.0)  # encoding and checking for a few seconds
    assert kill.phase == "gate", kill
    deadline = time.monotonic() + 10
    while encode_workers(mark) and time.monotonic() < deadline:  # their input ends with the importer
        time.sleep(0.1)
    assert not encode_workers(mark), "encoder workers outlived a killed import"
    check_after_kill(data_dir, kill, 0, records)

    kill = kill_import(data_dir, tmp_path / "big.jsonl", "index")
    assert kill.landed, kill
    check_after_kill(data_dir, kill, 0, records)
    assert found_by_search(data_dir, records[len(records) // 2])
    assert not encode_workers(mark)


def test_index_behind_the_graph_is_repaired_on_next_start(tmp_path):
    """A crash between the graph commit and the index save, made on disk: graph after, indexes before.

    The indexes are everything in the data dir beside `store/`; put back as they were before
    an import, the next start must notice (the index records the graph revision) and catch up.
    """
    data_dir = tmp_path / "data"
    init(data_dir)
    first, second = split(generate(tmp_path / "all.jsonl", 16, seed=21), (8, 8), tmp_path, ("first", "second"))
    assert maatwerk("import-cases", str(tmp_path / "first.jsonl"), data_dir=data_dir).returncode == 0
    snapshot = tmp_path / "indexes-before"
    _copy_indexes(data_dir, snapshot)
    done = maatwerk("import-cases", str(tmp_path / "second.jsonl"), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    _restore_indexes(snapshot, data_dir)

    assert case_count(data_dir) == 16  # the graph has both imports
    assert indexed(data_dir, second[0]["id"]), "the index behind the graph was not caught up"
    assert found_by_search(data_dir, second[-1]) and found_by_search(data_dir, first[0])


def _copy_indexes(data_dir: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    for entry in data_dir.iterdir():
        if entry.name != "store":
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, target / entry.name)


def _restore_indexes(snapshot: Path, data_dir: Path) -> None:
    for entry in data_dir.iterdir():
        if entry.name != "store":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in snapshot.iterdir():
        (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, data_dir / entry.name)


@pytest.mark.slow
def test_20k_import_killed_at_random_points(tmp_path):
    """The full variant: a 20,000-case import killed at random moments in every phase (runs for many minutes)."""
    rng = random.Random(8_2026)
    data_dir = tmp_path / "data"
    init(data_dir)
    big = generate(tmp_path / "big.jsonl", 20_000, seed=31)
    b = generate(tmp_path / "b.jsonl", 300, seed=32)
    c = generate(tmp_path / "c.jsonl", 100, seed=33)
    kills = []
    timings: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        start = time.monotonic()
        result = fn(*args, **kwargs)
        timings[name] = round(time.monotonic() - start, 1)
        return result

    # while the process starts and reads the file, then at a random moment of the gate
    kills.append(kill_import(data_dir, tmp_path / "big.jsonl", "start", delay=0.5))
    count = check_after_kill(data_dir, kills[-1], 0, big)
    kills.append(kill_import(data_dir, tmp_path / "big.jsonl", "gate", delay=rng.uniform(1.0, 10.0)))
    count = check_after_kill(data_dir, kills[-1], count, big)

    # during the commit: the journal (half a million quads, bulk-loaded) is being applied
    kills.append(kill_import(data_dir, tmp_path / "big.jsonl", "commit", delay=rng.uniform(0.2, 1.5)))
    count = timed("reopen after commit kill", check_after_kill, data_dir, kills[-1], count, big, index=False)
    timed("validate 20k", assert_valid, data_dir)

    # a small import whose process first has to catch the index up on 20,000 cases: killed while it does
    kills.append(kill_import(data_dir, tmp_path / "b.jsonl", "index", delay=rng.uniform(5.0, 60.0)))
    count = timed("catch up 20k", check_after_kill, data_dir, kills[-1], count, b)
    assert indexed(data_dir, big[0]["id"]) and indexed(data_dir, big[-1]["id"])
    assert found_by_search(data_dir, big[rng.randrange(len(big))])

    # while the index of 20,000 cases is being saved
    kills.append(kill_import(data_dir, tmp_path / "c.jsonl", "save", delay=rng.uniform(0.0, 0.5)))
    count = check_after_kill(data_dir, kills[-1], count, c)

    assert [k.landed for k in kills] == [False, False, True, True, True], kills
    assert count == len(big) + len(b) + len(c)
    timed("final validate", assert_valid, data_dir)
    print("timings:", timings)
