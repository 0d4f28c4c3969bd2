"""A private PostgreSQL schema per test for daemons run as real processes (skipped without
DIGPY_TEST_POSTGRES_URL); the daemons reach it through the URL's ``search_path``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = os.environ.get("DIGPY_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("DIGPY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    schema = f"digpy_daemons_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
