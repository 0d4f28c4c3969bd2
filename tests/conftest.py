"""Shared fixtures. Time is injected (FakeClock); databases are real (SQLite files, and
PostgreSQL when DIGPY_TEST_POSTGRES_URL is set, as .ci/run does)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digpy.clock import FakeClock

REPO = Path(__file__).resolve().parent.parent

# Daemons started by tests log to files, where ``auto`` would pick JSON; tests read the text
# lines (tests/server/test_gc_and_settings.py checks ``auto`` itself).
os.environ.setdefault("DIGPY_LOG_FORMAT", "text")
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2016, 1, 30, 0, 0, tzinfo=UTC))


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("DIGPY_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("DIGPY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    return url
