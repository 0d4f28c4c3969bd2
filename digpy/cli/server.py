"""`digpy server`: the daemon (scheduler + executor) over one store (docs/server.md).

Exit codes: 0 stopped by SIGTERM/SIGINT after running tasks finished; 1 another daemon
holds the SQLite database; 2 a usage or config error.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from digpy.clock import Clock
    from digpy.scheduler.daemon import Daemon
    from digpy.settings import Settings
    from digpy.store.sql.engine import SqlStore

EPILOG = """\b
Examples:
  digpy server                             SQLite under the user data dir
  digpy server --project examples/hello    also register a project directory
  digpy server --database postgresql+psycopg://digpy@db/digpy   (several daemons)
\b
Exit codes: 0 stopped by SIGTERM (running tasks finished), 1 the SQLite database is held by
another daemon, 2 usage or config error."""


@click.command(epilog=EPILOG)
@click.option("--project", "projects", multiple=True, type=click.Path(path_type=Path,
              file_okay=False), help="Register this project directory at start (repeatable).")
@click.option("--database", default=None, metavar="URL", help="SQLAlchemy URL of the store.")
@click.option("--data-dir", default=None, help="Where the default SQLite, logs and revisions go.")
@click.option("-b", "--bind", default=None, help="API address (default 127.0.0.1).")
@click.option("-n", "--port", type=int, default=None, help="API port (default 65432).")
@click.option("--max-task-threads", type=int, default=None, help="Operator threads.")
@click.option("--disable-scheduler", is_flag=True, default=None, help="Do not fire schedules.")
@click.option("--disable-executor", is_flag=True, default=None, help="Do not run attempts.")
@click.option("-c", "--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Config file (TOML; see config/server.toml).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None)
def server(projects: Sequence[Path], config_file: Path | None, **flags: Any) -> None:
    """Run the scheduler and executor daemon."""
    from digpy.settings import load_settings

    settings = load_settings(config_file).with_overrides(flags)
    raise SystemExit(run_daemon(settings, projects))


def run_daemon(settings: Settings, projects: Sequence[Path], *,
               hooks: Callable[[SqlStore, Clock], Sequence[Callable[[], None]]] | None = None
               ) -> int:
    """Lock, open, register ``projects``, then loop until SIGTERM; the exit code."""
    from digpy.clock import SystemClock
    from digpy.scheduler.daemon import Daemon, DaemonLocked, open_daemon_store

    configure_logging(settings.log_format)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    try:
        store, lock = open_daemon_store(settings)
    except DaemonLocked as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    clock = SystemClock()
    try:
        for directory in projects:
            register_directory(store, clock, directory)
        daemon = Daemon(settings, store, clock, on_tick=hooks(store, clock) if hooks else ())
        _install_signals(daemon)
        daemon.run()
    finally:
        store.close()
        if lock is not None:
            lock.release()
    return 0


def register_directory(store: SqlStore, clock: Clock, directory: Path) -> None:
    """Store the project directory as a revision (attempts run in the directory itself).

    :raises ConfigError: a workflow does not compile."""
    from digpy.dsl.project import load_project
    from digpy.scheduler.sync import store_revision

    project = load_project(directory)
    if project.errors:
        raise project.errors[0]
    pushed = store_revision(store, name=project.name, path=str(project.path),
                            workflows=list(project.workflows.values()), now=clock.now())
    logging.getLogger("digpy.server").info(
        "project %s revision %s: %d workflows, %d schedules", project.name,
        pushed.revision.name, len(pushed.definitions), len(pushed.schedules))


def _install_signals(daemon: Daemon) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if daemon_stopping[0]:
            os._exit(1)  # a second signal: stop now; the store recovers (at-least-once)
        daemon_stopping[0] = True
        daemon.request_stop()

    daemon_stopping = [False]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
