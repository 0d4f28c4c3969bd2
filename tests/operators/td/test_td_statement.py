"""The SQL a td> job submits: Digdag's clause placement and comment header, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from digpy_operators.td.statement import TableRef, header, insert_command, with_clause

from digpy.spi import ConfigError
from digpy.spi.testing import make_request

CASES = json.loads((Path(__file__).parent / "data" / "insert_line_cases.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_the_clause_is_placed_where_digdag_places_it(case: dict) -> None:
    assert insert_command("INSERT", case["query"]) == case["expected"]


@pytest.mark.parametrize(("engine", "option", "expected"), [
    ("presto", "insert_into", 'INSERT INTO "db"."t"\nselect 1'),
    ("presto", "create_table",
     'DROP TABLE IF EXISTS "db"."t";\nCREATE TABLE "db"."t" AS\nselect 1'),
    ("hive", "insert_into", "INSERT INTO TABLE `db`.`t`\nselect 1"),
    ("hive", "create_table", "INSERT OVERWRITE TABLE `db`.`t`\nselect 1"),
])
def test_each_engine_writes_its_own_clause(engine: str, option: str, expected: str) -> None:
    target = TableRef.parse("db.t", option)
    kwargs = {"insert_into": None, "create_table": None, option: target}
    assert with_clause("select 1", engine=engine, **kwargs) == expected


def test_the_header_names_project_workflow_session_attempt_and_task(tmp_path: Path) -> None:
    request = make_request(tmp_path, task_name="+wf+step")
    assert header(request) == ("-- project_id: 1\n-- project_name: test\n-- workflow_name: test\n"
                               "-- session_id: 1\n-- attempt_id: 1\n-- task_name: +wf+step\n")


@pytest.mark.parametrize("bad", ["", ".t", "db.", 3])
def test_a_malformed_table_name_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError):
        TableRef.parse(bad, "create_table")
