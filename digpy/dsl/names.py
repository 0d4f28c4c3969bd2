"""Digdag's naming rules for workflows, projects and tasks (``ModelValidator``).

Names end up in URLs, file names, task-match patterns (``--retry`` / ``+wf+a^sub``) and the
store's unique keys, which is why the character sets are narrow.
"""

from __future__ import annotations

import re
from typing import Literal

from digpy.errors import ConfigError, Location

NameKind = Literal["workflow", "project", "task"]

MAX_NAME_LENGTH = 255
# Characters that may follow the leading "+" of a task key. "^" is left out on purpose: it
# marks generated tasks (^sub, ^error, ^check), so a user-written "^" could collide with them.
_TASK_CHAR = re.compile(r"[A-Za-z0-9_\-=\[\]{}%&@`,.]")
_RESTRICTED_FIRST = frozenset('+^@/\\:*?"<>|')


def validate_name(name: str, *, kind: str, location: Location | None = None) -> None:
    """Raise ConfigError when ``name`` breaks Digdag's rules for a ``kind`` name.

    ``kind`` is ``"workflow"``, ``"project"`` or ``"task"`` (a task key such as ``+load``)."""
    problem = _task_problem(name) if kind == "task" else _resource_problem(name)
    if problem:
        raise ConfigError(f"Invalid {kind} name {name!r}: {problem}", location=location)


def _resource_problem(name: str) -> str | None:
    if not isinstance(name, str) or not name:
        return "must not be blank"
    if "0" <= name[0] <= "9":
        return "must not start with a digit (0-9)"
    if name[0] in _RESTRICTED_FIRST:
        return 'must not start with a special symbol (+ ^ @ / \\ : * ? " < > |)'
    if name.endswith(".dig"):
        return "must not end with .dig"
    if len(name) > MAX_NAME_LENGTH:
        return f"must not be longer than {MAX_NAME_LENGTH} characters"
    return None


def _task_problem(name: str) -> str | None:
    if not isinstance(name, str) or not name.startswith("+"):
        return "must start with '+'"
    for char in name[1:]:
        if char == "^":
            return "must not contain '^' (it marks generated tasks such as ^sub and ^error)"
        if not _TASK_CHAR.fullmatch(char):
            shown = "a space" if char == " " else repr(char)
            return (f"must not contain {shown}; use letters, digits and "
                    "_ - = [ ] { } % & @ ` , . only")
    if len(name) > MAX_NAME_LENGTH:
        return f"must not be longer than {MAX_NAME_LENGTH} characters"
    return None
