"""Projects on a digpy server: ``download PROJECT`` (a pushed revision's files) and the
server side of ``delete PROJECT`` (soft delete: schedules go, sessions stay, spec §7.3).
"""

from __future__ import annotations

import io
from pathlib import Path

import click

from digpy.cli.client.backend import endpoint_option, open_server
from digpy.cli.client.http import NotFoundOnServer, path
from digpy.cli.client.remote import HttpBackend
from digpy.errors import ConfigError

DOWNLOAD_EPILOG = """\b
Examples:
  digpy download etl -e http://127.0.0.1:65432            the latest revision into ./etl
  digpy download etl -r v2 -o /tmp/etl-v2 -e URL

\b
Only pushed projects have an archive; a project registered from a directory (`digpy server
--project DIR`) runs from that directory and cannot be downloaded.
\b
Exit codes: 0 downloaded, 1 server unreachable or failed, 2 unknown project or revision, no
archive, a file in the way, no server given."""


@click.command(epilog=DOWNLOAD_EPILOG)
@click.argument("project")
@click.option("-r", "--revision", default=None, help="Revision name (default: the latest).")
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Folder to write into (default: ./PROJECT).")
@endpoint_option
def download(project: str, revision: str | None, output: Path | None,
             endpoint: str | None) -> int:
    """Download a pushed project's files (needs a digpy server)."""
    backend = open_server(endpoint, "download")
    found = backend.project(project)
    revision = revision or str(found.get("revision") or "")
    try:
        reply = backend.client.send("GET", path("api", "projects", found["id"], "archive",
                                                revision=revision or None))
    except NotFoundOnServer as exc:
        raise ConfigError(f"project {project} revision {revision} has no archive to "
                          f"download ({exc})") from None
    target = output or Path(project)
    count = extract(reply.body, target)
    click.echo(f"Downloaded project {project} revision {revision} to {target}/ "
               f"({count} files)")
    return 0


def extract(archive: bytes, target: Path) -> int:
    """Unpack a tar.gz into ``target``; refuses to overwrite, and tarfile's ``data`` filter
    refuses members that would land outside ``target`` (absolute paths, ``..``, links)."""
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        taken = [m.name for m in members if m.isfile() and (target / m.name).exists()]
        if taken:
            raise ConfigError(f"{target / taken[0]} already exists; download into an empty "
                              "folder (-o DIR)")
        target.mkdir(parents=True, exist_ok=True)
        try:
            tar.extractall(target, members=members, filter="data")
        except tarfile.FilterError as exc:
            raise ConfigError(f"the archive has an unsafe entry ({exc}); nothing more was "
                              "written") from None
    return sum(1 for m in members if m.isfile())


def delete_on_server(endpoint: str, project: str | None, force: bool) -> int:
    """``digpy delete PROJECT -e URL``: Digdag's soft delete of a pushed project."""
    if project is None:
        raise click.UsageError("name the project to delete: digpy delete PROJECT -e URL")
    backend: HttpBackend = open_server(endpoint, "delete")
    found = backend.project(project)
    if not force:
        click.confirm(f"Delete project {project} on {backend.description}? Its schedules are "
                      "deleted; its sessions and logs are kept.", abort=True)
    backend.client.send("DELETE", path("api", "projects", found["id"]))
    click.echo(f"Deleted project {project} (id {found['id']}) on {backend.description}")
    return 0


class ServerSecrets:
    """A server project's secrets behind the local store's interface (cli/secrets.py).
    Keys only come back; values go one way."""

    def __init__(self, backend: HttpBackend, project: str) -> None:
        self.backend = backend
        self.project_id = backend.project(project)["id"]

    def _path(self, key: str | None = None) -> str:
        parts = ["api", "projects", self.project_id, "secrets"]
        return path(*parts, key) if key is not None else path(*parts)

    def set(self, key: str, value: str) -> None:
        self.backend.client.send("PUT", self._path(key), {"value": value})

    def delete(self, key: str) -> bool:
        try:
            self.backend.client.send("DELETE", self._path(key))
        except NotFoundOnServer:
            return False
        return True

    def list(self) -> list[str]:
        found = self.backend.client.get(self._path()).get("secrets") or []
        return sorted(str(item["key"]) for item in found)
