"""`digpy scheduler [--project DIR]`: Digdag's local scheduler, a daemon over one project
directory that re-registers it whenever its files change (state in ``<project>/.digpy/``).

Exit codes: as `digpy server`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from digpy.clock import Clock
    from digpy.store.sql.engine import SqlStore

log = logging.getLogger("digpy.scheduler")


@click.command()
@click.option("--project", "project_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), help="Project folder (default '.').")
@click.option("--database", default=None, metavar="URL",
              help="Store URL (default: SQLite in <project>/.digpy/scheduler.db).")
@click.option("--max-task-threads", type=int, default=None, help="Operator threads.")
@click.option("-c", "--config", "config_file", type=click.Path(path_type=Path), default=None)
@click.option("--log-format", type=click.Choice(["auto", "text", "json"]), default=None)
@click.option("-b", "--bind", default=None, help="API address (default 127.0.0.1).")
@click.option("-n", "--port", type=int, default=None,
              help="API port (default 65432; 0 picks a free one).")
@click.option("--disable-api", is_flag=True, default=None, help="Do not serve the REST API.")
def scheduler(project_dir: Path, config_file: Path | None, **flags: Any) -> None:
    """Run a project's schedules, reloading it when its files change.

    Like `digdag scheduler`, it also serves the REST API, so the client commands work
    against it with `-e http://127.0.0.1:65432`."""
    from digpy.cli.server import run_daemon
    from digpy.settings import load_settings

    state = project_dir.resolve() / ".digpy"
    settings = load_settings(config_file).with_overrides({"data_dir": str(state), **flags})
    if not settings.database:
        settings = settings.with_overrides(
            {"database": f"sqlite:///{state / 'scheduler.db'}"})

    def hooks(store: SqlStore, clock: Clock) -> list[Callable[[], None]]:
        return [ProjectWatcher(project_dir, store, clock)]

    raise SystemExit(run_daemon(settings, [project_dir], hooks=hooks,
                                serve_api=not settings.disable_api))


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(p.startswith(".") for p in relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        files.append((str(relative), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(files))


class ProjectWatcher:
    """Re-registers the project when a file is added, changed or removed (polled each tick:
    no inotify dependency, and a project is small)."""

    def __init__(self, root: Path, store: SqlStore, clock: Clock) -> None:
        self.root = root.resolve()
        self.store = store
        self.clock = clock
        self._seen = _signature(self.root)

    def __call__(self) -> None:
        from digpy.cli.server import register_directory
        from digpy.errors import DigpyError

        current = _signature(self.root)
        if current == self._seen:
            return
        self._seen = current
        try:
            register_directory(self.store, self.clock, self.root)
        except DigpyError as exc:  # keep the last good revision running
            log.error("not reloading %s: %s", self.root, exc)
