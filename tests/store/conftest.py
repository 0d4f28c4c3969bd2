"""A ``store`` fixture run once per backend: SQLite through SQLAlchemy, SQLite through the
stdlib (``lite``, the local store), and (when DIGPY_TEST_POSTGRES_URL is set) PostgreSQL in
a private schema, so other suites sharing the database are untouched."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from digpy.store.base import Store
from digpy.store.sql.engine import SqlStore, create_sql_engine, migrate, sqlite_url
from digpy.store.sql.lite import LiteStore
from digpy.store.sql.schema import metadata

TABLES = ", ".join(t.name for t in metadata.sorted_tables)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "state.db"
    engine = create_sql_engine(sqlite_url(path))
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str | None]:
    url = os.environ.get("DIGPY_TEST_POSTGRES_URL")
    if not url:
        yield None
        return
    schema = f"digpy_store_{os.getpid()}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}?options=-csearch_path%3D{schema}"
    engine = create_sql_engine(scoped)
    migrate(engine)
    engine.dispose()
    yield scoped
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _sqlite_store(template: Path, tmp_path: Path) -> SqlStore:
    path = tmp_path / "state.db"
    shutil.copy(template, path)
    return SqlStore(create_sql_engine(sqlite_url(path)), description=str(path))


def _postgres_store(url: str | None) -> SqlStore:
    if url is None:
        pytest.skip("DIGPY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    engine = create_sql_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    return SqlStore(engine, description="postgres")


@pytest.fixture(
    params=["sqlite", "lite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_schema_url: str | None,
) -> Iterator[Store]:
    backend: Store
    if request.param == "sqlite":
        backend = _sqlite_store(sqlite_template, tmp_path)
    elif request.param == "lite":
        backend = LiteStore(tmp_path / "state.db")  # creates the schema from its own DDL
    else:
        backend = _postgres_store(postgres_schema_url)
    yield backend
    if isinstance(backend, SqlStore):
        # Every transaction must give its connection back (APScheduler's conftest habit).
        assert backend.engine.pool.checkedout() == 0
    backend.close()
