"""The route table: each noun module lists its ``Endpoint``s; the app and the OpenAPI
document are both built from them, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from digpy.api.request import ApiContext, ApiRequest


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A response other than a 200 JSON object: another status, bytes or text."""

    status: int = 200
    json: Any = None
    content: bytes | None = None
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[ApiContext, ApiRequest], "dict[str, Any] | Reply"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    returns: str = "object"  # the shape's name in docs/api.md / OpenAPI
    query: tuple[str, ...] = ()  # query parameters, for the OpenAPI document
    body: str | None = None  # request body: "json" or "gzip"
