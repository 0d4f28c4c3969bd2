"""`digpy gc [--retention-days N]`: delete sessions whose attempts all finished more than N
days ago (default: the ``retention_days`` setting, 30), with their tasks and log files.

Exit codes: 0 done; 2 a usage or config error.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import click

BATCH = 500  # sessions per transaction: short write locks on a live daemon's database


@click.command()
@click.option("--retention-days", type=int, default=None, help="Keep this many days.")
@click.option("--database", default=None, metavar="URL", help="SQLAlchemy URL of the store.")
@click.option("--data-dir", default=None, help="Where the daemon keeps logs.")
@click.option("-c", "--config", "config_file", type=click.Path(path_type=Path), default=None)
def gc(retention_days: int | None, database: str | None, data_dir: str | None,
       config_file: Path | None) -> None:
    """Delete old sessions, attempts, tasks and logs."""
    from digpy.clock import SystemClock
    from digpy.settings import load_settings
    from digpy.store.sql.engine import open_store

    settings = load_settings(config_file).with_overrides(
        {"retention_days": retention_days, "database": database, "data_dir": data_dir})
    cutoff = SystemClock().now() - timedelta(days=settings.retention_days)
    deleted: list[int] = []
    with open_store(settings.database_url) as store:
        while True:
            with store.write() as tx:
                batch = tx.retention.delete_sessions_finished_before(cutoff, limit=BATCH)
            if not batch:
                break
            deleted += batch
    logs = settings.data_path / "logs"
    for attempt_id in deleted:  # after the commit: a crash leaves files, never dangling rows
        shutil.rmtree(logs / str(attempt_id), ignore_errors=True)
    click.echo(f"Deleted {len(deleted)} attempts finished before {cutoff.isoformat()}")
