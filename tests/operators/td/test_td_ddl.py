"""td_ddl> on the local backend (DuckDB), on PostgreSQL (td.backend: sql) and on the TD API
double: idempotent creates and drops, empty = drop + create, renames checked up front."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from digpy_operators.td.local import open_database
from digpy_operators.td_ddl import TdDdlOperator
from td_api_double import TdApiServer
from td_api_family_double import TdFamilyDouble
from td_testing import context

from digpy.spi import ConfigError, PollAgain, TaskFailed


def local_tables(project: Path, database: str) -> list[str]:
    return open_database(project / ".digpy" / "td.duckdb").tables(database)


def local_databases(project: Path) -> list[str]:
    return open_database(project / ".digpy" / "td.duckdb").databases()


def test_create_databases_and_tables_on_the_local_backend(run_op: Any, project: Path) -> None:
    run_op(TdDdlOperator, {"create_databases": ["ddl_a"], "database": "ddl_a",
                           "create_tables": ["t1", "t2"]})
    assert "ddl_a" in local_databases(project)
    assert local_tables(project, "ddl_a") == ["t1", "t2"]


def test_creating_what_exists_and_dropping_what_is_missing_are_no_ops(
        run_op: Any, project: Path) -> None:
    config = {"database": "ddl_b", "create_databases": ["ddl_b"], "create_tables": ["t"]}
    run_op(TdDdlOperator, config)
    run_op(TdDdlOperator, config)
    run_op(TdDdlOperator, {"database": "ddl_b", "drop_tables": ["nope"],
                           "drop_databases": ["never_made"]})
    assert local_tables(project, "ddl_b") == ["t"]


def test_empty_tables_drops_the_rows_and_keeps_the_table(td: Any, run_op: Any,
                                                         project: Path) -> None:
    td({"query": "SELECT 1 AS x", "create_table": "filled"})
    run_op(TdDdlOperator, {"td": {"database": "db"}, "empty_tables": ["filled"]})
    ran = td({"query": "SELECT count(*) AS n FROM filled", "store_last_results": True})
    assert ran.td["last_results"] == {"n": 0}


def test_a_table_name_with_a_database_goes_to_that_database(run_op: Any,
                                                            project: Path) -> None:
    run_op(TdDdlOperator, {"create_databases": ["ddl_other"], "create_tables": ["ddl_other.t"]})
    assert local_tables(project, "ddl_other") == ["t"]


def test_rename_tables_replaces_the_target(td: Any, run_op: Any) -> None:
    td({"query": "SELECT 1 AS v", "create_table": "staging"})
    td({"query": "SELECT 2 AS v", "create_table": "live"})
    run_op(TdDdlOperator, {"td": {"database": "db"},
                           "rename_tables": [{"from": "staging", "to": "live"}]})
    ran = td({"query": "SELECT v FROM live", "store_last_results": True})
    assert ran.td["last_results"] == {"v": 1}


def test_renaming_a_missing_table_fails_before_anything_changes(run_op: Any,
                                                                project: Path) -> None:
    with pytest.raises(ConfigError, match=r"Renaming table db2\.ghost doesn't exist"):
        run_op(TdDdlOperator, {"database": "db2", "create_databases": ["db2"],
                               "rename_tables": [{"from": "ghost", "to": "x"}]})
    assert "db2" not in local_databases(project)


def test_rename_to_another_database_is_refused(run_op: Any) -> None:
    with pytest.raises(ConfigError, match="can't include database name"):
        run_op(TdDdlOperator, {"database": "db", "rename_tables": [{"from": "a", "to": "b.c"}]})


def test_creating_a_table_in_a_missing_database_names_the_remedy(run_op: Any) -> None:
    with pytest.raises(TaskFailed, match=r"Database 'nowhere' does not exist.*create_databases"):
        run_op(TdDdlOperator, {"database": "nowhere", "create_tables": ["t"]})


def test_table_operations_need_a_database(run_op: Any) -> None:
    with pytest.raises(ConfigError, match="needs a database"):
        run_op(TdDdlOperator, {"create_tables": ["t"]})


# ---- PostgreSQL (td.backend: sql) ---------------------------------------------------------


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    name = f"ddl_{uuid.uuid4().hex[:10]}"
    yield name
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    engine.dispose()


@pytest.mark.postgres
def test_ddl_on_postgresql_manages_schemas_and_tables(run_op: Any, postgres_url: str,
                                                      pg_schema: str) -> None:
    td = {"backend": "sql", "url": postgres_url, "database": pg_schema}
    run_op(TdDdlOperator, {"td": td, "create_databases": [pg_schema],
                           "create_tables": ["a", "b"]})
    run_op(TdDdlOperator, {"td": td, "create_databases": [pg_schema], "empty_tables": ["a"],
                           "drop_tables": ["b"], "rename_tables": [{"from": "a", "to": "c"}]})
    inspector = sa.inspect(sa.create_engine(postgres_url))
    assert inspector.get_table_names(schema=pg_schema) == ["c"]
    run_op(TdDdlOperator, {"td": td, "drop_databases": [pg_schema]})
    assert pg_schema not in sa.inspect(sa.create_engine(postgres_url)).get_schema_names()


# ---- Treasure Data (the API double) -------------------------------------------------------


@pytest.fixture
def double() -> Iterator[TdFamilyDouble]:
    fake = TdFamilyDouble()
    with TdApiServer(fake) as server:
        fake.endpoint = server.endpoint  # type: ignore[attr-defined]
        yield fake


def td_config(double: TdFamilyDouble, **options: Any) -> dict[str, Any]:
    return {"td": {"backend": "treasuredata", "endpoint": double.endpoint,  # type: ignore
                   "database": "sample_db"}, **options}


SECRETS = {"td.apikey": "test-apikey"}


def test_ddl_on_treasure_data_calls_the_api(double: TdFamilyDouble, run_op: Any) -> None:
    double.tables |= {("sample_db", "old"), ("sample_db", "full")}
    run_op(TdDdlOperator, td_config(double, create_databases=["new_db"],
                                    create_tables=["new_db.t", "full"], empty_tables=["full"],
                                    rename_tables=[{"from": "old", "to": "renamed"}]),
           secrets=SECRETS)
    assert "new_db" in double.databases
    assert double.tables == {("new_db", "t"), ("sample_db", "full"), ("sample_db", "renamed")}
    assert ("POST", "/v3/table/delete/sample_db/full") in double.requests


def test_a_server_error_polls_and_resumes_at_the_failed_step(double: TdFamilyDouble,
                                                             project: Path) -> None:
    config = td_config(double, create_databases=["d1", "d2"])
    double.fail_next(1)
    ctx = context(project, config, operator="td_ddl", secrets=SECRETS,
                  last_state={"operation": 1})
    with pytest.raises(PollAgain) as again:
        TdDdlOperator(ctx).run()
    assert again.value.state["operation"] == 1 and again.value.interval == 2
    TdDdlOperator(context(project, config, operator="td_ddl", secrets=SECRETS,
                          last_state=again.value.state)).run()
    assert double.databases == {"sample_db", "d2"}  # step 0 (d1) was done before
