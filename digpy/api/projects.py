"""Projects: list, get, delete (soft), upload a revision (``PUT /api/projects``), revisions,
archive download, and the project-scoped lists of workflows, schedules and sessions."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from digpy.api.errors import ApiError, bad_request, not_found
from digpy.api.request import ApiContext, ApiRequest, parse_time
from digpy.api.routes import Endpoint, Reply
from digpy.api.shapes import Names, project_json, revision_json, session_json
from digpy.model.records import Project, Revision
from digpy.store.base import Tx


def live_project(tx: Tx, project_id: int) -> Project:
    """The project, 404 when unknown or deleted."""
    project = tx.projects.get_project(project_id)
    if tx.browse.project_deleted_at(project_id) is not None:
        raise not_found(f"project {project_id} was deleted")
    return project


def revision_of(tx: Tx, project_id: int, name: str | None) -> Revision:
    """The named revision, or the latest; 404 when there is none."""
    found = tx.browse.find_revision(project_id, name) if name else tx.projects.latest_revision(
        project_id)
    if found is None:
        raise not_found(f"project {project_id} has no revision {name or ''}".rstrip())
    return found


def list_projects(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    name = req.text("name")
    with ctx.store.read() as tx:
        names = Names(tx)
        found = [p for p in tx.browse.list_projects() if name is None or p.name == name]
        return {"projects": [project_json(names, p) for p in found]}


def get_project(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    with ctx.store.read() as tx:
        return project_json(Names(tx), tx.projects.get_project(req.path_id()))


def delete_project(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    project_id = req.path_id()
    with ctx.store.write() as tx:
        live_project(tx, project_id)
        tx.browse.delete_project(project_id, now=ctx.clock.now())
        return project_json(Names(tx), tx.projects.get_project(project_id))


def put_project(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    """Upload a revision: the tar.gz is checked (every workflow compiles) before anything
    is stored, then stored as ``digpy push`` stores it (one transaction)."""
    from digpy.scheduler.archive import MAX_ARCHIVE_BYTES
    from digpy.scheduler.sync import store_revision

    name = req.text("project")
    if not name:
        raise bad_request("give the project name: PUT /api/projects?project=NAME")
    if len(req.body) > MAX_ARCHIVE_BYTES:
        raise ApiError(413, f"the archive is {len(req.body)} bytes, over the "
                       f"{MAX_ARCHIVE_BYTES}-byte limit")
    schedule_from = req.text("schedule_from")
    now = parse_time(schedule_from, "schedule_from") if schedule_from else ctx.clock.now()
    workflows = _compile_archive(req.body)
    with ctx.store.read() as tx:
        existing = tx.projects.find_project(name)
    pushed = store_revision(
        ctx.store, name=name, path=existing.path if existing else "", workflows=workflows,
        now=now, revision_name=req.text("revision"), archive=_archive(req.body),
    )
    with ctx.store.write() as tx:
        tx.browse.restore_project(pushed.project.id)  # a push brings a deleted project back
        return project_json(Names(tx), tx.projects.get_project(pushed.project.id))


def _archive(data: bytes) -> Any:
    import hashlib

    from digpy.scheduler.sync import Archive

    return Archive(data=data, hash=hashlib.sha256(data).hexdigest())


def _compile_archive(data: bytes) -> list[Any]:
    """Every workflow of the archive, compiled. 400 with the first error (its location
    relative to the project, never a server path)."""
    import tarfile

    from digpy.dsl.project import load_project
    from digpy.scheduler.archive import extract_archive

    with tempfile.TemporaryDirectory(prefix="digpy-upload-") as tmp:
        root = Path(tmp) / "project"
        try:
            extract_archive(data, root)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise bad_request(f"the body is not a tar.gz project archive: {exc}") from None
        project = load_project(root)
        if project.errors:
            error = project.errors[0]
            raise bad_request(str(error).replace(f"{root}/", "").replace(str(root), "."))
        if not project.workflows:
            raise bad_request("the archive holds no .dig file")
        return list(project.workflows.values())


def list_revisions(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    name = req.text("name")
    with ctx.store.read() as tx:
        live_project(tx, req.path_id())
        names = Names(tx)
        found = [r for r in tx.browse.list_revisions(req.path_id())
                 if name is None or r.name == name]
        return {"revisions": [revision_json(names, r) for r in found]}


def download_archive(ctx: ApiContext, req: ApiRequest) -> Reply:
    with ctx.store.read() as tx:
        project = live_project(tx, req.path_id())
        revision = revision_of(tx, project.id, req.text("revision"))
        data = tx.archives.get_archive(revision.id)
    if data is None:
        raise not_found(f"revision {revision.name} of {project.name} was registered from a "
                        "directory and has no archive")
    filename = f"{project.name}-{revision.name}.tar.gz"
    return Reply(content=data, media_type="application/gzip",
                 headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def project_sessions(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    last_id, size = req.page()
    with ctx.store.read() as tx:
        project = live_project(tx, req.path_id())
        rows = tx.browse.page_sessions(project_id=project.id, workflow=req.text("workflow"),
                                       last_id=last_id, limit=size)
        names = Names(tx)
        return {"sessions": [session_json(names, s) for s in rows]}


ENDPOINTS = [
    Endpoint(method="GET", path="/api/projects", handler=list_projects,
             summary="List projects", returns="ProjectList", query=("name",)),
    Endpoint(method="PUT", path="/api/projects", handler=put_project, body="gzip",
             summary="Upload a project archive as a new revision", returns="Project",
             query=("project", "revision", "schedule_from")),
    Endpoint(method="GET", path="/api/projects/{id}", handler=get_project,
             summary="Get a project", returns="Project"),
    Endpoint(method="DELETE", path="/api/projects/{id}", handler=delete_project,
             summary="Delete a project (soft; sessions are kept)", returns="Project"),
    Endpoint(method="GET", path="/api/projects/{id}/revisions", handler=list_revisions,
             summary="List revisions, newest first", returns="RevisionList", query=("name",)),
    Endpoint(method="GET", path="/api/projects/{id}/archive", handler=download_archive,
             summary="Download a revision's tar.gz", returns="gzip", query=("revision",)),
    Endpoint(method="GET", path="/api/projects/{id}/sessions", handler=project_sessions,
             summary="List the project's sessions", returns="SessionList",
             query=("workflow", "last_id", "page_size")),
]

