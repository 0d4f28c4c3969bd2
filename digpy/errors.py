"""One error hierarchy, sorted by who must act.

- ``ConfigError``: the user's ``.dig``/settings are wrong; carries a location and suggestions.
- ``ExpressionError``: a ``${...}`` failed the way JavaScript would (``js_class``).
- ``TaskFailed``: an expected operator failure; a message, no traceback.
- ``PollAgain``: control flow (run me again later), never logged as an error.
- ``NotFound`` / ``Conflict``: store lookups and uniqueness.
Anything else is a bug and is reported with its traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class DigpyError(Exception):
    """Root of every error digpy raises on purpose."""


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class ConfigError(DigpyError):
    """A mistake in a ``.dig`` file, a params file or settings.

    ``str(err)`` reads ``file:line:col: message (did you mean 'x'?)``.
    """

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        suggestions: Sequence[str] = (),
    ) -> None:
        self.message = message
        self.location = location
        self.suggestions = tuple(suggestions)
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.suggestions:
            quoted = ", ".join(repr(s) for s in self.suggestions)
            text += f" (did you mean {quoted}?)"
        return f"{self.location}: {text}" if self.location else text


class ConfigErrors(DigpyError):
    """Several independent ConfigErrors found in one pass (``digpy check`` lists them all)."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class ExpressionError(DigpyError):
    """A ``${...}`` evaluation failed. ``js_class`` is the JavaScript error class name
    (``ReferenceError``, ``TypeError``, ``SyntaxError``, ``RangeError``) so users can match
    what Digdag would have said."""

    js_class = "Error"

    def __init__(self, message: str, *, js_class: str | None = None, code: str = "") -> None:
        if js_class is not None:
            self.js_class = js_class
        self.message = message
        self.code = code
        super().__init__(self._render())

    def _render(self) -> str:
        if self.code:
            return f"Failed to evaluate a variable {self.code} ({self.js_class}: {self.message})"
        return f"{self.js_class}: {self.message}"


class ExpressionSecurityError(ExpressionError):
    """An expression tried to reach something outside the JavaScript value model."""

    js_class = "SecurityError"


class ExpressionLimitError(ExpressionError):
    """An expression exceeded a time, size or depth budget."""

    js_class = "RangeError"


class TaskFailed(DigpyError):
    """An operator failed in an expected way. ``error`` becomes the ``error`` variable
    seen by ``_error`` tasks (``{"message": ...}`` plus optional extras)."""

    def __init__(self, message: str, *, error: Mapping[str, Any] | None = None) -> None:
        self.message = message
        self.error = dict(error) if error else {"message": message}
        super().__init__(message)


class PollAgain(DigpyError):
    """Run this task again after ``interval`` seconds with ``state`` as its state params.

    Operators raise it instead of sleeping; it never consumes the ``_retry`` budget."""

    def __init__(self, interval: float, state: Mapping[str, Any] | None = None) -> None:
        self.interval = float(interval)
        self.state = dict(state or {})
        super().__init__(f"poll again in {self.interval:g}s")


class StoreError(DigpyError):
    """The state store could not do what was asked."""


class NotFound(StoreError, LookupError):
    pass


class Conflict(StoreError):
    pass
