"""td_for_each>: one +td-for-each-N task per row, exporting td.each.<column>."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from digpy_operators.td_for_each import MAX_ROWS, TdForEachOperator

from digpy.spi import ConfigError, TaskFailed

DO = {"+show": {"echo>": "${td.each.name} ${td.each.n}"}}


def for_each(run_op: Any, query: str, **options: Any) -> Any:
    return run_op(TdForEachOperator, {"td": {"database": "db"}, "_command": {"data": query},
                                      "_do": DO, **options})


def test_each_row_becomes_a_task_exporting_its_columns(td: Any, run_op: Any) -> None:
    ran = for_each(run_op, "SELECT * FROM (VALUES ('a', 1), ('b', 2)) t(name, n) ORDER BY n")
    assert ran.result.subtask_config == {
        "+td-for-each-0": {**DO, "_export": {"td": {"each": {"name": "a", "n": 1}}}},
        "+td-for-each-1": {**DO, "_export": {"td": {"each": {"name": "b", "n": 2}}}}}


def test_the_job_outputs_are_stored_as_td_does(td: Any, run_op: Any) -> None:
    ran = for_each(run_op, "SELECT 'a' AS name")
    job_id = ran.td["last_job_id"]
    assert ran.td == {"last_job_id": job_id, "last_job": {"id": job_id, "num_records": 1}}


def test_parallel_carries_over_and_template_exports_are_kept(td: Any, run_op: Any) -> None:
    template = {"+show": {"echo>": "x"}, "_export": {"td": {"database": "other"}, "k": 1}}
    ran = run_op(TdForEachOperator, {"td": {"database": "db"}, "_parallel": True,
                                     "_command": {"data": "SELECT 'a' AS name"},
                                     "_do": template})
    config = ran.result.subtask_config
    assert config["_parallel"] is True
    assert config["+td-for-each-0"]["_export"] == {
        "td": {"database": "other", "each": {"name": "a"}}, "k": 1}
    assert template["_export"] == {"td": {"database": "other"}, "k": 1}  # not mutated


def test_no_rows_means_no_tasks(td: Any, run_op: Any) -> None:
    assert for_each(run_op, "SELECT 1 AS n WHERE false").result.subtask_config is None


def test_dates_become_text_as_td_hands_them_out(td: Any, run_op: Any) -> None:
    ran = for_each(run_op, "SELECT DATE '2016-01-30' AS day")
    assert ran.result.subtask_config["+td-for-each-0"]["_export"]["td"]["each"] == {
        "day": "2016-01-30"}


def test_too_many_rows_are_refused_with_a_remedy(td: Any, run_op: Any) -> None:
    with pytest.raises(TaskFailed, match=f"more than {MAX_ROWS} rows.*Narrow the query"):
        for_each(run_op, f"SELECT * FROM range({MAX_ROWS + 1})")


def test_do_is_required(td: Any, run_op: Any) -> None:
    with pytest.raises(ConfigError, match="'_do' is required"):
        run_op(TdForEachOperator, {"td": {"database": "db"}, "_command": {"data": "SELECT 1"}})


def test_a_query_file_is_rendered(td: Any, run_op: Any, project: Path) -> None:
    (project / "users.sql").write_text("SELECT '${who}' AS name")
    ran = run_op(TdForEachOperator, {"td": {"database": "db"}, "_command": "users.sql",
                                     "who": "ann", "_do": DO})
    assert ran.result.subtask_config["+td-for-each-0"]["_export"]["td"]["each"] == {
        "name": "ann"}


@pytest.mark.postgres
def test_on_postgresql_rows_come_from_the_schema(td: Any, run_op: Any,
                                                 postgres_url: str) -> None:
    schema = f"each_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        conn.exec_driver_sql(f'CREATE TABLE "{schema}".users AS SELECT \'ann\' AS name, 7 AS n')
    try:
        ran = run_op(TdForEachOperator, {
            "td": {"backend": "sql", "url": postgres_url, "database": schema},
            "_command": {"data": "SELECT name, n FROM users"}, "_do": DO})
        assert ran.result.subtask_config["+td-for-each-0"]["_export"]["td"]["each"] == {
            "name": "ann", "n": 7}
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()
