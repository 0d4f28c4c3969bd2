"""Daemon benchmarks (prints one table):

* idle RSS and idle CPU of `digpy server` with 1,000 schedules loaded (SQLite);
* R6 crash -> re-dispatch: a daemon is killed (-9) while running a task; how long until the
  surviving daemon starts it again (p50/p99 over --runs; budget lease + sweep + 2 s);
* two daemons vs one on PostgreSQL: 8 attempts x 8 parallel `sh>: sleep 1` tasks, 4 worker
  threads per daemon (budget: two are >= 1.7x as fast).

The PostgreSQL rows need DIGPY_TEST_POSTGRES_URL (or --postgres URL); each run gets a
private schema, dropped afterwards.

    python3 bench/bench_server.py [--schedules 1000] [--seconds 10] [--runs 5] [--lease 6]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import print_table

TICKS = os.sysconf("SC_CLK_TCK")
SWEEP_SECONDS = 1.0  # the daemon looks for free or expired leases every scheduler_interval


def make_project(root: Path, count: int) -> Path:
    project = root / "many"
    project.mkdir()
    for i in range(count):
        (project / f"wf{i:04d}.dig").write_text(
            f"schedule:\n  daily>: {i % 24:02d}:{i % 60:02d}:00\n+a:\n  echo>: {i}\n")
    return project


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def idle_rows(schedules: int, seconds: float) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = make_project(root, schedules)
        data = root / "data"
        subprocess.run([sys.executable, "-m", "digpy", "push", str(project), "--database",
                        f"sqlite:///{data / 'digpy.db'}"], check=True, capture_output=True)
        # The default daemon: scheduler, executor and the REST API (on a free port).
        proc = subprocess.Popen([sys.executable, "-m", "digpy", "server", "--data-dir",
                                 str(data), "--port", "0"], stderr=subprocess.DEVNULL)
        try:
            time.sleep(3)  # start-up and the first ticks
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(seconds)
            cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0) * 100
            rss = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return [[f"idle RSS ({schedules} schedules, SQLite)", f"{rss:.0f} MB", "<= 150 MB"],
            [f"idle CPU ({schedules} schedules, SQLite)", f"{cpu:.2f} %", "<= 2 %"]]


# -- several daemons on PostgreSQL ------------------------------------------------------------

@contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    schema = f"digpy_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{base_url}?options=-csearch_path%3D{schema}"
        from digpy.store.sql.engine import open_store

        open_store(url).close()  # migrate once, before daemons start
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def start_daemon(data: Path, url: str, lease: float, threads: int) -> subprocess.Popen[bytes]:
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DIGPY_LEASE_SECONDS": str(lease),
           "DIGPY_HEARTBEAT_SECONDS": str(lease / 3)}
    return subprocess.Popen(
        [sys.executable, "-m", "digpy", "server", "--database", url, "--data-dir", str(data),
         "--disable-scheduler", "--disable-api", "--max-task-threads", str(threads)],
        stdout=subprocess.DEVNULL, stderr=open(data / "daemon.log", "ab"), env=env,
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def registered(url: str, count: int) -> bool:
    from digpy.store.sql.engine import open_store

    with open_store(url, run_migrations=False) as store, store.read() as tx:
        return len(tx.leases.list_daemons()) >= count


def start_attempts(url: str, project_dir: Path, workflow: str, count: int) -> list[int]:
    from digpy.clock import SystemClock
    from digpy.dsl.project import load_project
    from digpy.engine.attempts import AttemptRequest, start_attempt
    from digpy.scheduler.sync import store_revision
    from digpy.store.sql.engine import open_store

    project = load_project(project_dir)
    now = SystemClock().now()
    with open_store(url, run_migrations=False) as store:
        pushed = store_revision(store, name=project.name, path=str(project.path),
                                workflows=list(project.workflows.values()), now=now)
        wf = project.workflows[workflow]
        base = now.replace(minute=0, second=0, microsecond=0)
        return [start_attempt(store, AttemptRequest(
            project_id=pushed.project.id, workflow=wf, definition=pushed.definitions[workflow],
            revision_name=pushed.revision.name, session_time=base - timedelta(hours=i),
        ), now=now).id for i in range(count)]


def all_finished(url: str, ids: Sequence[int]) -> bool:
    from digpy.store.sql.engine import open_store

    with open_store(url, run_migrations=False) as store, store.read() as tx:
        return all(tx.attempts.get_attempt(i).done for i in ids)


def stop_all(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(60)  # a killed one has its exit status already


def throughput_seconds(base_url: str, root: Path, daemons: int) -> float:
    """Wall seconds for 2 daemons' worth of sleep-bound attempts with ``daemons`` daemons."""
    project = root / f"sleepy{daemons}"
    project.mkdir()
    tasks = "\n".join(f"  +t{i}:\n    sh>: sleep 1" for i in range(8))
    (project / "sleepy.dig").write_text(f"+fan:\n  _parallel: true\n{tasks}\n")
    with pg_schema(base_url) as url:
        procs = [start_daemon(root / f"tp{daemons}-{i}", url, 60.0, 4) for i in range(daemons)]
        try:
            wait_for(lambda: registered(url, daemons), 60, "daemons to register")
            start = time.monotonic()
            ids = start_attempts(url, project, "sleepy", 8)
            wait_for(lambda: all_finished(url, ids), 300, "the attempts")
            return time.monotonic() - start
        finally:
            stop_all(procs)


def redispatch_seconds(base_url: str, root: Path, run: int, lease: float) -> float:
    """Kill -9 the daemon running a task; seconds until the other daemon starts it again."""
    project = root / f"crash{run}"
    project.mkdir()
    ledger = root / f"crash{run}.txt"
    (project / "crash.dig").write_text(
        f'+t:\n  sh>: echo "$(date +%s%N)" >> {ledger}; sleep 2\n')
    with pg_schema(base_url) as url:
        procs = [start_daemon(root / f"crash{run}-{i}", url, lease, 4) for i in range(2)]
        try:
            wait_for(lambda: registered(url, 2), 60, "two daemons")
            start_attempts(url, project, "crash", 1)
            wait_for(lambda: ledger.exists() and ledger.read_text().strip() != "", 60,
                     "the first run")
            time.sleep(lease / 3 * 0.5)  # kill between two heartbeats
            victim = next(p for p in procs if p.pid == holder_pid(url))
            killed = time.time_ns()
            victim.send_signal(signal.SIGKILL)
            wait_for(lambda: len(ledger.read_text().split()) >= 2, 60, "the re-dispatch")
            return (int(ledger.read_text().split()[1]) - killed) / 1e9
        finally:
            stop_all(procs)


def holder_pid(url: str) -> int:
    from digpy.store.sql.engine import open_store

    with open_store(url, run_migrations=False) as store, store.read() as tx:
        [lease] = tx.leases.list_leases()
        return next(d.pid for d in tx.leases.list_daemons() if d.id == lease.daemon_id)


def pg_rows(base_url: str, runs: int, lease: float) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        times = sorted(redispatch_seconds(base_url, root, i, lease) for i in range(runs))
        one = throughput_seconds(base_url, root, 1)
        two = throughput_seconds(base_url, root, 2)
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    budget = lease + SWEEP_SECONDS + 2
    return [
        [f"R6 crash -> re-dispatch p50 ({runs} runs, lease {lease:g} s)",
         f"{statistics.median(times):.2f} s", f"<= {budget:g} s"],
        [f"R6 crash -> re-dispatch p99 ({runs} runs, lease {lease:g} s)", f"{p99:.2f} s",
         f"<= {budget:g} s"],
        ["8 attempts x 8 sleep-1 tasks, 1 daemon x 4 threads (PG)", f"{one:.1f} s", ""],
        ["8 attempts x 8 sleep-1 tasks, 2 daemons x 4 threads (PG)", f"{two:.1f} s", ""],
        ["speed-up of 2 daemons over 1", f"{one / two:.2f} x", ">= 1.7 x"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5, help="crash runs for R6")
    parser.add_argument("--lease", type=float, default=6.0, help="lease seconds for R6")
    parser.add_argument("--postgres", default=os.environ.get("DIGPY_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-idle", action="store_true")
    args = parser.parse_args()
    rows = [] if args.skip_idle else idle_rows(args.schedules, args.seconds)
    if args.postgres:
        rows += pg_rows(args.postgres, args.runs, args.lease)
    else:
        rows.append(["multi-daemon rows", "skipped", "set DIGPY_TEST_POSTGRES_URL"])
    print_table(rows, ("metric", "value", "budget"))


if __name__ == "__main__":
    main()
