"""Daemons that start together on an empty PostgreSQL database migrate it once: the others
wait on the migration lock and find the schema at head (no duplicate-table errors)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from digpy.store.sql import schema
from tests.pg_schema import private_schema

DAEMONS = 4
MIGRATE = """
import sys, time
from digpy.store.sql.engine import create_sql_engine, migrate
engine = create_sql_engine(sys.argv[1])
start_at = float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))  # start together, as a fleet restart does
migrate(engine)
engine.dispose()
print("migrated")
"""


@pytest.fixture
def empty_schema_url() -> Iterator[str]:
    with private_schema("digpy_migration_race") as url:
        yield url


def test_daemons_starting_together_on_an_empty_database_migrate_it_once(
        empty_schema_url: str) -> None:
    import time

    start_at = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", MIGRATE, empty_schema_url, str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(DAEMONS)]
    results = [p.communicate(timeout=120) for p in procs]

    assert [p.returncode for p in procs] == [0] * DAEMONS, [err[-800:] for _, err in results]
    assert all(out.strip() == "migrated" for out, _ in results)
    engine = sa.create_engine(empty_schema_url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert [v[0] for v in versions] == [schema.HEAD]
    assert {t.name for t in schema.metadata.sorted_tables} <= tables
