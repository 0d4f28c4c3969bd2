"""Building new config mappings from loaded ones without losing where each key was written.

A task's config is a fresh mapping (its ``+children`` removed, ``foo>`` normalised), but
run-time errors should still point into the ``.dig`` file, so marks are carried over.
Plain dicts (configs generated at run time) stay plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digpy.dsl.source import ConfigMap


def key_text(key: Any) -> str:
    """A key as Digdag sees it: JSON object keys are always text."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def empty_like(config: Mapping[str, Any]) -> dict[str, Any]:
    """An empty mapping of the same kind (ConfigMap keeps the source mark)."""
    if isinstance(config, ConfigMap):
        out = ConfigMap()
        out.mark = config.mark
        return out
    return {}


def copy_entry(src: Mapping[str, Any], src_key: Any, dst: dict[str, Any], dst_key: str,
               value: Any) -> None:
    """``dst[dst_key] = value``, with the key and value marks of ``src[src_key]``."""
    dst[dst_key] = value
    if isinstance(src, ConfigMap) and isinstance(dst, ConfigMap):
        key_mark = src.key_marks.get(src_key)
        value_mark = src.value_marks.get(src_key)
        if key_mark is not None:
            dst.key_marks[dst_key] = key_mark
        if value_mark is not None:
            dst.value_marks[dst_key] = value_mark


def without(config: Mapping[str, Any], *drop: str) -> dict[str, Any]:
    """A copy of ``config`` without the ``drop`` keys, in the same order."""
    out = empty_like(config)
    for key, value in config.items():
        if key not in drop:
            copy_entry(config, key, out, key_text(key), value)
    return out


def only(config: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A mapping holding just ``key: value`` (marked where ``config`` has ``key``)."""
    out = empty_like(config)
    copy_entry(config, key, out, key, value)
    return out
