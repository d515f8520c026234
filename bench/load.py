"""HTTP load: N client threads with keep-alive connections (http.client) working through a fixed request list.

Latency is per request, from sending to having read the whole body; throughput is
requests completed divided by the wall time of the whole run. An error is any
status other than 200 or a connection failure.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Req:
    label: str
    method: str
    path: str
    body: bytes | None = None


def similar_cases(text: str, k: int = 10) -> Req:
    return Req(
        "POST /api/similar-cases",
        "POST",
        "/api/similar-cases",
        json.dumps({"text": text, "k": k}, ensure_ascii=False).encode(),
    )


@dataclass
class LoadResult:
    clients: int
    wall_s: float
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None
    capped: bool = False  # stopped sending at max_seconds before the list was done

    def summary(self) -> dict:
        every = [x for xs in self.latencies_ms.values() for x in xs]
        n = len(every) + sum(self.errors.values())
        out = {
            "clients": self.clients,
            "requests": n,
            "errors": sum(self.errors.values()),
            "wall_s": round(self.wall_s, 3),
            "throughput_rps": round(n / self.wall_s, 2) if self.wall_s else None,
            **latency_stats(every),
        }
        if len(self.latencies_ms) > 1:
            out["by_route"] = {
                label: {**latency_stats(xs), "errors": self.errors.get(label, 0)}
                for label, xs in sorted(self.latencies_ms.items())
            }
        if self.first_error:
            out["first_error"] = self.first_error
        if self.capped:
            out["capped"] = True
        return out


def latency_stats(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"p50_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
    a = np.asarray(values_ms)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "mean_ms": round(float(a.mean()), 2),
        "max_ms": round(float(a.max()), 2),
    }


def run(
    port: int, requests: list[Req], clients: int, timeout: float = 120.0, max_seconds: float | None = None
) -> LoadResult:
    """Send every request once, spread over `clients` threads; returns per-request latencies.

    With `max_seconds`, no new request starts after that time (the result says `capped`).
    """
    result = LoadResult(clients, 0.0)
    lock = threading.Lock()
    counter = itertools.count()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        start.wait()
        deadline = time.perf_counter() + max_seconds if max_seconds else float("inf")
        while True:
            i = next(counter)
            if i >= len(requests):
                break
            if time.perf_counter() > deadline:
                result.capped = True
                break
            req = requests[i]
            headers = {"Content-Type": "application/json"} if req.body is not None else {}
            t0 = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                ok, problem = response.status == 200, f"{response.status}: {payload[:200]!r}"
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                ok, problem = False, repr(exc)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if ok:
                    result.latencies_ms.setdefault(req.label, []).append(ms)
                else:
                    result.errors[req.label] = result.errors.get(req.label, 0) + 1
                    result.first_error = result.first_error or f"{req.label}: {problem}"
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    result.wall_s = time.perf_counter() - t0
    return result
