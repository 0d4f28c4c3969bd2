"""Fixtures for the td> family: a project directory and a one-call way to run an operator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from td_testing import context

from digpy.spi import Operator, OperatorContext, TaskResult
from digpy.spi.testing import RecordingLog


@dataclass
class Ran:
    result: TaskResult
    ctx: OperatorContext

    @property
    def td(self) -> Mapping[str, Any]:
        return self.result.store_params["td"]

    @property
    def log(self) -> str:
        log = self.ctx.log
        assert isinstance(log, RecordingLog)
        return log.text


Runner = Callable[..., Ran]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def run_op(project: Path) -> Callable[..., Ran]:
    """run_op(OperatorClass, config, **context options) -> Ran (result + context)."""

    def run(cls: type[Operator], config: Mapping[str, Any], **kw: Any) -> Ran:
        ctx = context(project, config, operator=cls.type, **kw)
        return Ran(cls(ctx).run(), ctx)

    return run


@pytest.fixture
def td(project: Path, run_op: Callable[..., Ran]) -> Runner:
    """td(config, **context options): run td> on the local backend (database 'db' default)."""
    from digpy_operators.td import TdOperator
    from digpy_operators.td.local import open_database, quote

    # TD needs a database before a query can run in it; td_ddl> would create it.
    db = open_database(project / ".digpy" / "td.duckdb")
    db.cursor().execute(f"CREATE SCHEMA IF NOT EXISTS digpy_td.{quote('db')}")

    def run(config: Mapping[str, Any], **kw: Any) -> Ran:
        return run_op(TdOperator, {"td": {"database": "db"}, **config}, **kw)

    return run
