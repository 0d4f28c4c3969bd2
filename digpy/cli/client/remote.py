"""``HttpBackend``: the ``Backend`` protocol over a digpy server's REST API (docs/api.md),
returning the same views as ``LocalBackend`` so every command prints the same output.

Listings page through ``last_id``/``page_size`` until ``limit`` items are read. Server-only
actions (start, retry, backfill, schedules, secrets, projects) live in remote_actions.py
and remote_projects.py and use ``client`` and the lookups here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from digpy.cli.client import wire
from digpy.cli.client.http import HttpClient, NotFoundOnServer, path
from digpy.cli.client.views import (
    AttemptView,
    ScheduleView,
    SessionView,
    TaskView,
    WorkflowView,
)
from digpy.errors import ConfigError

MAX_PAGE = 1000  # the server's cap on page_size
EVERY = 1 << 62


class HttpBackend:
    def __init__(self, client: HttpClient) -> None:
        self.client = client
        self.description = client.url

    def close(self) -> None:
        pass  # urllib keeps no connection open between requests

    # -- lookups ----------------------------------------------------------------------------

    def project(self, name: str) -> dict[str, Any]:
        """The project named ``name``. :raises ConfigError: there is none (exit 2)."""
        found = self.client.get(path("api", "projects", name=name)).get("projects") or []
        if not found:
            raise ConfigError(f"project {name!r} does not exist on {self.description}; "
                              f"`digpy push` stores it, `digpy workflows -e URL` lists them")
        return dict(found[0])

    def workflow_json(self, project: str, workflow: str, revision: str | None = None
                      ) -> dict[str, Any]:
        project_id = self.project(project)["id"]
        target = path("api", "projects", project_id, "workflows", workflow.removesuffix(".dig"),
                      revision=revision)
        try:
            return dict(self.client.get(target))
        except NotFoundOnServer:
            raise ConfigError(f"workflow {workflow!r} does not exist in project {project!r} "
                              f"on {self.description}") from None

    def attempt_json(self, attempt_id: int) -> dict[str, Any]:
        return dict(self._one("attempt", attempt_id, path("api", "attempts", attempt_id)))

    def _one(self, kind: str, ident: int, target: str) -> Any:
        try:
            return self.client.get(target)
        except NotFoundOnServer:
            raise ConfigError(f"{kind} {ident} does not exist on {self.description}; "
                              f"`digpy {kind}s -e {self.description}` lists them") from None

    def pages(self, target: str, key: str, limit: int, **query: Any) -> Iterator[Any]:
        """Items of a paged listing, newest first, at most ``limit``."""
        last_id: str | None = None
        left = limit
        while left > 0:
            size = min(left, MAX_PAGE)
            page = self.client.get(path(*target.split("/"), last_id=last_id, page_size=size,
                                        **query)).get(key) or []
            yield from page[:left]
            left -= len(page)
            if len(page) < size:
                return
            last_id = page[-1]["id"]

    # -- the Backend protocol ---------------------------------------------------------------

    def workflows(self, project: str | None = None) -> list[WorkflowView]:
        if project is None:
            items = self.pages("api/workflows", "workflows", EVERY)
        else:
            target = path("api", "projects", self.project(project)["id"], "workflows")
            items = iter(self.client.get(target).get("workflows") or [])
        return [wire.workflow(w) for w in items]

    def schedules(self, now: datetime, project: str | None = None) -> list[ScheduleView]:
        if project is None:
            items = list(self.pages("api/schedules", "schedules", EVERY))
            items.sort(key=lambda s: int(s["id"]))  # last_id pages come newest first
        else:
            target = path("api", "projects", self.project(project)["id"], "schedules")
            items = self.client.get(target).get("schedules") or []
        return [wire.schedule(s) for s in items]

    def sessions(self, workflow: str | None, *, limit: int,
                 project: str | None = None) -> list[SessionView]:
        if project is None:
            if workflow is not None:
                raise ConfigError("name the project too: digpy sessions PROJECT WORKFLOW -e URL")
            items = self.pages("api/sessions", "sessions", limit)
        else:
            project_id = self.project(project)["id"]
            items = self.pages(f"api/projects/{project_id}/sessions", "sessions", limit,
                               workflow=workflow)
        return [wire.session(s) for s in items]

    def session(self, session_id: int) -> SessionView:
        return wire.session(self._one("session", session_id,
                                      path("api", "sessions", session_id)))

    def attempts(self, session_id: int | None, *, limit: int,
                 workflow: tuple[str, str] | None = None) -> list[AttemptView]:
        if session_id is not None:
            self.session(session_id)  # an unknown session is an error, not an empty list
            items = self.pages(f"api/sessions/{session_id}/attempts", "attempts", limit)
        else:
            project, name = workflow or (None, None)
            items = self.pages("api/attempts", "attempts", limit, include_retried=True,
                               project=project, workflow=name)
        return [wire.attempt(a) for a in items]

    def attempt(self, attempt_id: int) -> AttemptView:
        return wire.attempt(self.attempt_json(attempt_id))

    def tasks(self, attempt_id: int) -> list[TaskView]:
        zone = self.attempt(attempt_id).session_time.tzinfo
        found = self.client.get(path("api", "attempts", attempt_id, "tasks")).get("tasks")
        return [wire.task(t, attempt_id, zone) for t in found or []]

    def read_log(self, task: TaskView, offset: int) -> tuple[str, int]:
        if not task.log_path:
            return "", offset
        target = path("api", "logs", task.attempt_id, "files", task.log_path, offset=offset)
        try:
            reply = self.client.send("GET", target)
        except NotFoundOnServer:
            return "", offset  # the task has not written a line yet
        text = reply.body.decode("utf-8", errors="replace")
        next_offset = reply.header("X-Digpy-Next-Offset")
        return text, int(next_offset) if next_offset else offset + len(reply.body)

    def revision_hash(self, attempt: AttemptView) -> str | None:
        found = self.attempt_json(attempt.id).get("revisionHash")
        return str(found) if found else None

    def kill(self, attempt_id: int) -> bool:
        from digpy.cli.client.http import ConflictOnServer

        self.attempt_json(attempt_id)  # unknown: exit 2 before asking to kill
        try:
            self.client.send("POST", path("api", "attempts", attempt_id, "kill"), {})
        except ConflictOnServer:
            return False
        return True
