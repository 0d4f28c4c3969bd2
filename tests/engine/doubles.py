"""Stand-ins for modules other engineers are still writing (``digpy.dsl.template``,
``digpy.dsl.builtins``). ``install()`` puts them in place only while the real module is
missing, so these tests switch to the real thing as soon as it lands."""

from __future__ import annotations

import importlib
import json
import re
import sys
import types
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digpy.dsl.timezones import parse_timezone
from digpy.errors import ExpressionError

_EXPR = re.compile(r"\$\$|\$\{([^{}]*)\}")
_NAME = re.compile(r"^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*$")


def _lookup(expr: str, scope: Mapping[str, Any]) -> Any:
    literal = expr.strip()
    if len(literal) >= 2 and literal[0] == literal[-1] == "'":
        return literal[1:-1]
    match = _NAME.match(expr)
    if match is None:
        raise ExpressionError("unsupported by the test double", js_class="SyntaxError",
                              code="${" + expr + "}")
    head, *rest = match.group(1).split(".")
    if head not in scope:
        raise ExpressionError(f"{head} is not defined", js_class="ReferenceError",
                              code="${" + expr + "}")
    value = scope[head]
    for part in rest:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))


def render(text: str, params: Mapping[str, Any], *, timezone: str = "UTC",
           now: datetime | None = None) -> str:
    if "$" not in text:
        return text
    out, pos = [], 0
    for match in _EXPR.finditer(text):
        out.append(text[pos:match.start()])
        is_dollar = match.group(0) == "$$"
        out.append("$" if is_dollar else _text(_lookup(match.group(1), params)))
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def _evaluate(value: Any, scope: Mapping[str, Any], raw: bool) -> Any:
    if raw:
        return value
    if isinstance(value, str):
        return render(value, scope) if "$" in value else value
    if isinstance(value, Mapping):
        level: dict[str, Any] = {}
        for key, item in value.items():
            level[key] = _evaluate(item, {**scope, **level}, False)
        return level
    if isinstance(value, list):
        return [_evaluate(v, scope, False) for v in value]
    return value


def evaluate_config(config: Mapping[str, Any], params: Mapping[str, Any], *, timezone: str,
                    now: datetime | None = None,
                    raw_keys: frozenset[str] = frozenset({"_do", "_else_do", "_error", "_check"})
                    ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        out[key] = _evaluate(value, {**params, **out}, key in raw_keys)
    return out


def session_variables(session_time: datetime, timezone: str, *, prefix: str = "session"
                      ) -> dict[str, Any]:
    local = session_time.astimezone(parse_timezone(timezone))
    offset = local.strftime("%z")
    iso = local.strftime("%Y-%m-%dT%H:%M:%S") + offset[:3] + ":" + offset[3:]
    return {
        f"{prefix}_time": iso,
        f"{prefix}_date": local.strftime("%Y-%m-%d"),
        f"{prefix}_date_compact": local.strftime("%Y%m%d"),
        f"{prefix}_local_time": local.strftime("%Y-%m-%d %H:%M:%S"),
        f"{prefix}_tz_offset": offset,
        f"{prefix}_unixtime": int(session_time.timestamp()),
    }


def empty_session_variables(prefix: str, timezone: str) -> dict[str, Any]:
    epoch = datetime.fromtimestamp(0, parse_timezone(timezone))
    return {
        f"{prefix}_time": "",
        f"{prefix}_date": "",
        f"{prefix}_date_compact": "",
        f"{prefix}_local_time": "",
        f"{prefix}_tz_offset": epoch.strftime("%z"),
        f"{prefix}_unixtime": "",
    }


def install() -> None:
    for name, members in (
        ("digpy.dsl.template", {"evaluate_config": evaluate_config, "render": render}),
        ("digpy.dsl.builtins", {"session_variables": session_variables,
                                "empty_session_variables": empty_session_variables}),
    ):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            module = types.ModuleType(name)
            module.__dict__.update(members)
            module.__dict__["TEST_DOUBLE"] = True
            sys.modules[name] = module
