"""Engine tests run the real engine (and the real template engine and built-ins) on a
SQLite file with a FakeClock."""

from __future__ import annotations

from pathlib import Path

import pytest

from digpy.store.sql.engine import create_sql_engine, migrate, sqlite_url

from .harness import Harness


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engine-template") / "state.db"
    engine = create_sql_engine(sqlite_url(path))
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def harness(tmp_path: Path, template_db: Path) -> Harness:
    return Harness(project=tmp_path, template_db=template_db)
