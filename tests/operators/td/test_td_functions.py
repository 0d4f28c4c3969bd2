"""TD's SQL functions on the local backend: each case in data/td_functions.jsonl is run twice,
with constant arguments (rewritten into plain SQL) and with the same values read from columns
(the td__* Python UDFs), and both must give TD's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from digpy.spi import TaskFailed

CASES = [json.loads(line) for line in
         (Path(__file__).parent / "data" / "td_functions.jsonl").read_text().splitlines()
         if line.strip()]


def _as_columns(sql: str) -> str:
    """SELECT <sql> with every literal argument moved into a derived table's column."""
    tree = sqlglot.parse_one(sql, read="trino")
    values: list[str] = []
    for literal in list(tree.find_all(exp.Literal, exp.Neg)):
        if isinstance(literal, exp.Literal) and isinstance(literal.parent, exp.Neg):
            continue
        values.append(f"{literal.sql('trino')} AS c{len(values)}")
        literal.replace(exp.column(f"c{len(values) - 1}"))
    source = f" FROM (SELECT {', '.join(values)}) AS args" if values else ""
    return f"SELECT {tree.sql('trino')} AS v{source}"


def _value(td: Any, sql: str) -> Any:
    return td({"query": sql, "store_last_results": True}).td["last_results"]["v"]


@pytest.mark.parametrize("case", CASES, ids=[c["sql"] for c in CASES])
def test_a_td_function_with_constant_arguments_gives_tds_answer(td: Any, case: dict) -> None:
    assert _value(td, f"SELECT {case['sql']} AS v") == case["expected"]


@pytest.mark.parametrize("case", CASES, ids=[c["sql"] for c in CASES])
def test_a_td_function_with_column_arguments_gives_the_same_answer(td: Any, case: dict) -> None:
    assert _value(td, _as_columns(case["sql"])) == case["expected"]


def test_td_time_range_filters_a_table_by_session_date(td: Any, project: Path) -> None:
    td({"query": "SELECT * FROM (VALUES (1454025600), (1454112000), (1454198399), (1454198400))"
                 " AS t(time)", "create_table": "events"})
    (project / "count.sql").write_text(
        "SELECT count(*) AS n FROM events\n"
        "WHERE TD_TIME_RANGE(time, '${session_date}', TD_TIME_ADD('${session_date}', '1d'))\n")
    ran = td({"_command": "count.sql", "session_date": "2016-01-30", "store_last_results": True})
    assert ran.td["last_results"] == {"n": 2}


def test_an_unknown_time_zone_fails_with_the_zone_named(td: Any) -> None:
    with pytest.raises(TaskFailed, match="unknown time zone 'Mars/Base'"):
        td({"query": "SELECT TD_TIME_FORMAT(0, 'yyyy', 'Mars/Base')"})


def test_an_unparseable_time_range_bound_fails_clearly(td: Any) -> None:
    with pytest.raises(TaskFailed, match="TD_TIME_RANGE: cannot parse 'yesterday'"):
        td({"query": "SELECT TD_TIME_RANGE(0, 'yesterday', NULL)"})
