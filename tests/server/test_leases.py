"""Several ``digpy server`` processes on one PostgreSQL database: attempt leases, takeover
after ``kill -9`` and fencing of a stale owner (reliability R3, R5, C3). Leases are 3 s with
a 1 s heartbeat; every task appends ``start``/``end`` lines with nanosecond times to an
execution ledger, so runs that overlapped would show."""

from __future__ import annotations

import signal
from pathlib import Path

from digpy.store.sql.engine import open_store

from .daemon_helpers import (
    attempt_status,
    create_attempt,
    create_attempts,
    daemon_id_of,
    holders,
    intervals,
    ledger,
    overlapping,
    start_pg_daemon,
    stop,
    wait_for,
    write,
)


def logged(name: str, out: Path, body: str = "") -> str:
    """An ``sh>`` command that records its run in the ledger ``out``."""
    return (f'echo "start {name} $(date +%s%N)" >> {out}; {body} '
            f'echo "end {name} $(date +%s%N)" >> {out}')


def test_an_attempt_whose_daemon_died_before_its_first_heartbeat_is_taken_over(
    tmp_path: Path, pg_url: str,
) -> None:
    out = tmp_path / "ledger.txt"
    project = tmp_path / "proj"
    write(project / "wf.dig", f"""
+a:
  sh>: {logged("a", out, "sleep 1;")}
+b:
  sh>: {logged("b", out)}
""")
    with open_store(pg_url) as store:
        attempt = create_attempt(pg_url, project, "wf")
        first = start_pg_daemon(tmp_path / "first", pg_url, lease=3, heartbeat=2.5)
        try:
            wait_for(lambda: attempt.id in holders(store), 20, "the first daemon's claim")
        finally:
            first.send_signal(signal.SIGKILL)  # right after the claim, before any heartbeat
            first.wait(10)
        with store.read() as tx:
            [dead] = tx.leases.list_daemons()
        second = start_pg_daemon(tmp_path / "second", pg_url, lease=3, heartbeat=1)
        try:
            wait_for(lambda: attempt_status(store, attempt.id) != "running", 30,
                     "the attempt to finish")
            status = attempt_status(store, attempt.id)
        finally:
            assert stop(second) == 0
    assert dead.heartbeat_at == dead.started_at  # it died before its first heartbeat
    assert status == "success"
    assert f"taking over from {dead.id}" in (tmp_path / "second" / "daemon.log").read_text()
    assert {"a", "b"} <= set(intervals(out))


def test_when_one_of_two_daemons_is_killed_the_survivor_finishes_every_task(
    tmp_path: Path, pg_url: str,
) -> None:
    out = tmp_path / "ledger.txt"
    project = tmp_path / "proj"
    steps = "\n".join(
        f"  +{group}:\n    _parallel: true\n" + "\n".join(
            f"    +{group}{i}:\n"
            f"      sh>: {logged(f'${{attempt_id}}-{group}{i}', out, 'sleep 0.3;')}"
            for i in range(2))
        for group in ("p", "q"))
    write(project / "wf.dig", f"+steps:\n{steps}\n")
    with open_store(pg_url) as store:
        daemons = [start_pg_daemon(tmp_path / name, pg_url, "--max-task-threads", "2")
                   for name in ("one", "two")]
        try:
            wait_for(lambda: all(daemon_id_of(store, d.pid) for d in daemons), 20,
                     "both daemons to register")
            attempts = create_attempts(pg_url, project, "wf", 4)
            wait_for(lambda: len(set(holders(store).values())) == 2, 20,
                     "both daemons to hold attempts")
            victim_id = daemon_id_of(store, daemons[0].pid)
            daemons[0].send_signal(signal.SIGKILL)
            daemons[0].wait(10)
            wait_for(lambda: all(attempt_status(store, a.id) != "running" for a in attempts),
                     30, "every attempt to finish")
            statuses = {attempt_status(store, a.id) for a in attempts}
        finally:
            codes = [stop(d) for d in daemons]
    assert codes[1] == 0
    assert statuses == {"success"}
    runs = intervals(out)
    assert set(runs) == {f"{a.id}-{g}{i}" for a in attempts for g in "pq" for i in range(2)}
    assert not [name for name, each in runs.items() if overlapping(each)]
    assert f"taking over from {victim_id}" in (tmp_path / "two" / "daemon.log").read_text()


def test_a_stopped_daemon_past_its_lease_has_its_late_report_rejected(
    tmp_path: Path, pg_url: str,
) -> None:
    out = tmp_path / "ledger.txt"
    flag = tmp_path / "first-run-done"
    project = tmp_path / "proj"
    # The first run (A's) fails after 1 s; the second (B's) succeeds after 4 s. A's failure
    # reaches the database while B's run is RUNNING: only the fence can refuse it there.
    write(project / "wf.dig", f"""
+flaky:
  sh>: if [ -e {flag} ]; then echo start2 >> {out}; sleep 4; echo end2 >> {out}; else
    echo start1 >> {out}; touch {flag}; sleep 1; exit 1; fi
""")
    with open_store(pg_url) as store:
        attempt = create_attempt(pg_url, project, "wf")
        a = start_pg_daemon(tmp_path / "a", pg_url)
        b = None
        try:
            wait_for(lambda: "start1" in ledger(out), 20, "A to start the task")
            a.send_signal(signal.SIGSTOP)
            b = start_pg_daemon(tmp_path / "b", pg_url)
            wait_for(lambda: "start2" in ledger(out), 30, "B to take over and re-run it")
            a.send_signal(signal.SIGCONT)
            a_log = tmp_path / "a" / "daemon.log"
            wait_for(lambda: "rejected" in a_log.read_text(), 20, "A's report to be rejected")
            rejected_before_b_finished = "end2" not in ledger(out)
            wait_for(lambda: attempt_status(store, attempt.id) != "running", 30,
                     "the attempt to finish")
            status = attempt_status(store, attempt.id)
            with store.read() as tx:
                tasks = tx.tasks.list_tasks(attempt.id)
            [task] = [t for t in tasks if t.full_name.endswith("flaky")]
        finally:
            a.send_signal(signal.SIGCONT)
            assert stop(a) == 0
            if b is not None:
                assert stop(b) == 0
    assert rejected_before_b_finished
    assert status == "success"
    assert (task.state.name, task.retry_count, task.error) == ("SUCCESS", 0, None)
    assert ledger(out) == ["start1", "start2", "end2"]


def test_a_daemon_stopped_by_sigterm_hands_its_attempts_over_without_waiting_for_expiry(
    tmp_path: Path, pg_url: str,
) -> None:
    out = tmp_path / "ledger.txt"
    project = tmp_path / "proj"
    write(project / "wf.dig", f"""
+first:
  sh>: {logged("first", out, "sleep 1;")}
+second:
  sh>: {logged("second", out)}
""")
    with open_store(pg_url) as store:
        leaving = start_pg_daemon(tmp_path / "leaving", pg_url, lease=600, heartbeat=200)
        staying = None
        try:
            wait_for(lambda: daemon_id_of(store, leaving.pid) is not None, 20, "the first daemon")
            attempt = create_attempt(pg_url, project, "wf")
            wait_for(lambda: "first" in intervals(out), 20, "the first task")
            staying = start_pg_daemon(tmp_path / "staying", pg_url, lease=600, heartbeat=200)
            wait_for(lambda: daemon_id_of(store, staying.pid) is not None, 20, "the second one")
            assert stop(leaving) == 0  # drains +first, then frees its lease
            # With a 600 s lease, only the release lets the other daemon continue now.
            wait_for(lambda: attempt_status(store, attempt.id) != "running", 20,
                     "the attempt to finish")
            status = attempt_status(store, attempt.id)
        finally:
            stop(leaving)
            if staying is not None:
                assert stop(staying) == 0
    assert status == "success"
    assert sorted(intervals(out)) == ["first", "second"]
    assert len(intervals(out)["first"]) == 1  # the drained task was not run again
