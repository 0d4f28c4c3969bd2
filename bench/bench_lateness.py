"""Schedule lateness of the daemon loop (prints a table): fire time minus due time, over
``--slots`` due slots of schedules that fire every second, on SQLite, with a real
``Daemon`` loop (SystemClock, the workers running each fired attempt's echo> task).

The fire time is when a slot's transaction committed (the scheduler's log record), the due
time its run time; slots due in the first 3 s (start-up) are not counted. Scenarios: the
loop as shipped (it sleeps until the next due run time), the same with 1,000 daily
schedules loaded besides, and the old fixed 1 s tick for comparison. Budget: p99 <= 200 ms.

    python3 bench/bench_lateness.py [--slots 200] [--due 10] [--loaded 1000]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from digpy.clock import SystemClock
from digpy.dsl.compiler import compile_workflow
from digpy.scheduler.daemon import Daemon
from digpy.scheduler.sync import store_revision
from digpy.settings import Settings
from digpy.store.sql.engine import open_store

BUDGET_MS = 200.0
WARM_UP_SECONDS = 3.0


class FireTimes(logging.Handler):
    """Collects (session time, commit time) of every slot the scheduler started."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.fired: list[tuple[datetime, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 4 and str(args[3]) == "started":
            self.fired.append((datetime.fromisoformat(str(args[2])), record.created))


class FixedTickDaemon(Daemon):
    """The loop before lateness was fixed: a schedule tick every 1 s, whatever is due."""

    def _wake_when_due(self) -> None:
        return None


def workflows(due: int, loaded: int) -> list:  # type: ignore[type-arg]
    flows = [compile_workflow(f"every{i:03d}", {"schedule": {"seconds_interval>": 1},
                                                "+a": {"echo>": "tick"}}) for i in range(due)]
    flows += [compile_workflow(f"daily{i:04d}", {"schedule": {"daily>": "03:00:00"},
                                                 "+a": {"echo>": "day"}}) for i in range(loaded)]
    return flows


def measure(daemon_class: type[Daemon], *, slots: int, due: int, loaded: int) -> list[float]:
    """Lateness in milliseconds of the first ``slots`` slots started."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'digpy.db'}"
        store = open_store(url)
        clock = SystemClock()
        store_revision(store, name="bench", path=tmp, workflows=workflows(due, loaded),
                       now=clock.now())
        handler = FireTimes()
        service_log = logging.getLogger("digpy.scheduler.service")
        service_log.addHandler(handler)
        service_log.setLevel(logging.INFO)
        daemon = daemon_class(Settings(database=url, data_dir=tmp), store, clock)
        thread = threading.Thread(target=daemon.run, daemon=True)
        thread.start()
        # Slots due during start-up wait for the first tick (catch-up, not loop lateness):
        # count only those due after a warm-up.
        counted_from = clock.now().timestamp() + WARM_UP_SECONDS
        deadline = time.monotonic() + WARM_UP_SECONDS + slots / due + 30

        def counted() -> list[tuple[datetime, float]]:
            return [f for f in handler.fired if f[0].timestamp() >= counted_from]

        while len(counted()) < slots and time.monotonic() < deadline:
            time.sleep(0.2)
        daemon.request_stop()
        thread.join(60)
        service_log.removeHandler(handler)
        store.close()
    fired = counted()[:slots]
    return [(created - session.timestamp()) * 1000 for session, created in fired]


def row(name: str, lateness: list[float]) -> list[str]:
    ordered = sorted(lateness)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    verdict = "ok" if p99 <= BUDGET_MS else "over"
    return [name, str(len(ordered)), f"{statistics.median(ordered):.1f}", f"{p99:.1f}",
            f"{ordered[-1]:.1f}", f"<= {BUDGET_MS:.0f} ({verdict})"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=int, default=200, help="due slots measured per row")
    parser.add_argument("--due", type=int, default=10, help="schedules due every second")
    parser.add_argument("--loaded", type=int, default=1000, help="extra daily schedules")
    args = parser.parse_args()
    scenarios = [
        (f"{args.due} due/s", Daemon, 0),
        (f"{args.due} due/s + {args.loaded} loaded", Daemon, args.loaded),
        (f"{args.due} due/s, fixed 1 s tick (old loop)", FixedTickDaemon, 0),
    ]
    rows = [row(name, measure(cls, slots=args.slots, due=args.due, loaded=loaded))
            for name, cls, loaded in scenarios]
    print_table(rows, ["scenario (SQLite)", "slots", "p50 ms", "p99 ms", "max ms", "budget"])


if __name__ == "__main__":
    main()
