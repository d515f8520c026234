"""The SPARQL sandbox: queries run in worker processes that are killed when their time is up.

pyoxigraph cannot cancel a running query: a thread that overruns keeps a core
busy until the query ends, which for a cross join can be hours. A process can be
killed. Workers read a RocksDB checkpoint of the store (`Store.backup`: hard
links, cheap) instead of the live store, because RocksDB's read-only mode beside
a writing process is undefined behaviour: reopening fails on .sst files that a
compaction removed. A new checkpoint is taken when the graph's revision changes.

Workers cannot reach the network where the platform allows it: at start each one moves
into a network namespace of its own (`unshare(CLONE_NEWNET)`, as root, or with a user
namespace where unprivileged ones are enabled), which has no interface up, not even
loopback. So a SERVICE that got past the parser check (graph.sparql_check) still connects to
nothing. Where neither works (not Linux, or namespaces forbidden) the pool logs one
warning and the parser check is the only wall.

Parent side: `pool_for(kg).run(...)`. Child side: `python -m graph.sparql_worker FD MEMORY_LIMIT`.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import logging
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import weakref
from collections import Counter
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from graph.errors import SparqlError
from graph.sparql_eval import QueryResult, check_and_evaluate

log = logging.getLogger(__name__)
POOL_SIZE = 2  # default; a runaway query leaves a worker for the next one
GRACE_S = 1.0  # the worker ends itself this long after its deadline, should the parent fail to kill it
MEMORY_LIMIT = 4 << 30  # heap per worker (RLIMIT_DATA): a huge ORDER BY fails instead of starving the server
SNAPSHOTS = "sparql-snapshots"
_PROJECT_ROOT = str(Path(__file__).resolve().parents[1])


class _Worker:
    def __init__(self, memory_limit: int) -> None:
        parent_end, child_end = Pipe()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [_PROJECT_ROOT, os.environ.get("PYTHONPATH")])),
            "RUST_BACKTRACE": "0",
        }  # with backtraces on, a failed allocation hangs instead of aborting
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graph.sparql_worker", str(child_end.fileno()), str(memory_limit)],
            pass_fds=[child_end.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        child_end.close()
        self.conn: Connection = parent_end
        self.snapshot: Path | None = None  # the checkpoint it has (or will have) open
        self.network_wall: str | None = None  # set from the worker's greeting
        self.greeted = False
        self._closing = threading.Lock()

    def kill(self, close_pipe: bool = True) -> None:
        self.process.kill()  # a no-op once it has been reaped
        self.process.wait()
        if close_pipe:
            with self._closing:  # closing one fd twice could close a reused fd number
                if not self.conn.closed:
                    self.conn.close()


class WorkerPool:
    """Up to `size` workers for one store; its checkpoints live in `root`, each removed once nothing uses it."""

    def __init__(self, root: Path, size: int = POOL_SIZE, memory_limit: int = MEMORY_LIMIT):
        self.root = root  # <store>/sparql-snapshots/<pid>-<n>: another pool's close never touches ours
        self.size = size
        self.memory_limit = memory_limit
        self._lock = threading.Condition()
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._snapshot: tuple[str | None, Path] | None = None  # (graph revision, checkpoint)
        self._in_use: Counter[Path] = Counter()  # checkpoints handed to running requests
        self._checkpoint_lock = threading.Lock()
        self._serial = 0
        self._closed = False
        self.network_wall: str | None = None  # how the last greeted worker is cut off from the network
        if root.parent.is_dir():  # left behind by a killed process (the store lock allows only one live one)
            for stale in root.parent.iterdir():
                if not stale.name.startswith(f"{os.getpid()}-"):
                    shutil.rmtree(stale, ignore_errors=True)

    def run(self, kg, request: tuple, timeout_s: float) -> QueryResult:
        """Check and evaluate `request` (see graph.sparql_eval.check_and_evaluate) within `timeout_s`, from now."""
        deadline = time.monotonic() + timeout_s
        snapshot = self._current_snapshot(kg, deadline)
        try:
            worker = self._acquire(deadline)
            try:
                reply = self._ask(worker, snapshot, request, timeout_s, deadline)
            except BaseException:
                self._discard(worker)
                raise
            self._release(worker)
        finally:
            with self._lock:
                self._in_use[snapshot] -= 1
        if reply[0] == "ok":
            return reply[1]
        raise SparqlError(reply[1], reply[2])

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for worker in self._workers:
                # A busy worker's pipe is closed by the request waiting on it, once it sees the worker gone.
                worker.kill(close_pipe=worker in self._idle)
            self._workers.clear()
            self._idle.clear()
            self._lock.notify_all()
        shutil.rmtree(self.root, ignore_errors=True)
        with contextlib.suppress(OSError):  # another pool of this process still has checkpoints there
            self.root.parent.rmdir()

    # --- workers ------------------------------------------------------------------

    def _ask(self, worker: _Worker, snapshot: Path, request: tuple, timeout_s: float, deadline: float):
        worker.snapshot = snapshot
        try:
            if not worker.greeted:
                self._greet(worker, timeout_s, deadline)
            worker.conn.send((str(snapshot), request, timeout_s))
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                raise SparqlError(f"De query duurde langer dan {timeout_s:g} s en is afgebroken", 503)
            return worker.conn.recv()
        except (EOFError, OSError) as exc:
            raise SparqlError(
                "De query is afgebroken: de verwerker stopte onverwacht, "
                "waarschijnlijk omdat de query te veel geheugen gebruikte",
                503,
            ) from exc

    def _greet(self, worker: _Worker, timeout_s: float, deadline: float) -> None:
        """Read the worker's first message: whether it is cut off from the network."""
        if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
            raise SparqlError(f"De query duurde langer dan {timeout_s:g} s en is afgebroken", 503)
        _, worker.network_wall = worker.conn.recv()
        worker.greeted = True
        self.network_wall = worker.network_wall
        if worker.network_wall is None:
            _warn_no_network_wall()

    def _acquire(self, deadline: float) -> _Worker:
        with self._lock:
            while True:
                if self._closed:
                    raise SparqlError("Het SPARQL-endpoint wordt afgesloten", 503)
                # Start the whole pool at once, booting workers at the back of the line:
                # when one is killed for overrunning, a ready one takes the next query.
                while len(self._workers) < self.size:
                    self._idle.insert(0, self._spawn())
                if self._idle:
                    worker = self._idle.pop()
                    if worker.process.poll() is None:
                        return worker
                    self._workers.remove(worker)  # died while idle (killed from outside)
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SparqlError(
                        "Alle SPARQL-verwerkers zijn bezig met andere queries; probeer het zo opnieuw", 503
                    )
                self._lock.wait(remaining)

    def _spawn(self) -> _Worker:
        """A new worker (caller holds the lock); it boots and opens the current checkpoint in the background."""
        worker = _Worker(self.memory_limit)
        self._workers.append(worker)
        if self._snapshot is not None:
            worker.snapshot = self._snapshot[1]
            worker.conn.send((str(worker.snapshot), None, 0.0))
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)
            self._prune()
            self._lock.notify()

    def _discard(self, worker: _Worker) -> None:
        """Kill a worker that overran or broke, and start its replacement so the next query need not wait."""
        worker.kill()
        with self._lock:
            if worker in self._workers:  # else close() got there first
                self._workers.remove(worker)
            if not self._closed:
                self._idle.insert(0, self._spawn())
            self._prune()
            self._lock.notify()

    # --- checkpoints --------------------------------------------------------------

    def _current_snapshot(self, kg, deadline: float) -> Path:
        revision = kg.revision()
        with self._checkpoint_lock:
            if self._snapshot is None or self._snapshot[0] != revision:
                self._checkpoint(kg, deadline)
            assert self._snapshot is not None  # just taken, under the checkpoint lock
            with self._lock:
                path = self._snapshot[1]
                self._in_use[path] += 1
                self._prune()
                return path

    def _checkpoint(self, kg, deadline: float) -> None:
        # During a long import queries keep the previous checkpoint (the graph as before the
        # import); only the first checkpoint waits for the commit, at most until the deadline.
        self._serial += 1
        wait_s = max(0.001, deadline - time.monotonic()) if self._snapshot is None else 0.0
        try:
            taken = kg.checkpoint(self.root / str(self._serial), wait_s=wait_s)
        except OSError as exc:  # e.g. a full disk: the endpoint is down, not the query wrong
            raise SparqlError(f"De gegevens voor SPARQL konden niet worden klaargezet: {exc}", 503) from exc
        if taken is None:
            if self._snapshot is None:
                raise SparqlError("De graaf wordt bijgewerkt; probeer het zo opnieuw", 503)
            return
        with self._lock:
            self._snapshot = taken

    def _prune(self) -> None:
        """Remove checkpoints no worker has open and no request is about to use (caller holds the lock)."""
        keep = {w.snapshot for w in self._workers} | {p for p, n in self._in_use.items() if n > 0}
        if self._snapshot is not None:
            keep.add(self._snapshot[1])
        self._in_use = Counter({p: n for p, n in self._in_use.items() if n > 0})
        if self.root.is_dir():
            for child in self.root.iterdir():
                if child not in keep:
                    shutil.rmtree(child, ignore_errors=True)


_pools: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()
_pool_serial = itertools.count(1)


def pool_for(kg, size: int = POOL_SIZE, memory_limit: int = MEMORY_LIMIT) -> WorkerPool:
    """The pool of this on-disk graph, started on first use with `size` workers of at most `memory_limit` bytes of
    heap each; closed with `close_pool`, or at exit."""
    with _pools_lock:
        pool = _pools.get(kg)
        if pool is None:
            root = Path(kg.path) / SNAPSHOTS / f"{os.getpid()}-{next(_pool_serial)}"
            pool = _pools[kg] = WorkerPool(root, size, memory_limit)
            weakref.finalize(kg, pool.close)  # also runs at interpreter exit: no orphan workers
        return pool


def close_pool(kg) -> None:
    with _pools_lock:
        pool = _pools.pop(kg, None)
    if pool is not None:
        pool.close()


# --- the worker process ----------------------------------------------------------------


_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_warned = threading.Lock()


def isolate_network() -> str | None:
    """Move this process into a network namespace of its own; how it was done, or None if it could not be.

    Call it before any thread starts (a user namespace requires a single-threaded process).
    """
    try:
        unshare = ctypes.CDLL(None, use_errno=True).unshare
    except (OSError, AttributeError):
        return None  # not Linux
    if unshare(_CLONE_NEWNET) == 0:
        return "netns"
    if unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0:
        return "userns+netns"
    return None


def _warn_no_network_wall() -> None:
    if _warned.acquire(blocking=False):  # once per process; never released
        log.warning(
            "SPARQL-verwerkers kunnen hier niet van het netwerk worden afgesloten (geen network "
            "namespace beschikbaar); SERVICE wordt alleen door de querycontrole geweigerd"
        )


def main(fd: int, memory_limit: int) -> None:
    wall = isolate_network()  # first, while this process has one thread
    conn = Connection(fd)
    conn.send(("hello", wall))
    os.nice(5)  # on a small machine, searches come before analytic queries
    with contextlib.suppress(ValueError, OSError):  # a lower hard limit is already in place
        resource.setrlimit(resource.RLIMIT_DATA, (memory_limit, memory_limit))
    deadline: list[float | None] = [None]
    threading.Thread(target=_watch, args=(os.getppid(), deadline), daemon=True).start()
    store, opened = None, None
    while True:
        try:
            path, request, timeout_s = conn.recv()
        except (EOFError, OSError):
            return  # the parent closed the pipe or died
        if path != opened:
            store, opened = None, None  # close the old checkpoint before opening the new one
            try:
                store, opened = ox.Store.read_only(path), path
            except OSError as exc:
                if request is not None:
                    conn.send(("error", f"De SPARQL-gegevens konden niet worden geopend: {exc}", 503))
                continue
        if request is None or store is None:  # only open the checkpoint, ahead of the first query
            continue
        deadline[0] = time.monotonic() + timeout_s + GRACE_S
        reply: tuple[str, QueryResult] | tuple[str, str, int]
        try:
            reply = ("ok", check_and_evaluate(store, *request))
        except SparqlError as exc:
            reply = ("error", str(exc), exc.status)
        deadline[0] = None
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # a term that does not pickle: pickling fails before anything is sent
            conn.send(("error", f"Het resultaat kon niet worden teruggestuurd: {exc}", 500))


def _watch(parent: int, deadline: list) -> None:
    # pyoxigraph releases the GIL while it evaluates, and the parser check yields it every few ms,
    # so this thread runs during a query.
    while True:
        time.sleep(0.2)
        if os.getppid() != parent or (deadline[0] is not None and time.monotonic() > deadline[0]):
            os._exit(3)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
