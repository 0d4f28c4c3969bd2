"""`digpy server`: the daemon (scheduler + executor) over one store (docs/server.md).

Exit codes: 0 stopped by SIGTERM/SIGINT after running tasks finished; 1 another daemon
holds the SQLite database or the API port is taken; 2 a usage or config error.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from digpy.api.serve import ApiServer
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
REST API (docs/api.md) on --bind/--port; another address than loopback needs api_token
(or DIGPY_API_TOKEN).
\b
Exit codes: 0 stopped by SIGTERM (running tasks finished), 1 the SQLite database is held by
another daemon or the API port is taken, 2 usage or config error (e.g. --bind 0.0.0.0 without
a token)."""


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
@click.option("--log-format", type=click.Choice(["auto", "text", "json"]), default=None,
              help="Daemon log lines: text, json, or auto (text on a terminal).")
@click.option("--disable-api", is_flag=True, default=None, help="Do not serve the REST API.")
@click.option("--lease-seconds", type=float, default=None,
              help="How long a hold on an attempt lasts without a heartbeat (default 60).")
@click.option("--heartbeat-seconds", type=float, default=None,
              help="How often leases are renewed (default: lease-seconds / 3).")
def server(projects: Sequence[Path], config_file: Path | None, **flags: Any) -> None:
    """Run the scheduler and executor daemon."""
    from digpy.settings import load_settings

    settings = load_settings(config_file).with_overrides(flags)
    raise SystemExit(run_daemon(settings, projects, serve_api=not settings.disable_api))


def run_daemon(settings: Settings, projects: Sequence[Path], *,
               hooks: Callable[[SqlStore, Clock], Sequence[Callable[[], None]]] | None = None,
               serve_api: bool = False) -> int:
    """Lock, open, register ``projects``, serve the REST API (``serve_api``), then loop
    until SIGTERM; the exit code."""
    from digpy.clock import SystemClock
    from digpy.scheduler.daemon import Daemon, DaemonLocked, open_daemon_store

    if serve_api:
        from digpy.api.serve import check_bind

        check_bind(settings.bind, settings.api_token)  # before anything is opened: exit 2
    configure_logging(settings.log_format)
    # notify>, SLA alerts and attempt_ttl timeouts send through the configured notifier.
    from digpy.spi.notify import install

    install(settings.notifier)
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
        return _serve(settings, store, clock, daemon, serve_api)
    finally:
        store.close()
        if lock is not None:
            lock.release()


def _serve(settings: Settings, store: SqlStore, clock: Clock, daemon: Daemon,
           serve_api: bool) -> int:
    """Start the API (when asked), run the loop until SIGTERM, stop the API; exit code."""
    draining = threading.Event()  # set by SIGTERM: the API answers 503 from then on
    try:
        api = start_api(settings, store, clock, daemon, draining) if serve_api else None
    except OSError as exc:
        click.echo(f"error: cannot serve the API on {settings.bind}:{settings.port}: "
                   f"{exc.strerror or exc}; pass --port (0 picks a free one) or "
                   "--disable-api", err=True)
        return 1
    _install_signals(daemon, draining)
    try:
        daemon.run()
    finally:
        if api is not None:
            api.stop()
    return 0


def start_api(settings: Settings, store: SqlStore, clock: Clock, daemon: Daemon,
              draining: threading.Event) -> ApiServer:
    """Bind (raises OSError), then serve the REST API on a thread until ``stop()``; it
    answers 503 once the daemon drains."""
    from typing import cast

    from digpy import __version__
    from digpy.api.app import Access, create_app
    from digpy.api.metrics import MeteredSchedules, Metrics
    from digpy.api.request import ApiContext
    from digpy.api.serve import ApiServer, bind_socket, is_loopback
    from digpy.secrets.server import server_cipher

    sock = bind_socket(settings.bind, settings.port)
    metrics = Metrics(version=__version__, database=store.engine.dialect.name)
    # The wrapper has the service's interface (it delegates); it adds lateness observations.
    daemon.schedules = cast(Any, MeteredSchedules(daemon.schedules, metrics.lateness))
    ctx = ApiContext(store=store, clock=clock, data_dir=settings.data_path,
                     cipher=server_cipher(settings.data_path), version=__version__,
                     stopping=draining.is_set, attempt_max_run=settings.attempt_max_run)
    access = Access(token=settings.api_token or None, public_metrics=is_loopback(settings.bind))
    api = ApiServer(create_app(ctx, access, metrics), sock)
    api.start()
    return api


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


def _install_signals(daemon: Daemon, draining: threading.Event) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if daemon_stopping[0]:
            os._exit(1)  # a second signal: stop now; the store recovers (at-least-once)
        daemon_stopping[0] = True
        draining.set()
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


def configure_logging(log_format: str, stream: Any = None) -> None:
    """Daemon log lines on ``stream`` (stderr): ``auto`` is text for a person at a terminal
    and one JSON object a line for a log collector (journald, a container runtime)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
