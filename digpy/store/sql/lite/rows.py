"""Value conversions for the stdlib-sqlite3 store: the same on-disk formats SQLAlchemy's
``JSON`` and ``schema.Millis`` types use, so either backend can open the other's file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dump(value: Any) -> str:
    return _encode(_plain(value))


def dump_or_null(value: Any) -> str | None:
    return None if value is None else dump(value)


def load(text: str | None) -> Any:
    if text is None:
        return None
    # Most JSON columns of a task row hold an empty map or list: skip the decoder for them
    # (a row has nine such columns; reading an attempt's tasks decodes them all).
    if text == "{}":
        return {}
    if text == "[]":
        return []
    return json.loads(text)


def ms(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; pass an aware UTC time")
    return round(value.timestamp() * 1000)


def when(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


def when_required(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def _plain(value: Any) -> Any:
    # json handles dict subclasses and lists; mappings that are not dicts need a copy.
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
