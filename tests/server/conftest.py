"""A private PostgreSQL schema per test for daemons run as real processes (skipped without
DIGPY_TEST_POSTGRES_URL); the daemons reach it through the URL's ``search_path``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_schema import private_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_schema("digpy_daemons") as url:
        yield url
