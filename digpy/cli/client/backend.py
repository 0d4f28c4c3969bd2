"""Where client commands read state from: the ``Backend`` protocol and how to pick one.

``LocalBackend`` (local.py) reads a project's ``.digpy/state.db``. A digpy server is reached
with ``-e URL``; until its REST client exists, ``http.py`` only checks that the server is
reachable and says so — an ``HttpBackend`` implementing this protocol is the missing piece.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from digpy.cli.client.views import (
    AttemptView,
    ScheduleView,
    SessionView,
    TaskView,
    WorkflowView,
)

F = TypeVar("F", bound=Callable[..., Any])


class Backend(Protocol):
    """Read-mostly access to one project's sessions, attempts, tasks and logs.

    Unknown ids raise ``ConfigError`` (exit 2), as a mistyped id is the user's to fix."""

    description: str  # where the state lives, for messages

    def workflows(self) -> list[WorkflowView]: ...

    def schedules(self, now: datetime) -> list[ScheduleView]: ...

    def sessions(self, workflow: str | None, *, limit: int) -> list[SessionView]:
        """Sessions newest session time first, each with its last attempt."""
        ...

    def session(self, session_id: int) -> SessionView: ...

    def attempts(self, session_id: int | None, *, limit: int) -> list[AttemptView]:
        """Every attempt (retries included), newest first; of one session if given."""
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


def client_options(func: F) -> F:
    """``--project DIR`` and ``-e/--endpoint URL``, shared by every client command."""
    func = click.option("-e", "--endpoint", default=None, metavar="URL",
                        help="A digpy server to ask instead of the local state.")(func)
    return click.option("--project", "project_dir", default=Path("."),
                        type=click.Path(path_type=Path, file_okay=False, exists=True),
                        help="Project folder whose .digpy/ state to read (default: .).")(func)


def open_backend(project_dir: Path, endpoint: str | None) -> Backend:
    """The local state of ``project_dir``, or the server at ``endpoint``.

    :raises DigpyError: the server cannot be reached (exit 1).
    :raises ConfigError: the server answered but this client cannot talk to it yet."""
    if endpoint:
        from digpy.cli.client.http import connect

        return connect(endpoint)
    from digpy.cli.client.local import LocalBackend

    return LocalBackend(project_dir)


def needs_server(command: str) -> click.Command:
    """A command that only makes sense against a digpy server: a clear exit 2 until then."""

    @click.command(name=command, context_settings={"ignore_unknown_options": True},
                   help="Needs a digpy server (-e URL): not available on the local state.",
                   epilog="\b\nExit codes: 2 (needs a digpy server).")
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def stub(args: tuple[str, ...]) -> int:
        from digpy.errors import ConfigError

        raise ConfigError(f"digpy {command} needs a digpy server (-e URL); the local state "
                          "of `digpy run` has no schedules to change")

    return stub



@contextmanager
def using_backend(project_dir: Path, endpoint: str | None) -> Iterator[Backend]:
    """``open_backend``, closed at the end of the ``with`` block."""
    backend = open_backend(project_dir, endpoint)
    try:
        yield backend
    finally:
        backend.close()
