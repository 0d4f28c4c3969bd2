"""``JSON.stringify`` and ``JSON.parse`` with JavaScript's output: compact separators, key
order kept, JS number formatting, ``undefined``/functions dropped (``null`` inside arrays)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from digpy.dsl.expr.functions import arg, native
from digpy.dsl.expr.limits import MAX_DEPTH, MAX_STRING, check_string_size
from digpy.dsl.expr.values import (
    UNDEFINED,
    JsNamespace,
    JsObject,
    check_data,
    limit_error,
    number_to_string,
    syntax_error,
    to_integer,
    to_string,
    type_error,
)

_quote = json.encoder.encode_basestring  # ensure_ascii=False flavour, as JS escapes


class _Writer:
    """Serialises one value, counting output characters so a huge result fails early."""

    def __init__(self, gap: str, keys: list[str] | None) -> None:
        self.gap = gap
        self.keys = keys
        self.size = 0
        self.stack: list[int] = []

    def count(self, text: str) -> str:
        self.size += len(text)
        if self.size > MAX_STRING:
            raise limit_error(f"JSON text exceeds the limit of {MAX_STRING} characters")
        return text

    def write(self, v: Any, indent: str) -> Any:
        t = type(v)
        if t is str:
            return self.count(_quote(v))
        if t is bool:
            return "true" if v else "false"
        if t is int or t is float:
            finite = t is int or not (math.isnan(v) or math.isinf(v))
            return self.count(number_to_string(v)) if finite else "null"
        if v is None:
            return "null"
        if v is UNDEFINED:
            return UNDEFINED
        if isinstance(v, JsObject):
            return self.write(v.to_json(), indent) if not isinstance(v, JsNamespace) else "{}"
        if isinstance(v, (list, tuple)):
            return self._container(v, indent, self._array)
        if isinstance(v, Mapping):
            return self._container(v, indent, self._object)
        check_data(v)
        return self.write(to_string(v), indent)

    def _container(self, v: Any, indent: str, body: Any) -> str:
        if id(v) in self.stack:
            raise type_error("Converting circular structure to JSON")
        if len(self.stack) >= MAX_DEPTH:
            raise limit_error("JSON.stringify: value nested too deeply")
        self.stack.append(id(v))
        try:
            return body(v, indent)
        finally:
            self.stack.pop()

    def _wrap(self, parts: list[str], indent: str, inner: str, brackets: str) -> str:
        if not parts:
            return brackets
        if not self.gap:
            return brackets[0] + ",".join(parts) + brackets[1]
        sep = ",\n" + inner
        return f"{brackets[0]}\n{inner}{sep.join(parts)}\n{indent}{brackets[1]}"

    def _array(self, items: Any, indent: str) -> str:
        inner = indent + self.gap
        parts = []
        for item in items:
            text = self.write(item, inner)
            self.count(",")
            parts.append("null" if text is UNDEFINED else text)
        return self._wrap(parts, indent, inner, "[]")

    def _object(self, obj: Mapping[Any, Any], indent: str) -> str:
        inner = indent + self.gap
        colon = ": " if self.gap else ":"
        parts = []
        for key in (self.keys if self.keys is not None else obj.keys()):
            if key not in obj:
                continue
            text = self.write(obj[key], inner)
            if text is not UNDEFINED:
                parts.append(self.count(_quote(str(key))) + colon + text)
        return self._wrap(parts, indent, inner, "{}")


def _gap(space: Any) -> str:
    if type(space) in (int, float):
        return " " * int(min(10, max(0, to_integer(space))))
    if type(space) is str:
        return space[:10]
    return ""


def stringify(value: Any, replacer: Any = None, space: Any = UNDEFINED) -> Any:
    """JSON text for ``value``, or UNDEFINED when JSON.stringify would return undefined."""
    keys = None
    if isinstance(replacer, (list, tuple)):
        keys = [to_string(k) for k in replacer if type(k) in (str, int, float)]
    elif replacer is not None and replacer is not UNDEFINED:
        raise type_error("JSON.stringify: replacer functions are not supported")
    return _Writer(_gap(space), keys).write(value, "")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]} in JSON")


def parse(text: str) -> Any:
    check_string_size(len(text))
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise syntax_error(f"Unexpected token in JSON at position {exc.pos}") from None
    except ValueError as exc:
        raise syntax_error(str(exc)) from None
    except RecursionError:
        raise limit_error("JSON.parse: value nested too deeply") from None


@native("stringify")
def _stringify(realm: Any, this: Any, args: list[Any]) -> Any:
    return stringify(arg(args, 0), arg(args, 1), arg(args, 2))


@native("parse")
def _parse(realm: Any, this: Any, args: list[Any]) -> Any:
    reviver = arg(args, 1)
    if reviver is not UNDEFINED:
        raise type_error("JSON.parse: reviver functions are not supported")
    return parse(to_string(arg(args, 0)))


JSON_NAMESPACE = JsNamespace("JSON", {"stringify": _stringify, "parse": _parse})
