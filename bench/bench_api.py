"""REST API latency on a live ``digpy server`` (SQLite in a temporary folder, 127.0.0.1).

    python3 bench/bench_api.py [--attempts 300] [--requests 300]

Starts attempts through ``PUT /api/attempts`` (the daemon runs them meanwhile), then times
the reads a client and a Prometheus scraper make. Prints p50/p99 per request kind.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import print_table
from live_server import LiveServer, live_server

BASE = datetime(2020, 1, 1, tzinfo=UTC)


def timed(calls: int, fn: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return samples


def row(name: str, samples: list[float]) -> list[str]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return [name, str(len(samples)), f"{statistics.median(samples) * 1000:.1f}",
            f"{p99 * 1000:.1f}"]


def start(server: LiveServer, workflow_id: str, i: int) -> None:
    session = (BASE + timedelta(minutes=i)).isoformat()  # one new session per call
    answer = server.request("PUT", "/api/attempts",
                            {"workflowId": workflow_id, "sessionTime": session})
    assert answer.status == 200, answer.body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=300)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "p").mkdir()
        (root / "p" / "tiny.dig").write_text("+a:\n  echo>: hi\n")
        with live_server(root / "data") as server:
            project = server.push("bench", root / "p")
            wf = server.get(f"/api/projects/{project['id']}/workflows/tiny")["id"]
            rows = [row("PUT /api/attempts (start)",
                        timed(args.attempts, lambda i: start(server, wf, i)))]
            reads = {
                "GET /api/version": "/api/version",
                "GET /api/attempts (page of 100)": "/api/attempts?include_retried=true",
                "GET /api/attempts/{id}/tasks": "/api/attempts/1/tasks",
                "GET /api/sessions (page of 100)": "/api/sessions",
                "GET /metrics": "/metrics",
            }
            for name, path in reads.items():
                rows.append(row(name, timed(args.requests,
                                            lambda _i, p=path: server.request("GET", p))))
    print_table(rows, ["request", "n", "p50 ms", "p99 ms"])


if __name__ == "__main__":
    main()
