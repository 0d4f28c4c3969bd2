"""Loaded config trees that remember where each key and value came from.

The loader returns ``ConfigMap``/``ConfigList`` (plain ``dict``/``list`` subclasses, so
JSON, ``==`` and ``copy.deepcopy`` treat them as ordinary containers) carrying ``Mark``s.
Configs that operators generate at run time are plain dicts: every consumer must accept
both and fall back to the nearest known mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from digpy.errors import Location


class Mark(NamedTuple):
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def location(self) -> Location:
        return Location(self.file, self.line, self.col)


class ConfigMap(dict[str, Any]):
    """A mapping from a YAML file. ``mark`` is where the mapping starts; ``key_marks`` and
    ``value_marks`` give each key's and value's position (keys merged in by ``!include``
    keep the position in the included file)."""

    mark: Mark | None
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mark = None
        self.key_marks = {}
        self.value_marks = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> ConfigMap:
        import copy

        out = ConfigMap()
        memo[id(self)] = out
        for k, v in self.items():
            out[k] = copy.deepcopy(v, memo)
        out.mark = self.mark
        out.key_marks = dict(self.key_marks)
        out.value_marks = dict(self.value_marks)
        return out


class ConfigList(list[Any]):
    """A sequence from a YAML file; ``marks[i]`` is the position of item ``i``."""

    mark: Mark | None
    marks: list[Mark]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.mark = None
        self.marks = []


def key_location(config: Mapping[str, Any], key: str) -> Location | None:
    """Where ``key`` is written in ``config``, or where the mapping starts, or None."""
    if isinstance(config, ConfigMap):
        mark = config.key_marks.get(key) or config.mark
        return mark.location() if mark else None
    return None


def value_location(config: Mapping[str, Any], key: str) -> Location | None:
    """Where the value of ``key`` is written, falling back to the key's position."""
    if isinstance(config, ConfigMap):
        mark = config.value_marks.get(key) or config.key_marks.get(key) or config.mark
        return mark.location() if mark else None
    return None


def map_location(config: Any) -> Location | None:
    mark = getattr(config, "mark", None)
    return mark.location() if isinstance(mark, Mark) else None


def plain(value: Any) -> Any:
    """A copy with only ``dict``/``list``/scalars (for storing as JSON or comparing)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
