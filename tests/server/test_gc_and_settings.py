"""`digpy gc` deletes whole old sessions (their attempts, tasks and logs) and keeps the rest;
settings come from defaults < TOML file < DIGPY_* environment < flags."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digpy.cli import main
from digpy.cli.server import configure_logging
from digpy.errors import ConfigError
from digpy.model.states import AttemptStatus
from digpy.settings import Settings, load_settings
from digpy.store.sql.engine import open_store

from .daemon_helpers import create_attempt


def test_gc_deletes_sessions_finished_before_the_retention_and_their_logs(
    tmp_path: Path,
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "old.dig").write_text("+a:\n  echo>: x\n")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "new.dig").write_text("+a:\n  echo>: y\n")
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    old = create_attempt(url, tmp_path / "old", "old")
    running = create_attempt(url, tmp_path / "new", "new")
    with open_store(url) as store, store.write() as tx:
        tx.attempts.finish_attempt(old.id, AttemptStatus.SUCCESS, now=datetime(2020, 1, 1,
                                                                               tzinfo=UTC))
    log_dir = tmp_path / "logs" / str(old.id)
    log_dir.mkdir(parents=True)

    assert main(["gc", "--database", url, "--data-dir", str(tmp_path),
                 "--retention-days", "1"]) == 0

    with open_store(url) as store, store.read() as tx:
        assert tx.attempts.get_attempt(running.id).status is AttemptStatus.RUNNING
        assert tx.tasks.list_tasks(old.id) == []
        with pytest.raises(Exception, match="does not exist"):
            tx.sessions.get_session(old.session_id)
    assert not log_dir.exists()


def test_settings_layer_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "digpy.toml"
    config.write_text('port = 7000\nlog_format = "json"\nmax_task_threads = 4\n')

    settings = load_settings(config, {"DIGPY_PORT": "7001"}).with_overrides(
        {"max_task_threads": 8, "bind": None})

    assert (settings.port, settings.log_format, settings.max_task_threads, settings.bind) == (
        7001, "json", 8, "127.0.0.1")


def test_an_unknown_setting_is_an_error_that_lists_the_known_ones(tmp_path: Path) -> None:
    config = tmp_path / "digpy.toml"
    config.write_text("prot = 7000\n")

    with pytest.raises(ConfigError, match=r"unknown settings \['prot'\].*port"):
        load_settings(config, {})


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=str(tmp_path)).database_url == f"sqlite:///{tmp_path}/digpy.db"


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _one_line_logged(log_format: str, *, tty: bool) -> str:
    stream = _Stream(tty)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(log_format, stream)
        logging.getLogger("digpy.test").info("fired %s", "+wf")
    finally:
        root.handlers[:], root.level = handlers, level
    return stream.getvalue()


def test_auto_log_format_is_json_lines_when_stderr_is_not_a_terminal() -> None:
    line = _one_line_logged("auto", tty=False)

    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("INFO", "digpy.test",
                                                                   "fired +wf")


def test_auto_log_format_is_text_on_a_terminal() -> None:
    line = _one_line_logged("auto", tty=True)

    assert line.rstrip().endswith("INFO digpy.test: fired +wf")


def test_the_default_log_format_is_auto_and_unknown_formats_are_refused() -> None:
    assert load_settings(None, {}).log_format == "auto"
    with pytest.raises(ConfigError, match="log_format must be auto, text or json"):
        load_settings(None, {"DIGPY_LOG_FORMAT": "xml"})
