"""td_wait_table>: wait until a table exists (rows: 0) or holds at least `rows` rows, on the
local backend, PostgreSQL and the TD API double."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from digpy_operators.td_ddl import TdDdlOperator
from digpy_operators.td_wait_table import TdWaitTableOperator
from td_api_double import TdApiServer
from td_api_family_double import TdFamilyDouble
from test_td_wait import Poller

from digpy.spi import ConfigError, TaskFailed, TaskResult


def table_config(table: str, **options: Any) -> dict[str, Any]:
    return {"td": {"database": "db"}, "_command": table, **options}


def test_an_existing_table_is_enough_without_rows(td: Any, project: Path) -> None:
    td({"query": "SELECT 1 AS x WHERE false", "create_table": "events"})
    poller = Poller(project, TdWaitTableOperator, table_config("events"))
    assert poller.until_done() == TaskResult.empty() and poller.intervals == []


def test_a_missing_table_is_checked_again_until_it_appears(td: Any, project: Path) -> None:
    poller = Poller(project, TdWaitTableOperator, table_config("events", interval="5m"))
    assert poller.step() is None and poller.step() is None
    assert poller.intervals == [30, 30]  # existence is checked at most 30 s apart
    assert "Table db.events does not exist yet (check 2, waiting for 30s)" in poller.log.text
    td({"query": "SELECT 1 AS x", "create_table": "events"})
    poller.until_done()


def test_rows_waits_for_enough_rows_every_interval(td: Any, project: Path) -> None:
    td({"query": "SELECT 1 AS x", "create_table": "events"})
    poller = Poller(project, TdWaitTableOperator, table_config("events", rows=3,
                                                               interval="2m"))
    assert poller.step() is None and poller.intervals == [120]
    assert "has 1 rows of the 3 awaited" in poller.log.text
    td({"query": "SELECT * FROM (VALUES (2), (3)) t(x)", "insert_into": "events"})
    poller.until_done()
    assert "Table db.events has 3 rows" in poller.log.text


def test_a_table_in_another_database_is_named_with_it(td: Any, run_op: Any,
                                                      project: Path) -> None:
    run_op(TdDdlOperator, {"create_databases": ["other"], "create_tables": ["other.t"]})
    Poller(project, TdWaitTableOperator, table_config("other.t")).until_done()


def test_rows_must_be_a_number(td: Any, project: Path) -> None:
    with pytest.raises(ConfigError, match="'rows' must be an integer"):
        Poller(project, TdWaitTableOperator, table_config("events", rows="many")).step()


def test_a_table_is_required(td: Any, project: Path) -> None:
    with pytest.raises(ConfigError, match="must be a table name"):
        Poller(project, TdWaitTableOperator, {"td": {"database": "db"}}).step()


@pytest.mark.postgres
def test_on_postgresql_the_table_and_its_rows_are_awaited(project: Path,
                                                          postgres_url: str) -> None:
    schema = f"wait_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_url)
    config = {"td": {"backend": "sql", "url": postgres_url, "database": schema},
              "_command": "events", "rows": 2}
    try:
        poller = Poller(project, TdWaitTableOperator, config)
        assert poller.step() is None
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            conn.exec_driver_sql(f'CREATE TABLE "{schema}".events AS SELECT 1 AS x')
        assert poller.step() is None and "has 1 rows of the 2" in poller.log.text
        with engine.begin() as conn:
            conn.exec_driver_sql(f'INSERT INTO "{schema}".events VALUES (2)')
        poller.until_done()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


# ---- Treasure Data (the API double) -------------------------------------------------------


@pytest.fixture
def double() -> Iterator[TdFamilyDouble]:
    fake = TdFamilyDouble()
    with TdApiServer(fake) as server:
        fake.endpoint = server.endpoint  # type: ignore[attr-defined]
        yield fake


def remote(double: TdFamilyDouble, **options: Any) -> dict[str, Any]:
    return {"td": {"backend": "treasuredata", "endpoint": double.endpoint,  # type: ignore
                   "database": "sample_db"}, "_command": "www_access", **options}


SECRETS = {"td.apikey": "test-apikey"}


def test_on_treasure_data_existence_comes_from_the_table_list(double: TdFamilyDouble,
                                                              project: Path) -> None:
    poller = Poller(project, TdWaitTableOperator, remote(double), SECRETS)
    assert poller.step() is None
    double.tables.add(("sample_db", "www_access"))
    poller.until_done()
    assert double.jobs == {}  # no rows wanted: no count job


def test_on_treasure_data_rows_are_counted_by_a_job(double: TdFamilyDouble,
                                                    project: Path) -> None:
    double.tables.add(("sample_db", "www_access"))
    double.results['count(*) from "www_access"'] = (["_col0"], [[10]])
    poller = Poller(project, TdWaitTableOperator, remote(double, rows=5), SECRETS)
    poller.until_done()
    (job,) = double.jobs.values()
    assert 'select count(*) from "www_access"' in job.query
    assert poller.intervals == [0, 1, 2]


def test_a_count_job_without_a_number_fails(double: TdFamilyDouble, project: Path) -> None:
    double.tables.add(("sample_db", "www_access"))
    double.results["count(*)"] = (["c"], [["ten"]])
    with pytest.raises(TaskFailed, match="unexpected value type count job"):
        Poller(project, TdWaitTableOperator, remote(double, rows=5), SECRETS).until_done()
