"""A private, empty PostgreSQL schema for one test (skipped without
DIGPY_TEST_POSTGRES_URL, which .ci/run sets); stores and daemons reach it through the
URL's ``search_path``, so tests never see each other's rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa


@contextmanager
def private_schema(prefix: str) -> Iterator[str]:
    """The URL of a new schema named ``<prefix>_<random>``, dropped afterwards."""
    url = os.environ.get("DIGPY_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("DIGPY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
