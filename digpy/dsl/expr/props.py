"""Property access: the one door from an expression to a value's members.

Every read goes through ``get_property``, which looks names up in data (dict keys, list
indexes) or in this package's own method tables. Python attributes are never read with a
name the expression chose, so no Python object, attribute or builtin is reachable.

Names that only matter to escape attempts (``__proto__``, ``constructor``, Python's
``format``/``mro``/frame attributes, ...) raise ExpressionSecurityError when the object has
no own data key of that name, instead of quietly reading as ``undefined``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digpy.dsl.expr.arrays import array_property
from digpy.dsl.expr.numbers import BOOLEAN_METHODS, NUMBER_METHODS
from digpy.dsl.expr.objects import OBJECT_METHODS
from digpy.dsl.expr.regexp import MatchList
from digpy.dsl.expr.strings import string_property
from digpy.dsl.expr.values import (
    UNDEFINED,
    JsObject,
    check_data,
    number_to_string,
    security_error,
    to_primitive,
    to_string,
    type_error,
)

DENIED_PROPERTIES = frozenset({
    "prototype", "caller", "callee", "arguments",
    "getPrototypeOf", "setPrototypeOf", "defineProperty", "defineProperties",
    "getOwnPropertyDescriptor", "getOwnPropertyNames", "create",
    "format", "format_map", "mro", "im_func", "im_self", "func_globals", "func_code",
    "gi_frame", "gi_code", "cr_frame", "ag_frame", "tb_frame", "f_globals", "f_locals",
    "f_back", "f_builtins", "co_code", "globals", "builtins", "eval", "load", "loadWithNewGlobal",
    "fn",  # moment.fn is moment's prototype
})

_MISSING = object()


def _miss(obj: Any, key: str) -> Any:
    # Data containers just lack the key (JS says undefined); on strings, numbers and
    # built-ins the name can only be an escape attempt.
    if key == "constructor" or (key in DENIED_PROPERTIES and not _is_data(obj)):
        raise security_error(f"property '{key}' is not accessible from an expression")
    return UNDEFINED


def _is_data(obj: Any) -> bool:
    return isinstance(obj, (Mapping, list, tuple)) and not isinstance(obj, JsObject)


def check_key(key: str) -> None:
    if key[:2] == "__":
        raise security_error(f"property '{key}' is not accessible from an expression")


def get_property(obj: Any, key: str) -> Any:
    """``obj[key]`` for a string key (static member access compiles to this)."""
    check_key(key)
    t = type(obj)
    if t is dict:
        v = obj.get(key, _MISSING)
        if v is not _MISSING:
            return v
        v = UNDEFINED
    elif t is str:
        v = string_property(obj, key)
    elif t is list:
        v = array_property(obj, key)
    elif t is int or t is float:
        v = NUMBER_METHODS.get(key, UNDEFINED)
    elif t is bool:
        v = BOOLEAN_METHODS.get(key, UNDEFINED)
    elif obj is None or obj is UNDEFINED:
        raise type_error(f"Cannot read property '{key}' of {to_string(obj)}")
    else:
        v = _other_property(obj, key)
    if v is UNDEFINED:
        v = OBJECT_METHODS.get(key, UNDEFINED)
    return v if v is not UNDEFINED else _miss(obj, key)


def _other_property(obj: Any, key: str) -> Any:
    if isinstance(obj, JsObject):
        return obj.get(key)
    if isinstance(obj, MatchList) and key in ("index", "input"):
        return obj.match_index if key == "index" else obj.match_input
    if isinstance(obj, (list, tuple)):
        return array_property(obj, key)
    if isinstance(obj, Mapping):
        return obj.get(key, UNDEFINED)
    if isinstance(obj, str):
        return string_property(str(obj), key)
    check_data(obj)
    return UNDEFINED


def property_key(key: Any) -> str:
    t = type(key)
    if t is str:
        return key
    if t is int or t is float:
        return number_to_string(key)
    return to_string(to_primitive(key, "string"))


def get_computed(obj: Any, key: Any) -> Any:
    """``obj[key]`` for any key value (``a[i]``, ``a['x']``)."""
    if type(key) is int and type(obj) is list:
        return obj[key] if 0 <= key < len(obj) else UNDEFINED
    return get_property(obj, property_key(key))
