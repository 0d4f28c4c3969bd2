"""pg> on the real local PostgreSQL (skipped without DIGPY_TEST_POSTGRES_URL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from digpy_operators.pg import PgOperator
from td_testing import context

from digpy.spi import ConfigError, PollAgain, TaskFailed, TaskResult

pytestmark = pytest.mark.postgres


@pytest.fixture
def schema(postgres_url: str) -> Iterator[str]:
    name = f"pgop_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    yield name
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    engine.dispose()


@pytest.fixture
def pg(project: Path, postgres_url: str, schema: str) -> Any:
    """pg(config, secrets=...) runs pg> to the end, feeding PollAgain states back."""
    url = sa.make_url(postgres_url)
    connection = {"host": url.host, "port": url.port or 5432, "database": url.database,
                  "user": url.username, "schema": schema}
    secrets = {"pg.password": url.password} if url.password else {}

    def run(config: dict[str, Any], *, state: dict[str, Any] | None = None,
            secrets_: dict[str, str] | None = None) -> TaskResult:
        last: dict[str, Any] = dict(state or {})
        for _ in range(5):
            ctx = context(project, {"pg": connection, **config}, operator="pg",
                          secrets=secrets_ if secrets_ is not None else secrets,
                          last_state=last)
            try:
                return PgOperator(ctx).run()
            except PollAgain as again:
                last = again.state
        raise AssertionError("pg> kept polling")

    return run


def select(postgres_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


VALUES = "SELECT * FROM (VALUES (1, 'apple'), (2, 'pear')) AS t(id, item)"


def test_create_table_then_insert_into_in_the_schema(pg: Any, schema: str,
                                                     postgres_url: str) -> None:
    pg({"query": VALUES, "create_table": "fruit"})
    pg({"query": "SELECT 3, 'fig'", "insert_into": "fruit"})
    pg({"query": VALUES + " WHERE id = 2", "create_table": "fruit2"})
    assert select(postgres_url, f'SELECT count(*) FROM "{schema}".fruit') == [(3,)]
    assert select(postgres_url, f'SELECT item FROM "{schema}".fruit2') == [("pear",)]


def test_store_last_results_first_is_an_object_and_all_an_array(pg: Any) -> None:
    first = pg({"query": VALUES + " ORDER BY id", "store_last_results": "first"})
    every = pg({"query": VALUES + " ORDER BY id", "store_last_results": "all"})
    none = pg({"query": VALUES + " WHERE false", "store_last_results": "first"})
    assert first.store_params == {"pg": {"last_results": {"id": 1, "item": "apple"}}}
    assert every.store_params["pg"]["last_results"] == [{"id": 1, "item": "apple"},
                                                        {"id": 2, "item": "pear"}]
    assert none.store_params == {"pg": {"last_results": {}}}


def test_download_file_writes_csv_in_the_project(pg: Any, project: Path) -> None:
    pg({"query": VALUES + " ORDER BY id", "download_file": "out/fruit.csv"})
    assert (project / "out" / "fruit.csv").read_text().splitlines() == [
        "id,item", "1,apple", "2,pear"]


def test_a_query_file_is_rendered(pg: Any, project: Path) -> None:
    (project / "q.sql").write_text("SELECT '${session_date}' AS d")
    ran = pg({"_command": "q.sql", "session_date": "2016-01-30", "store_last_results": True})
    assert ran.store_params == {"pg": {"last_results": {"d": "2016-01-30"}}}


def test_a_statement_runs_once_even_when_the_task_is_retried(pg: Any, schema: str,
                                                            postgres_url: str) -> None:
    pg({"query": "SELECT 1 AS n", "create_table": "counter"})
    state = {"query_id": str(uuid.uuid4())}
    pg({"query": "SELECT 2", "insert_into": "counter"}, state=state)
    pg({"query": "SELECT 2", "insert_into": "counter"}, state=state)  # a retry
    assert select(postgres_url, f'SELECT count(*) FROM "{schema}".counter') == [(2,)]
    assert select(postgres_url, f'SELECT count(*) FROM "{schema}".__digdag_status') == [(2,)]


def test_a_custom_status_table_is_used(pg: Any, schema: str, postgres_url: str) -> None:
    pg({"query": "SELECT 1 AS n", "create_table": "t", "status_table": "my_status"})
    assert select(postgres_url, f'SELECT count(*) FROM "{schema}".my_status') == [(1,)]


def test_without_strict_transaction_no_status_table_is_made(pg: Any, schema: str,
                                                             postgres_url: str) -> None:
    pg({"query": "SELECT 1 AS n", "create_table": "t", "strict_transaction": False})
    engine = sa.create_engine(postgres_url)
    assert sa.inspect(engine).get_table_names(schema=schema) == ["t"]
    engine.dispose()


def test_a_write_in_read_only_mode_is_refused(pg: Any) -> None:
    with pytest.raises(ConfigError, match="Query must be read-only if store_last_results"):
        pg({"query": "CREATE TABLE nope AS SELECT 1 AS x", "store_last_results": "all"})


def test_a_failing_statement_names_the_database_error(pg: Any) -> None:
    with pytest.raises(TaskFailed, match='relation "missing" does not exist'):
        pg({"query": "INSERT INTO missing SELECT 1"})


@pytest.mark.parametrize("options, message", [
    ({"insert_into": "a", "create_table": "b"}, "Can't use both of insert_into and create_table"),
    ({"create_table": "a", "download_file": "x.csv"}, "Can't use download_file with"),
    ({"insert_into": "a", "store_last_results": "all"}, "Can't use store_last_results with"),
    ({"download_file": "x.csv", "store_last_results": "first"}, "Can't use both download_file"),
    ({"store_last_results": "some"}, "must be false, first or all")])
def test_conflicting_options_fail_with_digdags_messages(pg: Any, options: dict[str, Any],
                                                        message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        pg({"query": "SELECT 1", **options})


def test_password_override_names_another_secret(pg: Any) -> None:
    with pytest.raises(ConfigError, match=r"the secret 'pg\.other_pw' is missing"):
        pg({"query": "SELECT 1", "password_override": "other_pw"}, secrets_={})


def test_host_is_required(project: Path) -> None:
    ctx = context(project, {"query": "SELECT 1", "database": "d", "user": "u"}, operator="pg")
    with pytest.raises(ConfigError, match="pg> needs 'host'"):
        PgOperator(ctx).run()
