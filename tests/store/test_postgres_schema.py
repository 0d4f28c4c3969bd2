"""The migrations produce the schema on PostgreSQL too."""

from __future__ import annotations

import pytest

from digpy.store.sql.engine import create_sql_engine
from digpy.store.sql.schema import metadata


@pytest.mark.postgres
def test_migrations_create_exactly_the_schema_on_postgres(postgres_schema_url: str | None) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    if postgres_schema_url is None:
        pytest.skip("DIGPY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    engine = create_sql_engine(postgres_schema_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []
