"""Where client commands read state from: the ``Backend`` protocol and how to pick one.

``LocalBackend`` (local.py) reads a project's ``.digpy/state.db``; ``HttpBackend``
(remote.py) asks a digpy server (``-e URL``, ``DIGPY_ENDPOINT`` or the client config file,
config.py). Both return the same views, so output does not depend on where state lives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import click

from digpy.cli.client.views import (
    AttemptView,
    ScheduleView,
    SessionView,
    TaskView,
    WorkflowView,
)

if TYPE_CHECKING:
    from digpy.cli.client.remote import HttpBackend

F = TypeVar("F", bound=Callable[..., Any])


class Backend(Protocol):
    """Read-mostly access to one project's sessions, attempts, tasks and logs.

    Unknown ids raise ``ConfigError`` (exit 2), as a mistyped id is the user's to fix."""

    description: str  # where the state lives, for messages

    def workflows(self, project: str | None = None) -> list[WorkflowView]:
        """``project``: a server's project name (None: every project; the local state has
        one project, so it must be None there)."""
        ...

    def schedules(self, now: datetime, project: str | None = None) -> list[ScheduleView]: ...

    def sessions(self, workflow: str | None, *, limit: int,
                 project: str | None = None) -> list[SessionView]:
        """Sessions newest first, each with its last attempt."""
        ...

    def session(self, session_id: int) -> SessionView: ...

    def attempts(self, session_id: int | None, *, limit: int,
                 workflow: tuple[str, str] | None = None) -> list[AttemptView]:
        """Every attempt (retries included), newest first; of one session if given, or of
        one ``(project, workflow)``."""
        ...

    def attempt(self, attempt_id: int) -> AttemptView: ...

    def tasks(self, attempt_id: int) -> list[TaskView]:
        """Every task row of the attempt in creation order (old retry rows included)."""
        ...

    def read_log(self, task: TaskView, offset: int) -> tuple[str, int]:
        """The task's log text from ``offset`` and the offset after it ("" when none)."""
        ...

    def revision_hash(self, attempt: AttemptView) -> str | None: ...

    def kill(self, attempt_id: int) -> bool:
        """Request a kill; False when the attempt is already done or being killed."""
        ...

    def close(self) -> None: ...


def endpoint_option(func: F) -> F:
    """``-e/--endpoint URL``, defaulting to ``DIGPY_ENDPOINT`` or the client config file
    unless ``--project DIR`` is given (config.py)."""
    from digpy.cli.client.config import resolve_endpoint

    return click.option("-e", "--endpoint", default=None, metavar="URL",
                        callback=resolve_endpoint,
                        help="A digpy server to ask instead of the local state "
                        "(default: $DIGPY_ENDPOINT, else the client config).")(func)


def client_options(func: F) -> F:
    """``--project DIR`` and ``-e/--endpoint URL``, shared by every client command."""
    func = endpoint_option(func)
    return click.option("--project", "project_dir", default=Path("."),
                        type=click.Path(path_type=Path, file_okay=False, exists=True),
                        help="Project folder whose .digpy/ state to read (default: .).")(func)


def open_backend(project_dir: Path, endpoint: str | None) -> Backend:
    """The local state of ``project_dir``, or the server at ``endpoint``.

    :raises DigpyError: the server cannot be reached (exit 1).
    :raises ConfigError: not an http(s) URL, or the token is refused (exit 2)."""
    if endpoint:
        from digpy.cli.client.http import connect

        return connect(endpoint)
    from digpy.cli.client.local import LocalBackend

    return LocalBackend(project_dir)


def open_server(endpoint: str | None, command: str) -> HttpBackend:
    """The server a server-only command talks to.

    :raises ConfigError: no endpoint was given or configured (exit 2)."""
    from digpy.errors import ConfigError

    if not endpoint:
        raise ConfigError(f"digpy {command} needs a digpy server (-e URL, DIGPY_ENDPOINT or "
                          "endpoint in the client config); the local state of `digpy run` "
                          "has no schedules or pushed projects")
    from digpy.cli.client.http import connect

    return connect(endpoint)


def split_target(args: tuple[str, ...], *, server: bool, usage: str
                 ) -> tuple[str | None, str | None]:
    """``[PROJECT] [WORKFLOW]`` positionals: ``PROJECT WORKFLOW`` on a server, ``WORKFLOW``
    on the local state (which holds one project)."""
    if len(args) > (2 if server else 1):
        hint = "" if server else " (PROJECT WORKFLOW is for a server: add -e URL)"
        raise click.UsageError(f"too many arguments; usage: {usage}{hint}")
    if server:
        return (args[0] if args else None), (args[1] if len(args) > 1 else None)
    return None, (args[0] if args else None)


@contextmanager
def using_backend(project_dir: Path, endpoint: str | None) -> Iterator[Backend]:
    """``open_backend``, closed at the end of the ``with`` block."""
    backend = open_backend(project_dir, endpoint)
    try:
        yield backend
    finally:
        backend.close()
