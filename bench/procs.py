"""Processes the benchmark starts: timed CLI runs (wall time, peak RSS) and a `maatwerk serve` it can stop.

Peak RSS of a finished child comes from `os.wait4`, which returns that one child's
rusage (ru_maxrss, KiB on Linux); a running server's RSS comes from /proc/PID/status.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


def maatwerk_cmd() -> list[str]:
    """The `maatwerk` console script of this venv (or the module, when run from a bare checkout)."""
    script = Path(sys.executable).with_name("maatwerk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


@dataclass
class Finished:
    seconds: float
    peak_rss_mb: float  # largest single process (exact, from wait4)
    peak_tree_rss_mb: float  # the process and its descendants together (sampled every 0.2 s)
    returncode: int


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (e.g. encoder worker processes), in MiB."""
    tree, total, todo = _children(), 0.0, [pid]
    while todo:
        p = todo.pop()
        total += rss_mb(p) or 0.0
        todo.extend(tree.get(p, ()))
    return total


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.peak = max(self.peak, tree_rss_mb(self.pid))


def run_measured(args: list[str], log: Path, stdout: Path | None = None) -> Finished:
    """Run a maatwerk command to completion; output to `log` (stdout to `stdout` if given). Raises when it fails."""
    with open(log, "wb") as out, open(stdout or os.devnull, "wb") as data:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*maatwerk_cmd(), *args],
            stdout=data if stdout else out,
            stderr=out if stdout else subprocess.STDOUT,
            env=child_env(),
        )
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            sampler.done.set()
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"maatwerk {' '.join(args)} failed with exit {proc.returncode}:\n{tail}")
    sampler.join()
    return Finished(seconds, usage.ru_maxrss / 1024, max(sampler.peak, usage.ru_maxrss / 1024), proc.returncode)


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """VmRSS (current), VmHWM (peak) or RssAnon (current, without mapped files) of a running process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def disk_mb(path: Path) -> float:
    """Apparent size of all files under `path`, in MiB."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total / 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def request(port: int, method: str, path: str, body: dict | None = None, timeout: float = 60.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """`maatwerk serve` on a data dir; use as a context manager so it is always stopped."""

    HEALTH = "/health"  # docs/http.md (there is no /api/health)

    def __init__(self, data_dir: Path, port: int, log: Path):
        self.data_dir, self.port, self.log = data_dir, port, log
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def __enter__(self) -> Server:
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is already in use; pass another --port")
        self._log = open(self.log, "ab")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [*maatwerk_cmd(), "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=child_env(),
        )
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_healthy(self, timeout: float = 600.0) -> float:
        """Seconds from launch until GET /health answers 200."""
        assert self.proc is not None, "call inside `with Server(...)`"
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"maatwerk serve exited with {self.proc.returncode}:\n{self._tail()}")
            try:
                status, _ = request(self.port, "GET", self.HEALTH, timeout=5)
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"maatwerk serve not healthy after {timeout:.0f} s:\n{self._tail()}")

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid)

    def anon_mb(self) -> float | None:
        """The memory the server holds itself: its RSS without the pages of memory-mapped files (the index's
        vectors and BM25 matrix), which count in RSS once read but are page cache the kernel can reclaim."""
        return rss_mb(self.pid, "RssAnon")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly and closes the store
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self.proc = None

    def _tail(self) -> str:
        self._log.flush()
        return self.log.read_text(errors="replace")[-2000:]


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
