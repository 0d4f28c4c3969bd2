"""td> on the local backend (DuckDB under .digpy/): options, outputs and errors as a workflow
author sees them. Real DuckDB files, no doubles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digpy.spi import ConfigError, TaskFailed

VALUES = "SELECT * FROM (VALUES (1, 'apple', 3), (2, 'pear', 5)) AS t(id, item, qty)"


def rows(td: Any, table: str) -> list[dict[str, Any]]:
    ran = td({"query": f"SELECT * FROM {table} ORDER BY 1", "download_file": "dump.csv"})
    assert ran.td["last_job"]["num_records"] >= 0
    path = Path(ran.ctx.project_path) / "dump.csv"
    header, *lines = path.read_text().splitlines()
    return [dict(zip(header.split(","), line.split(","), strict=True)) for line in lines]


def test_create_table_replaces_the_table_and_counts_the_rows_written(td: Any) -> None:
    td({"query": VALUES, "create_table": "fruit"})
    ran = td({"query": "SELECT 9 AS id, 'fig' AS item, 1 AS qty", "create_table": "fruit"})
    assert ran.td["last_job"]["num_records"] == 1
    assert rows(td, "fruit") == [{"id": "9", "item": "fig", "qty": "1"}]


def test_insert_into_creates_a_missing_table_then_appends_matching_columns_by_name(td: Any) -> None:
    td({"query": VALUES, "insert_into": "fruit"})
    td({"query": "SELECT 7 AS qty, 'kiwi' AS item, 3 AS id", "insert_into": "fruit"})
    assert [r["item"] for r in rows(td, "fruit")] == ["apple", "pear", "kiwi"]
    assert rows(td, "fruit")[-1] == {"id": "3", "item": "kiwi", "qty": "7"}


def test_a_qualified_target_creates_its_database_on_demand(td: Any) -> None:
    td({"query": VALUES, "create_table": "reports.fruit"})
    ran = td({"query": "SELECT count(*) AS n FROM reports.fruit", "store_last_results": True})
    assert ran.td["last_results"] == {"n": 2}


def test_outputs_are_the_job_id_as_a_string_and_the_record_count(td: Any) -> None:
    first = td({"query": VALUES})
    second = td({"query": VALUES})
    assert first.td["last_job_id"] == first.td["last_job"]["id"]
    assert isinstance(first.td["last_job_id"], str)
    assert int(second.td["last_job_id"]) > int(first.td["last_job_id"])
    assert first.td["last_job"]["num_records"] == 2
    assert "last_results" not in first.td and first.result.reset_store_params == ()


def test_store_last_results_stores_the_first_row_and_resets_the_old_value(td: Any) -> None:
    ran = td({"query": VALUES + " ORDER BY id", "store_last_results": True})
    assert ran.td["last_results"] == {"id": 1, "item": "apple", "qty": 3}
    assert ran.result.reset_store_params == ("td.last_results",)


def test_store_last_results_without_rows_stores_an_empty_map(td: Any) -> None:
    ran = td({"query": VALUES + " WHERE false", "store_last_results": True})
    assert ran.td["last_results"] == {}


def test_store_last_results_turns_dates_and_decimals_into_json(td: Any) -> None:
    ran = td({"query": "SELECT DATE '2016-01-30' AS d, CAST(1.5 AS DECIMAL(4,2)) AS x, "
                       "ARRAY[1, 2] AS a", "store_last_results": True})
    assert ran.td["last_results"] == {"d": "2016-01-30", "x": 1.5, "a": [1, 2]}


@pytest.mark.parametrize(("query", "message"), [
    ("SELECT repeat('x', 70000) AS big", "over the 64 KiB limit"),
    ("SELECT 'abc'::BLOB AS raw", "column 'raw' holds a bytes value"),
])
def test_store_last_results_refuses_what_cannot_be_a_parameter(td: Any, query: str,
                                                              message: str) -> None:
    with pytest.raises(TaskFailed, match=message):
        td({"query": query, "store_last_results": True})


def test_download_file_writes_digdags_csv_into_the_workdir(td: Any, project: Path) -> None:
    td({"query": "SELECT 'a,b' AS x, NULL AS y, '' AS z, 'say \"hi\"' AS q, 1.5 AS n, "
                 "true AS b", "download_file": "out/result.csv"})
    assert (project / "out" / "result.csv").read_bytes() == (
        b'x,y,z,q,n,b\r\n"a,b",,"","say ""hi""",1.5,true\r\n')


def test_download_file_outside_the_project_is_refused(td: Any) -> None:
    with pytest.raises(ConfigError, match="outside of the project"):
        td({"query": VALUES, "download_file": "../escape.csv"})


def test_preview_logs_at_most_twenty_rows(td: Any) -> None:
    ran = td({"query": "SELECT range AS n FROM range(100)", "preview": True})
    assert "preview of job id" in ran.log
    assert "\r\n19\r\n" in ran.log and "\r\n20\r\n" not in ran.log


def test_preview_of_a_create_table_shows_the_written_table(td: Any) -> None:
    ran = td({"query": VALUES, "create_table": "fruit", "preview": True})
    assert "preview of table fruit:" in ran.log and "apple" in ran.log


def test_a_query_file_is_rendered_and_inline_data_is_not(td: Any, project: Path) -> None:
    (project / "queries").mkdir()
    (project / "queries" / "q.sql").write_text("SELECT '${greeting}' AS v\n")
    ran = td({"_command": "queries/q.sql", "greeting": "hi", "store_last_results": True})
    assert ran.td["last_results"] == {"v": "hi"}
    inline = td({"_command": {"data": "SELECT '${greeting}' AS v"}, "greeting": "hi",
                 "store_last_results": True})
    assert inline.td["last_results"] == {"v": "${greeting}"}


def test_td_scheduled_time_is_the_session_time(td: Any) -> None:
    ran = td({"query": "SELECT TD_SCHEDULED_TIME() AS t", "store_last_results": True})
    assert ran.td["last_results"] == {"t": 1454112000}


def test_the_job_sql_in_the_log_starts_with_digdags_comment_header(td: Any) -> None:
    ran = td({"query": "SELECT 1 AS one", "create_table": "t"})
    assert "-- project_id: 1\n-- project_name: test\n" in ran.log
    assert '-- task_name: +test+task\nDROP TABLE IF EXISTS "t";\nCREATE TABLE "t" AS\n' in ran.log


@pytest.mark.parametrize(("config", "winner"), [
    ({"td": {"database": "a"}}, "a"),
    ({"td": {"database": "a"}, "database": "b"}, "b"),
])
def test_database_comes_from_the_task_over_the_td_namespace(td: Any, config: dict,
                                                            winner: str) -> None:
    td({**config, "query": VALUES, "create_table": "x"})
    ran = td({"query": f"SELECT count(*) AS n FROM {winner}.x", "store_last_results": True})
    assert ran.td["last_results"] == {"n": 2}


def test_the_td_database_secret_overrides_the_params(td: Any) -> None:
    td({"database": "b", "query": VALUES, "create_table": "x"},
       secrets={"td.database": "s"})
    ran = td({"query": "SELECT count(*) AS n FROM s.x", "store_last_results": True})
    assert ran.td["last_results"] == {"n": 2}


def test_a_failing_create_table_keeps_the_old_table(td: Any) -> None:
    td({"query": VALUES, "create_table": "fruit"})
    with pytest.raises(TaskFailed):
        td({"query": "SELECT 1/0 AS boom, error('no') AS e", "create_table": "fruit"})
    assert len(rows(td, "fruit")) == 2


def test_the_hive_engine_overwrites_and_inserts(td: Any) -> None:
    td({"query": VALUES, "create_table": "fruit", "engine": "hive"})
    td({"query": VALUES, "create_table": "fruit", "engine": "hive"})
    td({"query": "SELECT 3 AS id, 'fig' AS item, 1 AS qty", "insert_into": "fruit",
        "engine": "hive"})
    assert [r["item"] for r in rows(td, "fruit")] == ["apple", "pear", "fig"]


def test_several_statements_run_in_order_and_the_last_one_is_the_result(td: Any) -> None:
    td({"query": VALUES, "create_table": "fruit"})
    ran = td({"query": "DELETE FROM fruit WHERE id = 1;\nSELECT count(*) AS n FROM fruit",
              "store_last_results": True})
    assert ran.td["last_results"] == {"n": 1}
