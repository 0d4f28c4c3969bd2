"""`digpy push PROJECT_DIR [--revision NAME]`: store the project as a new revision (its
tar.gz archive and content hash in the database; older revisions are kept) and bring its
schedules up to date (spec §5.4, §7.3). With ``-e URL`` (or ``DIGPY_ENDPOINT``) it uploads
the archive to a digpy server (``PUT /api/projects``), as ``digdag push`` does; otherwise it
writes to the daemon's database directly (``--database`` or the default SQLite file).

Exit codes: 0 pushed; 1 the server cannot be reached or failed; 2 a usage or .dig error
(nothing is stored when a workflow is broken).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

EPILOG = """\b
Examples:
  digpy push examples/hello
  digpy push . --revision v2 --database postgresql+psycopg://digpy@db/digpy
  digpy push examples/etl -e http://127.0.0.1:65432     upload to a running server
\b
Exit codes: 0 pushed, 1 server unreachable or failed, 2 usage or .dig error."""


@click.command(epilog=EPILOG)
@click.argument("project_dir", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("-r", "--revision", default=None, help="Revision name (default: content hash).")
@click.option("--name", "project_name", default=None,
              help="Project name (default: the folder's name).")
@click.option("--database", default=None, metavar="URL", help="SQLAlchemy URL of the store.")
@click.option("-e", "--endpoint", default=None, metavar="URL",
              help="Upload to this digpy server (default: DIGPY_ENDPOINT, else the database).")
@click.option("-c", "--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Daemon config file (TOML).")
@click.option("--schedule-from", default=None, metavar="TIME",
              help="Compute first schedule slots from this ISO time instead of now.")
def push(project_dir: Path, revision: str | None, project_name: str | None,
         database: str | None, endpoint: str | None, config_file: Path | None,
         schedule_from: str | None) -> None:
    """Push a project: store a revision and update its schedules."""
    if endpoint is None and database is None and config_file is None:
        from digpy.cli.client.config import configured_endpoint

        endpoint = configured_endpoint()
    if endpoint:
        upload(endpoint, project_dir, project_name, revision, schedule_from)
        return
    from digpy.clock import SystemClock
    from digpy.dsl.project import load_project
    from digpy.errors import ConfigErrors
    from digpy.scheduler.archive import make_archive
    from digpy.scheduler.daemon import sqlite_path
    from digpy.scheduler.sync import store_revision
    from digpy.settings import load_settings
    from digpy.store.sql.engine import open_store

    settings = load_settings(config_file).with_overrides({"database": database})
    project = load_project(project_dir)
    if project.errors:
        raise ConfigErrors(list(project.errors)) if len(project.errors) > 1 else project.errors[0]
    now = _parse_time(schedule_from) if schedule_from else SystemClock().now()
    archive = make_archive(project_dir)
    db_file = sqlite_path(settings.database_url)
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    with open_store(settings.database_url) as store:
        pushed = store_revision(
            store, name=project_name or project.name, path=str(project.path),
            workflows=list(project.workflows.values()), now=now,
            revision_name=revision, archive=archive,
        )
    click.echo(f"Pushed {pushed.project.name} revision {pushed.revision.name} "
               f"({len(pushed.definitions)} workflows, {len(pushed.schedules)} schedules) "
               f"to {store.description}")
    for row in pushed.schedules:
        click.echo(f"  {row.workflow_name}: next session {row.next_schedule_time.isoformat()} "
                   f"runs at {row.next_run_time.isoformat()}")


def _parse_time(text: str) -> datetime:
    from digpy.errors import ConfigError

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--schedule-from {text!r} is not an ISO time "
                          f"(2026-01-30T00:00:00+00:00)") from None
    if when.tzinfo is None:
        raise ConfigError(f"--schedule-from {text!r} needs a UTC offset")
    return when


def upload(endpoint: str, project_dir: Path, project_name: str | None, revision: str | None,
           schedule_from: str | None) -> None:
    """Check the project here (so a broken .dig fails before anything is sent), then
    upload its archive; the server compiles it again and stores it in one transaction."""
    from digpy.cli.client.config import configured_token
    from digpy.cli.client.http import HttpClient, path
    from digpy.dsl.project import load_project
    from digpy.errors import ConfigErrors
    from digpy.scheduler.archive import make_archive

    project = load_project(project_dir)
    if project.errors:
        raise ConfigErrors(list(project.errors)) if len(project.errors) > 1 else project.errors[0]
    if schedule_from:
        _parse_time(schedule_from)
    client = HttpClient(endpoint, configured_token())
    target = path("api", "projects", project=project_name or project.name, revision=revision,
                  schedule_from=schedule_from)
    stored = client.send("PUT", target, data=make_archive(project_dir).data,
                         content_type="application/gzip").json()
    click.echo(f"Pushed {stored['name']} revision {stored['revision']} "
               f"(project id {stored['id']}) to {client.url}")
