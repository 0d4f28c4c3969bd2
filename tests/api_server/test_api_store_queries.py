"""The store side of the API on SQLite and PostgreSQL: secret records per project and key,
paged listings, project soft delete, and the metrics aggregates."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from digpy.dsl.compiler import compile_workflow
from digpy.engine.attempts import AttemptRequest, register_project, start_attempt
from digpy.model.states import AttemptStatus
from digpy.store.sql.engine import SqlStore, open_store, sqlite_url

NOW = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        opened = open_store(sqlite_url(tmp_path / "db.sqlite"))
        yield opened
        opened.close()
        return
    url = os.environ.get("DIGPY_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("DIGPY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    schema = f"digpy_apistore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    opened = open_store(f"{url}?options=-csearch_path%3D{schema}")
    try:
        yield opened
    finally:
        opened.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def three_attempts(store: SqlStore) -> tuple[int, list[int]]:
    workflow = compile_workflow("wf", {"+a": {"echo>": "x"}})
    registered = register_project(store, name="p", path="/p", workflows=[workflow], now=NOW)
    ids = []
    for day in range(3):
        request = AttemptRequest(
            project_id=registered.project.id, workflow=workflow,
            definition=registered.definitions["wf"], revision_name=registered.revision.name,
            session_time=NOW + timedelta(days=day))
        ids.append(start_attempt(store, request, now=NOW).id)
    return registered.project.id, ids


def test_secret_records_are_kept_per_project_and_key(store: SqlStore) -> None:
    project_id, _ = three_attempts(store)
    with store.write() as tx:
        tx.secrets.put_record(project_id, "b.key", b"one", now=NOW)
        tx.secrets.put_record(project_id, "a.key", b"two", now=NOW)
        tx.secrets.put_record(project_id, "b.key", b"three", now=NOW)
    with store.read() as tx:
        assert tx.secrets.list_keys(project_id) == ["a.key", "b.key"]
        assert tx.secrets.get_record(project_id, "b.key") == b"three"
        assert tx.secrets.get_record(project_id + 1, "b.key") is None
    with store.write() as tx:
        assert tx.secrets.delete_record(project_id, "a.key") is True
        assert tx.secrets.delete_record(project_id, "a.key") is False


def test_pages_are_newest_first_below_last_id(store: SqlStore) -> None:
    project_id, ids = three_attempts(store)
    with store.read() as tx:
        page = tx.browse.page_attempts(project_id=project_id, limit=2)
        rest = tx.browse.page_attempts(project_id=project_id, last_id=page[-1].id)
        sessions = tx.browse.page_sessions(workflow="wf", last_id=10**9, limit=10)
    assert [a.id for a in page] == [ids[2], ids[1]]
    assert [a.id for a in rest] == [ids[0]]
    assert [s.id for s in sessions] == sorted((s.id for s in sessions), reverse=True)
    assert len(sessions) == 3


def test_a_deleted_project_leaves_the_list_and_loses_its_schedules(store: SqlStore) -> None:
    project_id, _ = three_attempts(store)
    with store.write() as tx:
        assert tx.browse.delete_project(project_id, now=NOW) is True
        assert tx.browse.delete_project(project_id, now=NOW) is False
    with store.read() as tx:
        assert tx.browse.list_projects() == []
        assert [p.id for p in tx.browse.list_projects(include_deleted=True)] == [project_id]
        assert tx.browse.project_deleted_at(project_id) == NOW
    with store.write() as tx:
        tx.browse.restore_project(project_id)
    with store.read() as tx:
        assert tx.browse.project_deleted_at(project_id) is None


def test_metrics_aggregates_count_statuses_ready_tasks_and_durations(store: SqlStore) -> None:
    _, ids = three_attempts(store)
    with store.write() as tx:
        tx.attempts.finish_attempt(ids[0], AttemptStatus.SUCCESS, now=NOW)
    with store.read() as tx:
        assert tx.browse.count_attempts_by_status() == {"success": 1, "running": 2}
        assert tx.browse.count_ready_tasks() == 0  # roots are PLANNED, children BLOCKED
        assert tx.browse.task_duration_histogram([1.0, 10.0]) == ([0, 0], 0, 0.0)
