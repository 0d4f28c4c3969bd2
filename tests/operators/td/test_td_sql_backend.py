"""td> with td.backend: sql on a real PostgreSQL (a TD database is a schema). Skipped when
DIGPY_TEST_POSTGRES_URL is not set."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from digpy.spi import TaskFailed

pytestmark = pytest.mark.postgres

VALUES = "SELECT * FROM (VALUES (1, 'apple', 3), (2, 'pear', 5)) AS t(id, item, qty)"


@pytest.fixture
def schema(postgres_url: str) -> Iterator[str]:
    name = f"td_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    yield name
    with engine.begin() as conn:
        for suffix in ("", "_other"):
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}{suffix}" CASCADE')
    engine.dispose()


@pytest.fixture
def pg(td: Any, postgres_url: str, schema: str) -> Any:
    def run(config: dict[str, Any], **kw: Any) -> Any:
        ns = {"backend": "sql", "url": postgres_url, "database": schema}
        return td({**config, "td": ns}, **kw)

    return run


def test_create_table_makes_a_table_in_the_schema_of_the_database(pg: Any, schema: str) -> None:
    ran = pg({"query": VALUES, "create_table": "fruit"})
    again = pg({"query": VALUES + " WHERE id = 2", "create_table": "fruit"})
    assert ran.td["last_job"]["num_records"] == 2 and again.td["last_job"]["num_records"] == 1
    count = pg({"query": f'SELECT count(*) AS n FROM "{schema}".fruit', "store_last_results": True})
    assert count.td["last_results"] == {"n": 1}


def test_insert_into_creates_then_appends_by_column_name(pg: Any) -> None:
    pg({"query": VALUES, "insert_into": "fruit"})
    pg({"query": "SELECT 9 AS qty, 'fig' AS item, 3 AS id", "insert_into": "fruit"})
    ran = pg({"query": "SELECT item, qty FROM fruit WHERE id = 3", "store_last_results": True})
    assert ran.td["last_results"] == {"item": "fig", "qty": 9}


def test_insert_into_another_database_creates_that_schema(pg: Any, schema: str) -> None:
    pg({"query": VALUES, "insert_into": f"{schema}_other.fruit"})
    ran = pg({"query": f"SELECT count(*) AS n FROM {schema}_other.fruit",
              "store_last_results": True})
    assert ran.td["last_results"] == {"n": 2}


def test_download_file_writes_the_rows_as_csv(pg: Any, project: Path) -> None:
    pg({"query": VALUES + " ORDER BY id", "download_file": "fruit.csv"})
    assert (project / "fruit.csv").read_text() == "id,item,qty\n1,apple,3\n2,pear,5\n"


def test_store_last_results_keeps_the_first_row_as_json(pg: Any) -> None:
    ran = pg({"query": "SELECT DATE '2016-01-30' AS d, 1.50::numeric AS x, 'a' AS s",
              "store_last_results": True})
    assert ran.td["last_results"] == {"d": "2016-01-30", "x": 1.5, "s": "a"}


def test_constant_td_functions_become_plain_sql(pg: Any) -> None:
    pg({"query": "SELECT * FROM (VALUES (1454112000), (1454025600)) AS t(time)",
        "create_table": "events"})
    ran = pg({"query": "SELECT count(*) AS n FROM events WHERE TD_TIME_RANGE(time, "
                       "'2016-01-30', TD_TIME_ADD(TD_SCHEDULED_TIME(), '1d'))",
              "store_last_results": True})
    assert ran.td["last_results"] == {"n": 1}


def test_td_time_format_is_refused_with_a_remedy(pg: Any) -> None:
    with pytest.raises(TaskFailed, match="available on the local backend only"):
        pg({"query": "SELECT TD_TIME_FORMAT(time, 'yyyy') FROM events"})


def test_a_postgresql_error_names_the_statement_line(pg: Any) -> None:
    with pytest.raises(TaskFailed) as err:
        pg({"query": "SELECT * FROM missing_table"})
    assert 'relation "missing_table" does not exist' in str(err.value)
    assert "7 | SELECT * FROM missing_table" in str(err.value)


def test_an_unknown_database_is_a_clear_error(td: Any, postgres_url: str) -> None:
    with pytest.raises(TaskFailed, match="Database 'no_such_schema_x' does not exist"):
        td({"query": "SELECT 1", "td": {"backend": "sql", "url": postgres_url,
                                        "database": "no_such_schema_x"}})
