"""``Object``, ``Array``, ``String``, ``Boolean`` and ``RegExp`` as globals, Object.prototype
methods (what every object answers), and the URI functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from digpy.dsl.expr.arrays import ARRAY_METHODS
from digpy.dsl.expr.functions import NativeFunction, arg, native
from digpy.dsl.expr.limits import check_array_size, check_string_size
from digpy.dsl.expr.regexp import JsRegExp
from digpy.dsl.expr.strings import STRING_METHODS
from digpy.dsl.expr.values import (
    UNDEFINED,
    ExpressionError,
    JsFunction,
    JsNamespace,
    JsObject,
    is_array,
    is_object,
    range_error,
    to_boolean,
    to_string,
    to_uint32,
    type_error,
)


def class_of(v: Any) -> str:
    """The [[Class]] Object.prototype.toString reports."""
    t = type(v)
    if t is str:
        return "String"
    if t in (int, float):
        return "Number"
    if t is bool:
        return "Boolean"
    if v is None:
        return "Null"
    if v is UNDEFINED:
        return "Undefined"
    if is_array(v):
        return "Array"
    if isinstance(v, JsFunction):
        return "Function"
    if isinstance(v, JsObject) and v.js_class in ("RegExp", "Date", "Math", "JSON"):
        return v.js_class
    return "Object"


def own_keys(v: Any) -> list[str]:
    if isinstance(v, Mapping):
        return [str(k) for k in v]
    if is_array(v):
        return [str(i) for i in range(len(v))]
    if type(v) is str:
        return [str(i) for i in range(len(v))]
    return []


def _has_own(realm: Any, this: Any, args: list[Any]) -> Any:
    key = to_string(arg(args, 0))
    if isinstance(this, Mapping):
        return key in this
    if is_array(this) or type(this) is str:
        return key == "length" or key in own_keys(this)
    return False


OBJECT_METHODS: dict[str, Any] = {
    "toString": NativeFunction("toString", lambda r, t, a: f"[object {class_of(t)}]"),
    "toLocaleString": NativeFunction("toLocaleString", lambda r, t, a: to_string(t)),
    "valueOf": NativeFunction("valueOf", lambda r, t, a: t),
    "hasOwnProperty": NativeFunction("hasOwnProperty", _has_own),
    "propertyIsEnumerable": NativeFunction("propertyIsEnumerable", _has_own),
    "isPrototypeOf": NativeFunction("isPrototypeOf", lambda r, t, a: False),
}


def _keys(realm: Any, this: Any, args: list[Any]) -> Any:
    v = arg(args, 0)
    if not is_object(v):
        raise type_error("Object.keys called on non-object")
    return own_keys(v)


def _object(realm: Any, this: Any, args: list[Any]) -> Any:
    v = arg(args, 0)
    return {} if v is None or v is UNDEFINED else v


OBJECT = NativeFunction("Object", _object, construct=_object, props={
    "keys": NativeFunction("keys", _keys),
    "prototype": JsNamespace("Object", OBJECT_METHODS),
})


def _array(realm: Any, this: Any, args: list[Any]) -> Any:
    if len(args) == 1 and type(args[0]) in (int, float):
        n = args[0]
        if to_uint32(n) != n:
            raise range_error("Invalid array length")
        check_array_size(n)
        return [UNDEFINED] * int(n)
    return list(args)


ARRAY = NativeFunction("Array", _array, construct=_array, props={
    "isArray": NativeFunction("isArray", lambda r, t, a: is_array(arg(a, 0))),
    "prototype": JsNamespace("Array", ARRAY_METHODS),
})


def _from_char_code(realm: Any, this: Any, args: list[Any]) -> Any:
    check_string_size(len(args))
    return "".join(chr(to_uint32(c) & 0xFFFF) for c in args)


STRING = NativeFunction(
    "String", lambda r, t, a: to_string(a[0]) if a else "",
    props={"fromCharCode": NativeFunction("fromCharCode", _from_char_code),
           "prototype": JsNamespace("String", STRING_METHODS)})

BOOLEAN = NativeFunction("Boolean", lambda r, t, a: to_boolean(arg(a, 0)))


def _regexp(realm: Any, this: Any, args: list[Any]) -> Any:
    pattern, flags = arg(args, 0), arg(args, 1)
    if isinstance(pattern, JsRegExp):
        return JsRegExp(pattern.source, pattern.flags if flags is UNDEFINED else to_string(flags))
    source = "(?:)" if pattern is UNDEFINED else to_string(pattern)
    return JsRegExp(source, "" if flags is UNDEFINED else to_string(flags))


REGEXP = NativeFunction("RegExp", _regexp, construct=_regexp)

# ------------------------------------------------------------------------------ URIs

_URI_RESERVED = ";/?:@&=+$,#"
_UNRESERVED = "-_.!~*'()"


def uri_error(message: str) -> ExpressionError:
    return ExpressionError(message, js_class="URIError")


def _encode(s: str, safe: str) -> str:
    try:
        out = quote(s, safe=safe, encoding="utf-8", errors="strict")
    except UnicodeEncodeError:
        raise uri_error("URI malformed") from None
    check_string_size(len(out))
    return out


_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _decode(s: str, keep: str) -> str:
    if re.search(r"%(?![0-9A-Fa-f]{2})", s):
        raise uri_error("URI malformed")

    def run(m: re.Match[str]) -> str:
        raw = bytes.fromhex(m.group(0).replace("%", ""))
        try:
            text = raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise uri_error("URI malformed") from None
        if not keep:
            return text
        escapes = iter(m.group(0)[i:i + 3] for i in range(0, len(m.group(0)), 3))
        return "".join(next(escapes) if c in keep else _consume(escapes, c) for c in text)

    return _ESCAPE_RUN.sub(run, s)


def _consume(escapes: Any, c: str) -> str:
    for _ in range(len(c.encode("utf-8"))):
        next(escapes)
    return c


@native("encodeURIComponent")
def encode_uri_component(realm: Any, this: Any, args: list[Any]) -> Any:
    return _encode(to_string(arg(args, 0)), _UNRESERVED)


@native("encodeURI")
def encode_uri(realm: Any, this: Any, args: list[Any]) -> Any:
    return _encode(to_string(arg(args, 0)), _UNRESERVED + _URI_RESERVED)


@native("decodeURIComponent")
def decode_uri_component(realm: Any, this: Any, args: list[Any]) -> Any:
    return _decode(to_string(arg(args, 0)), "")


@native("decodeURI")
def decode_uri(realm: Any, this: Any, args: list[Any]) -> Any:
    return _decode(to_string(arg(args, 0)), _URI_RESERVED)
