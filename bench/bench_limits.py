"""What the executor limits cost (scheduler/limits.py): the ``attempt_max_run`` count that
every attempt start now runs in its transaction, and the daemon's in-memory TTL scan.

    python3 bench/bench_limits.py            # SQLite; PostgreSQL too with DIGPY_TEST_POSTGRES_URL

Prints per-call times for a write transaction with the COUNT, with 100 and 1,000 running
attempts (plus as many finished ones), and for one TTL scan of 100 driven attempts with 32
RUNNING tasks each.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from _table import median_seconds, print_table

from digpy.dsl.compiler import compile_workflow
from digpy.engine.attempts import AttemptRequest, start_attempt
from digpy.model.records import Attempt, Task
from digpy.model.states import AttemptStatus, TaskFlags, TaskState, Trigger
from digpy.scheduler.limits import Ttls, find_expired
from digpy.scheduler.sync import store_revision
from digpy.store.sql.engine import SqlStore, open_store, sqlite_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CALLS = 200


def fill(store: SqlStore, running: int) -> None:
    """``running`` running attempts and as many finished ones."""
    workflow = compile_workflow("wf", {"+a": {"echo>": "x"}})
    pushed = store_revision(store, name="p", path="/nowhere", workflows=[workflow], now=T0)
    for i in range(2 * running):
        attempt = start_attempt(store, AttemptRequest(
            project_id=pushed.project.id, workflow=workflow, definition=pushed.definitions["wf"],
            revision_name=pushed.revision.name, session_time=T0 + timedelta(hours=i)), now=T0)
        if i % 2:
            with store.write() as tx:
                tx.attempts.finish_attempt(attempt.id, AttemptStatus.SUCCESS, now=T0)


def count_ms(store: SqlStore) -> float:
    def calls() -> None:
        for _ in range(CALLS):
            with store.write() as tx:  # as the starts do: inside a write transaction
                tx.attempts.count_running_attempts()

    median, _ = median_seconds(calls, runs=3)
    return median / CALLS * 1000


def count_rows(url_for: dict[str, object]) -> list[list[str]]:
    rows = []
    for backend, make_url in url_for.items():
        for running in (100, 1000):
            url = make_url()  # type: ignore[operator]
            store = open_store(url)
            try:
                fill(store, running)
                rows.append([backend, f"write tx + COUNT ({running} running, {running} done)",
                             f"{count_ms(store):.3f} ms"])
            finally:
                store.close()
    return rows


def ttl_row() -> list[str]:
    ttls = Ttls(task_ttl="1d", attempt_ttl="7d")
    attempts = [
        (_attempt(i), [_task(i * 100 + j) for j in range(32)]) for i in range(100)]
    now = T0 + timedelta(hours=1)

    def scan() -> None:
        for attempt, running in attempts:
            find_expired(attempt, running, ttls, now)

    median, _ = median_seconds(scan, runs=20)
    return ["memory", "TTL scan (100 attempts x 32 RUNNING tasks)", f"{median * 1000:.3f} ms"]


def _attempt(i: int) -> Attempt:
    return Attempt(id=i, session_id=i, project_id=1, workflow_name="wf", session_time=T0,
                   session_uuid="u", name="", index=1, params={}, status=AttemptStatus.RUNNING,
                   trigger=Trigger.API, who="bench", workflow_definition_id=1,
                   revision_name="r", timezone="UTC", created_at=T0, finished_at=None,
                   cancel_requested=False, task_limit=1000)


def _task(i: int) -> Task:
    return Task(id=i, attempt_id=1, parent_id=None, full_name=f"+wf+t{i}", is_group=False,
                operator="sh", state=TaskState.RUNNING, flags=TaskFlags(0), upstream_ids=(),
                config={}, started_at=T0)


SCHEMAS: list[str] = []  # dropped at the end


def _pg_schema_url(base: str) -> str:
    schema = f"bench_limits_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(base).begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    SCHEMAS.append(schema)
    return f"{base}?options=-csearch_path%3D{schema}"


def _drop_schemas(base: str) -> None:
    with sa.create_engine(base).begin() as conn:
        for schema in SCHEMAS:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(100))
        url_for: dict[str, object] = {
            "sqlite": lambda: sqlite_url(Path(tmp) / f"s{next(counter)}.db")}
        pg = os.environ.get("DIGPY_TEST_POSTGRES_URL")
        if pg:
            url_for["postgresql"] = lambda: _pg_schema_url(pg)
        try:
            rows = [*count_rows(url_for), ttl_row()]
        finally:
            if pg:
                _drop_schemas(pg)
    print_table(rows, ["store", "what", "per call"])


if __name__ == "__main__":
    main()
