"""JavaScript operators with ES5 semantics: ``+`` (concatenation or addition), arithmetic on
doubles, relational comparison, ``==`` (abstract) and ``===`` (strict) equality, bitwise ops."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from digpy.dsl.expr.limits import check_string_size
from digpy.dsl.expr.values import (
    MAX_SAFE,
    UNDEFINED,
    JsObject,
    is_digits,
    is_object,
    to_float,
    to_int32,
    to_number,
    to_primitive,
    to_string,
    to_uint32,
    type_error,
)

_NUM = (int, float)


def _int_result(r: int, a: int, b: int, op: Any) -> float | int:
    # Ints are exact in Python but doubles in JS: past 2**53 fall back to float math.
    if -MAX_SAFE <= r <= MAX_SAFE:
        return r
    return op(float(a), float(b))


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        check_string_size(len(a) + len(b))
        return a + b
    if ta is int and tb is int:
        return _int_result(a + b, a, b, float.__add__)
    if ta in _NUM and tb in _NUM:
        return float(a) + float(b)
    pa, pb = to_primitive(a), to_primitive(b)
    if type(pa) is str or type(pb) is str:
        sa, sb = to_string(pa), to_string(pb)
        check_string_size(len(sa) + len(sb))
        return sa + sb
    return add_numbers(to_number(pa), to_number(pb))


def add_numbers(a: float | int, b: float | int) -> float | int:
    if type(a) is int and type(b) is int:
        return _int_result(a + b, a, b, float.__add__)
    return to_float(a) + to_float(b)


def sub(a: Any, b: Any) -> Any:
    a, b = to_number(a), to_number(b)
    if type(a) is int and type(b) is int:
        return _int_result(a - b, a, b, float.__sub__)
    return to_float(a) - to_float(b)


def mul(a: Any, b: Any) -> Any:
    a, b = to_number(a), to_number(b)
    if type(a) is int and type(b) is int:
        return _int_result(a * b, a, b, float.__mul__)
    fa, fb = to_float(a), to_float(b)
    return fa * fb


def div(a: Any, b: Any) -> float:
    fa, fb = to_float(a), to_float(b)
    if fb == 0:
        if fa == 0 or fa != fa:
            return math.nan
        negative = (fa < 0) != (math.copysign(1.0, fb) < 0)
        return -math.inf if negative else math.inf
    return fa / fb


def mod(a: Any, b: Any) -> float | int:
    na, nb = to_number(a), to_number(b)
    if type(na) is int and type(nb) is int and nb != 0:
        r = abs(na) % abs(nb)
        return -r if na < 0 and r else (-0.0 if na < 0 else r)
    fa, fb = to_float(na), to_float(nb)
    if fb == 0 or fa != fa or fb != fb or fa in (math.inf, -math.inf):
        return math.nan
    if fb in (math.inf, -math.inf):
        return fa
    return math.fmod(fa, fb)


def negate(a: Any) -> float | int:
    n = to_number(a)
    if type(n) is int:
        return -n if n else -0.0
    return -n


def plus(a: Any) -> float | int:
    return to_number(a)


def compare(a: Any, b: Any, op: str) -> bool:
    """``<``, ``>``, ``<=``, ``>=``: strings compare by code unit, everything else as numbers
    (NaN makes every comparison false)."""
    pa, pb = to_primitive(a, "number"), to_primitive(b, "number")
    if type(pa) is str and type(pb) is str:
        x: Any = pa
        y: Any = pb
    else:
        x, y = to_number(pa), to_number(pb)
        if x != x or y != y:
            return False
    if op == "<":
        return bool(x < y)
    if op == ">":
        return bool(x > y)
    if op == "<=":
        return bool(x <= y)
    return bool(x >= y)


def strict_equals(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta in _NUM and tb in _NUM:
        return bool(a == b)
    if ta is not tb:
        return False
    if ta is str or ta is bool:
        return bool(a == b)
    return a is b


def loose_equals(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is tb or (ta in _NUM and tb in _NUM):
        return strict_equals(a, b)
    if (a is None or a is UNDEFINED) and (b is None or b is UNDEFINED):
        return True
    if a is None or a is UNDEFINED or b is None or b is UNDEFINED:
        return False
    if ta is bool:
        return loose_equals(1 if a else 0, b)
    if tb is bool:
        return loose_equals(a, 1 if b else 0)
    if ta in _NUM and tb is str:
        return bool(a == to_number(b))
    if ta is str and tb in _NUM:
        return bool(to_number(a) == b)
    a_obj, b_obj = is_object(a), is_object(b)
    if a_obj and b_obj:
        return a is b
    if a_obj:
        return loose_equals(to_primitive(a), b)
    if b_obj:
        return loose_equals(a, to_primitive(b))
    return False


def bit_and(a: Any, b: Any) -> int:
    return to_int32(to_int32(a) & to_int32(b))


def bit_or(a: Any, b: Any) -> int:
    return to_int32(to_int32(a) | to_int32(b))


def bit_xor(a: Any, b: Any) -> int:
    return to_int32(to_int32(a) ^ to_int32(b))


def bit_not(a: Any) -> int:
    return to_int32(~to_int32(a))


def shift_left(a: Any, b: Any) -> int:
    return to_int32(to_int32(a) << (to_uint32(b) & 31))


def shift_right(a: Any, b: Any) -> int:
    return to_int32(a) >> (to_uint32(b) & 31)


def shift_right_unsigned(a: Any, b: Any) -> int:
    return to_uint32(a) >> (to_uint32(b) & 31)


def has_property(key: Any, obj: Any) -> bool:
    """``key in obj``."""
    from digpy.dsl.expr.props import get_computed

    if not is_object(obj):
        raise type_error(f"Cannot use 'in' operator to search for '{to_string(key)}' in "
                         f"{to_string(obj)}")
    name = to_string(key)
    if isinstance(obj, Mapping):
        return name in obj
    if isinstance(obj, (list, tuple)):
        return name == "length" or (is_digits(name) and int(name) < len(obj))
    if isinstance(obj, JsObject):
        return get_computed(obj, name) is not UNDEFINED
    return False


BINARY = {
    "+": add, "-": sub, "*": mul, "/": div, "%": mod,
    "&": bit_and, "|": bit_or, "^": bit_xor,
    "<<": shift_left, ">>": shift_right, ">>>": shift_right_unsigned,
    "==": loose_equals, "!=": lambda a, b: not loose_equals(a, b),
    "===": strict_equals, "!==": lambda a, b: not strict_equals(a, b),
    "<": lambda a, b: compare(a, b, "<"), ">": lambda a, b: compare(a, b, ">"),
    "<=": lambda a, b: compare(a, b, "<="), ">=": lambda a, b: compare(a, b, ">="),
    "in": has_property,
}
