"""A small project using td_ddl> + td> + td_wait_table> + td_for_each> + echo>, run through
the in-process engine (LocalEngine) on the local backend. Skipped while the engine cannot run
a workflow."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

SESSION = datetime(2016, 1, 30, tzinfo=UTC)

WORKFLOW = """\
timezone: UTC
_export:
  td:
    database: family_db

+setup:
  td_ddl>:
  create_databases: [family_db]
  empty_tables: [users]

+load:
  td>:
  query: "SELECT * FROM (VALUES ('ann', 3), ('bob', 5)) AS t(name, n)"
  create_table: users

+wait:
  td_wait_table>: users
  rows: 2

+each:
  td_for_each>: queries/users.sql
  _do:
    +show:
      echo>: "${td.each.name} has ${td.each.n} on ${session_date}"

+after:
  echo>: "last job ${td.last_job_id} had ${td.last_job.num_records} rows"
"""


def _operators() -> Any:
    from digpy_operators.echo import EchoOperator
    from digpy_operators.td import TdOperator
    from digpy_operators.td_ddl import TdDdlOperator
    from digpy_operators.td_for_each import TdForEachOperator
    from digpy_operators.td_wait_table import TdWaitTableOperator

    from digpy.agent.registry import OperatorRegistry

    registry = OperatorRegistry()
    for cls in (EchoOperator, TdOperator, TdDdlOperator, TdForEachOperator,
                TdWaitTableOperator):
        registry.register(cls)
    return registry.get


def test_a_project_using_the_td_family_runs_end_to_end(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    try:
        importlib.import_module("digpy.dsl.builtins")
        engine_cls = importlib.import_module("digpy.agent.local").LocalEngine
    except ModuleNotFoundError as exc:
        pytest.skip(f"the engine cannot run workflows yet ({exc})")
    from digpy.clock import FakeClock
    from digpy.dsl.project import load_project

    project = tmp_path / "family"
    (project / "queries").mkdir(parents=True)
    (project / "family.dig").write_text(WORKFLOW)
    (project / "queries" / "users.sql").write_text("SELECT name, n FROM users ORDER BY name\n")
    workflow = load_project(project).workflows["family"]
    with engine_cls(project, operators=_operators(), clock=FakeClock(SESSION)) as engine:
        result = engine.run(workflow, session_time=SESSION)
    assert result.success, result.error
    names = {t.full_name for t in result.tasks}
    assert {"+family+each^sub+td-for-each-0+show",
            "+family+each^sub+td-for-each-1+show"} <= names
    out = "".join(Path(t.log_path).read_text() for t in result.tasks
                  if t.log_path and Path(t.log_path).is_file()) + capsys.readouterr().out
    assert "ann has 3 on 2016-01-30" in out and "bob has 5 on 2016-01-30" in out
    assert "had 2 rows" in out
