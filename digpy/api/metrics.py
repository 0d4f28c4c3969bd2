"""``GET /metrics`` in the Prometheus text format (0.0.4), written by hand: five metric
families do not justify a client library and its global registry.

Attempts by status, READY tasks (the queue) and task durations come from the store at
scrape time, so every daemon on one database reports the same totals. Schedule lateness
(fire time − due run time) is observed in this process as the schedule service fires
slots (``MeteredSchedules`` wraps the daemon's service).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from digpy.api.request import ApiContext, ApiRequest
from digpy.api.routes import Endpoint, Reply

TASK_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
LATENESS_BUCKETS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 30.0, 60.0, 600.0)
STATUSES = ("running", "success", "error", "killed")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    """A thread-safe histogram (observed on the daemon's thread, read by the API's)."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self._counts = [0] * len(self.bounds)
        self._sum = 0.0
        self._total = 0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        with self._lock:
            self._total += 1
            self._sum += value
            for i, bound in enumerate(self.bounds):
                if value <= bound:
                    self._counts[i] += 1
                    break

    def snapshot(self) -> tuple[list[int], int, float]:
        """(cumulative counts per bound, total, sum), as ``BrowseRepo`` returns them."""
        with self._lock:
            running, cumulative = 0, []
            for count in self._counts:
                running += count
                cumulative.append(running)
            return cumulative, self._total, self._sum


class MeteredSchedules:
    """The daemon's schedule service, observing each started slot's lateness."""

    def __init__(self, service: Any, lateness: Histogram) -> None:
        self._service = service
        self._lateness = lateness

    def tick(self, now: Any) -> list[Any]:
        fired = self._service.tick(now)
        for slot in fired:
            if getattr(slot.action, "value", "") == "started":
                self._lateness.observe(max(slot.lateness, 0.0))
        return list(fired)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)


class Metrics:
    def __init__(self, *, version: str, database: str) -> None:
        self.version = version
        self.database = database
        self.lateness = Histogram(LATENESS_BUCKETS)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, kind: str, help_text: str, samples: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


def _histogram(name: str, bounds: Sequence[float], snapshot: tuple[list[int], int, float]
               ) -> list[str]:
    cumulative, total, seconds = snapshot
    lines = [f'{name}_bucket{{le="{b:g}"}} {n}' for b, n in zip(bounds, cumulative, strict=True)]
    return [*lines, f'{name}_bucket{{le="+Inf"}} {total}', f"{name}_sum {seconds:.6g}",
            f"{name}_count {total}"]


def render(metrics: Metrics, ctx: ApiContext) -> str:
    with ctx.store.read() as tx:
        by_status = tx.browse.count_attempts_by_status()
        ready = tx.browse.count_ready_tasks()
        durations = tx.browse.task_duration_histogram(TASK_BUCKETS)
    labels = f'version="{_label(metrics.version)}",database="{_label(metrics.database)}"'
    info = f"digpy_info{{{labels}}} 1"
    lines = [
        *_family("digpy_up", "gauge", "1 while the daemon serves.", ["digpy_up 1"]),
        *_family("digpy_info", "gauge", "The daemon's version and database.", [info]),
        *_family("digpy_attempts", "gauge", "Attempts in the store by status.",
                 [f'digpy_attempts{{status="{s}"}} {by_status.get(s, 0)}' for s in STATUSES]),
        *_family("digpy_tasks_ready", "gauge", "READY tasks waiting for a worker thread.",
                 [f"digpy_tasks_ready {ready}"]),
        *_family("digpy_task_duration_seconds", "histogram",
                 "Run time of finished operator tasks.",
                 _histogram("digpy_task_duration_seconds", TASK_BUCKETS, durations)),
        *_family("digpy_schedule_lateness_seconds", "histogram",
                 "Fire time minus due run time of schedule slots started by this daemon.",
                 _histogram("digpy_schedule_lateness_seconds", LATENESS_BUCKETS,
                            metrics.lateness.snapshot())),
    ]
    return "\n".join(lines) + "\n"


def metrics_endpoint(metrics: Metrics) -> Endpoint:
    def handler(ctx: ApiContext, req: ApiRequest) -> Reply:
        return Reply(content=render(metrics, ctx).encode(), media_type=CONTENT_TYPE)

    return Endpoint(method="GET", path="/metrics", handler=handler,
                    summary="Prometheus metrics", returns="text")
