"""SQLite specifics: the local file, migrations, and what a second process sees."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from digpy.store.base import StoreLocked
from digpy.store.sql import engine as sql_engine
from digpy.store.sql.engine import RunLock, local_state_path, open_local_store
from digpy.store.sql.schema import HEAD, metadata


def test_the_local_store_lives_under_the_projects_digpy_directory(tmp_path: Path) -> None:
    store = open_local_store(tmp_path)
    try:
        assert local_state_path(tmp_path) == tmp_path / ".digpy" / "state.db"
        assert store.description == str(tmp_path / ".digpy" / "state.db")
        assert (tmp_path / ".digpy" / "state.db").exists()
    finally:
        store.close()


def test_the_database_runs_in_wal_mode(tmp_path: Path) -> None:
    store = open_local_store(tmp_path)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()


def test_migrations_create_exactly_the_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = open_local_store(tmp_path)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        store.close()
    assert diff == []
    assert version == HEAD


def test_head_names_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(sql_engine.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_second_run_on_the_same_file_is_refused_with_the_owner(tmp_path: Path) -> None:
    db = local_state_path(tmp_path)
    db.parent.mkdir()
    held = r"in use by another digpy process \(pid \d+\)"
    with RunLock(db), pytest.raises(StoreLocked, match=held):
        RunLock(db).acquire()
    with RunLock(db):  # released on exit
        pass


def test_a_writer_blocked_past_the_busy_timeout_gets_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_engine, "BUSY_TIMEOUT_SECONDS", 0.05)
    store = open_local_store(tmp_path)
    other = sa.create_engine(sql_engine.sqlite_url(local_state_path(tmp_path)))
    try:
        with other.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            with pytest.raises(StoreLocked, match="locked by another process"), store.write() as tx:
                tx.projects.put_project("default", "/p", now=datetime(2016, 1, 30, tzinfo=UTC))
            conn.exec_driver_sql("ROLLBACK")
    finally:
        other.dispose()
        store.close()

