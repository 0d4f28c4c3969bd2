"""Shared helpers of the td> tests (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digpy.spi import OperatorContext
from digpy.spi.testing import make_context

SESSION = datetime(2016, 1, 30, tzinfo=UTC)  # session_unixtime 1454112000


def context(project: Path, config: Mapping[str, Any], *, operator: str = "td",
            secrets: Mapping[str, str] | None = None, last_state: Mapping[str, Any] | None = None,
            session_time: datetime = SESSION, workdir: str = "") -> OperatorContext:
    return make_context(project, operator=operator, config=dict(config), secrets=secrets or {},
                        last_state=last_state or {}, session_time=session_time, workdir=workdir)
