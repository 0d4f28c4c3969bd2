"""What a handler sees: a frozen ``ApiRequest`` with typed accessors that turn bad input
into 400s, and the ``ApiContext`` shared by every handler."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from digpy.api.errors import bad_request
from digpy.clock import Clock
from digpy.dsl.model import Workflow
from digpy.model.records import WorkflowDefinition
from digpy.secrets.crypto import SecretCipher
from digpy.store.base import Store

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # Digdag's api.max_*_page_size default


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiRequest:
    method: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def path_id(self, name: str = "id") -> int:
        return parse_id(self.path[name], name)

    def text(self, name: str) -> str | None:
        value = self.query.get(name)
        return value if value else None

    def integer(self, name: str, *, default: int | None = None, minimum: int = 0
                ) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"{name} must be an integer, not {raw!r}") from None
        if value < minimum:
            raise bad_request(f"{name} must be at least {minimum}, not {value}")
        return value

    def flag(self, name: str) -> bool:
        raw = (self.query.get(name) or "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise bad_request(f"{name} must be true or false, not {raw!r}")
        return raw in ("true", "1")

    def page(self) -> tuple[int | None, int]:
        """(last_id, page_size) with Digdag's defaults and cap."""
        size = self.integer("page_size", default=DEFAULT_PAGE_SIZE, minimum=1)
        assert size is not None
        return self.integer("last_id", minimum=1), min(size, MAX_PAGE_SIZE)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object ({} when empty)."""
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise bad_request(f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise bad_request("the body must be a JSON object")
        return data


def parse_id(raw: Any, name: str = "id") -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise bad_request(f"{name} must be an integer id, not {raw!r}") from None
    if value < 1:
        raise bad_request(f"{name} must be a positive id, not {value}")
    return value


def parse_time(raw: Any, name: str, *, aware: bool = True) -> datetime:
    """An ISO 8601 time; ``aware`` requires an offset."""
    if not isinstance(raw, str):
        raise bad_request(f"{name} must be an ISO 8601 time string")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name} {raw!r} is not an ISO 8601 time "
                          "(2024-05-01T00:00:00+09:00)") from None
    if aware and when.tzinfo is None:
        raise bad_request(f"{name} {raw!r} needs a UTC offset (2024-05-01T00:00:00+09:00)")
    return when


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiContext:
    """What every handler shares. ``stopping`` says the daemon is draining (503)."""

    store: Store
    clock: Clock
    data_dir: Path
    cipher: SecretCipher
    version: str
    stopping: Callable[[], bool] = lambda: False
    attempt_max_run: int = 100  # settings.attempt_max_run: PUT /api/attempts answers 429 over it
    _workflows: dict[int, Workflow] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def workflow(self, definition: WorkflowDefinition) -> Workflow:
        """The compiled workflow of a stored definition (cached: definitions never change).

        :raises ConfigError: it no longer compiles."""
        from digpy.engine.definitions import from_definition

        with self._lock:
            found = self._workflows.get(definition.id)
        if found is None:
            found = from_definition(definition)
            with self._lock:
                self._workflows[definition.id] = found
        return found
