"""Stores and helpers shared by the scheduler-service tests: a fresh SQLite file, and (when
DIGPY_TEST_POSTGRES_URL is set) a private PostgreSQL schema dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from digpy.dsl.compiler import compile_workflow
from digpy.dsl.model import Workflow
from digpy.scheduler.sync import Pushed, store_revision
from digpy.store.sql.engine import SqlStore, open_store, sqlite_url
from tests.pg_schema import private_schema


def sqlite_store(tmp_path: Path) -> SqlStore:
    return open_store(sqlite_url(tmp_path / "state.db"))


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    with private_schema("digpy_sched") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        opened = sqlite_store(tmp_path)
    else:
        opened = open_store(request.getfixturevalue("pg_schema_url"))
    try:
        yield opened
    finally:
        opened.close()


def workflow(name: str, schedule: Mapping[str, Any], *, timezone: str = "UTC",
             task: str = "hello") -> Workflow:
    return compile_workflow(
        name, {"timezone": timezone, "schedule": dict(schedule), "+a": {"echo>": task}}
    )


def push(store: SqlStore, workflows: list[Workflow], now: datetime,
         project: str = "p") -> Pushed:
    return store_revision(store, name=project, path="/nowhere", workflows=workflows, now=now)
