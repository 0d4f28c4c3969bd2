"""``${...}`` in config values, with Digdag's template rules (spec §2.4, digdag.js).

- ``${`` not followed by ``word:`` opens an expression closed by the matching ``}`` (braces
  are counted, so ``${v.map(function(x){return x})}`` works); ``${secret:...}`` and other
  ``${word:...}`` are left for operators, with inner ``${...}`` still evaluated;
- an unclosed ``${`` is kept literally; in literal text ``$$`` becomes ``$``;
- a result that is null/undefined renders as ``""``, a string as-is, anything else as
  ``JSON.stringify`` would write it.

Expressions are compiled once per distinct text and cached.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from digpy.dsl.expr import CompiledExpression, compile_expression, to_python
from digpy.dsl.expr.jsjson import stringify
from digpy.dsl.expr.limits import MAX_STRING, MAX_TEMPLATE_CHARS, Realm
from digpy.dsl.expr.values import UNDEFINED
from digpy.dsl.timezones import parse_timezone
from digpy.errors import ExpressionError, ExpressionLimitError

RAW_KEYS = frozenset({"_do", "_else_do", "_error", "_check"})
_OPEN = re.compile(r"\$\{(?![a-z]+:)")


class _Expr:
    __slots__ = ("code", "compiled")

    def __init__(self, script: str) -> None:
        self.code = "${" + script + "}"
        self.compiled: CompiledExpression = _compile(script, self.code)


def _compile(script: str, code: str) -> CompiledExpression:
    try:
        return compile_expression(script)
    except ExpressionError as exc:
        raise _with_code(exc, code) from None
    except RecursionError:
        raise ExpressionLimitError("expression nested too deeply", code=code) from None


def _with_code(exc: ExpressionError, code: str) -> ExpressionError:
    if exc.code:
        return exc
    return type(exc)(exc.message, js_class=exc.js_class, code=code)


def _close(template: str, start: int) -> int:
    """Index of the ``}`` closing the expression whose body starts at ``start``, or -1."""
    depth = 0
    for i in range(start, len(template)):
        c = template[i]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
    return -1


@lru_cache(maxsize=4096)
def _scan(template: str) -> tuple[str | _Expr, ...]:
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ExpressionLimitError(f"template longer than {MAX_TEMPLATE_CHARS} characters",
                                   code=template[:40] + "...")
    parts: list[str | _Expr] = []
    pos = 0
    while pos < len(template):
        m = _OPEN.search(template, pos)
        if m is None:
            parts.append(template[pos:].replace("$$", "$"))
            break
        parts.append(template[pos:m.start()].replace("$$", "$"))
        end = _close(template, m.end())
        if end < 0:
            parts.append(template[m.start():].replace("$$", "$"))
            break
        if end > m.end():
            parts.append(_Expr(template[m.end():end]))
        pos = end + 1
    return tuple(p for p in parts if p != "")


@lru_cache(maxsize=256)
def _zone(timezone: str) -> tzinfo:
    return parse_timezone(timezone)


def has_template(text: str) -> bool:
    """Whether Digdag would send ``text`` through the template engine at all."""
    return "$" in text


def _as_text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None or value is UNDEFINED:
        return ""
    text = stringify(value)
    return "undefined" if text is UNDEFINED else text


def _render(template: str, params: Mapping[str, Any], realm: Realm) -> str:
    out: list[str] = []
    size = 0
    for part in _scan(template):
        if type(part) is str:
            text = part
        else:
            try:
                text = _as_text(part.compiled(params, realm))  # type: ignore[union-attr]
            except ExpressionError as exc:
                raise _with_code(exc, part.code) from None  # type: ignore[union-attr]
            except (RecursionError, MemoryError):
                raise ExpressionLimitError("expression exhausted the stack or memory",
                                           code=part.code) from None  # type: ignore[union-attr]
        size += len(text)
        if size > MAX_STRING:
            raise ExpressionLimitError(f"rendered text exceeds {MAX_STRING} characters",
                                       code=template[:40])
        out.append(text)
    return "".join(out)


def render(template: str, params: Mapping[str, Any], *, timezone: str = "UTC",
           now: datetime | None = None) -> str:
    """Render one string. Raises ExpressionError (with ``js_class`` and ``code``)."""
    if "$" not in template:
        return template
    return _render(template, params, Realm(_zone(timezone), timezone, now))


def evaluate_expression(code: str, params: Mapping[str, Any], *, timezone: str = "UTC",
                        now: datetime | None = None) -> Any:
    """Evaluate one expression (the text inside ``${}``) and return it as plain data."""
    realm = Realm(_zone(timezone), timezone, now)
    label = "${" + code + "}"
    compiled = _compile(code, label)
    try:
        return to_python(compiled(params, realm))
    except ExpressionError as exc:
        raise _with_code(exc, label) from None
    except (RecursionError, MemoryError):
        raise ExpressionLimitError("expression exhausted the stack or memory",
                                   code=label) from None


class _Evaluator:
    """One evaluate_config pass: the same zone and 'now' for every string."""

    def __init__(self, params: Mapping[str, Any], timezone: str, now: datetime | None,
                 raw_keys: frozenset[str]) -> None:
        self.params = params
        self.tz = _zone(timezone)
        self.timezone = timezone
        self.now = now
        self.raw_keys = raw_keys

    def text(self, value: str, level: dict[str, Any]) -> str:
        if "$" not in value:
            return value
        scope = ChainMap(level, self.params)  # type: ignore[arg-type]
        return _render(value, scope, Realm(self.tz, self.timezone, self.now))

    def mapping(self, config: Mapping[str, Any]) -> dict[str, Any]:
        built: dict[str, Any] = {}
        for key, value in config.items():
            built[key] = value if key in self.raw_keys else self.value(value, built)
        return built

    def value(self, value: Any, level: dict[str, Any]) -> Any:
        if isinstance(value, str):
            return self.text(value, level)
        if isinstance(value, Mapping):
            return self.mapping(value)
        if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
            return [self.value(item, level) for item in value]
        return value


def evaluate_config(config: Mapping[str, Any], params: Mapping[str, Any], *,
                    timezone: str = "UTC", now: datetime | None = None,
                    raw_keys: frozenset[str] = RAW_KEYS) -> dict[str, Any]:
    """Evaluate every string containing ``$`` in ``config`` in one pass, in key order.

    A top-level string sees ``params`` overlaid with the already-evaluated keys before it;
    a string in a nested map sees ``params`` plus that map's earlier keys; strings in a list
    see the level that holds the list. Produced values are never evaluated again; values
    under ``raw_keys`` (at any level) are returned untouched."""
    return _Evaluator(params, timezone, now, raw_keys).mapping(config)
