"""API errors: every failure is JSON ``{"message": ..., "status": ...}`` with its code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An answer other than 2xx. ``body`` adds fields (a 409 carries the conflicting
    attempt)."""

    def __init__(self, status: int, message: str, body: Mapping[str, Any] | None = None
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = dict(body or {})

    def payload(self) -> dict[str, Any]:
        return {**self.body, "message": self.message, "status": self.status}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)
