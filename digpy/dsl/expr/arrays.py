"""Array.prototype methods.

Arrays reaching an expression may be the caller's params, so "mutating" methods (``sort``,
``reverse``, ``push``, ``pop``, ``shift``, ``unshift``, ``splice``) work on a copy and return
what JavaScript returns; the original is never changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from digpy.dsl.expr.functions import arg, call_function, native
from digpy.dsl.expr.limits import check_array_size
from digpy.dsl.expr.ops import strict_equals
from digpy.dsl.expr.values import (
    UNDEFINED,
    array_join,
    is_digits,
    to_boolean,
    to_integer,
    to_number,
    to_string,
    type_error,
)

ARRAY_METHODS: dict[str, Any] = {}


def this_array(this: Any, method: str) -> list[Any]:
    if type(this) is list:
        return this
    if isinstance(this, (list, tuple)):
        return list(this)
    raise type_error(f"Array.prototype.{method} called on a non-array")


def method(name: str) -> Callable[[Any], Any]:
    def wrap(impl: Any) -> Any:
        ARRAY_METHODS[name] = native(name)(
            lambda realm, this, args: impl(realm, this_array(this, name), args))
        return impl

    return wrap


def _relative(v: Any, size: int, default: int) -> int:
    if v is UNDEFINED:
        return default
    n = to_integer(v)
    return int(min(max(size + n if n < 0 else n, 0), size))


def _each(realm: Any, items: list[Any], args: list[Any]) -> Any:
    fn, this = arg(args, 0), arg(args, 1)
    for i, v in enumerate(items):
        yield v, call_function(realm, fn, this, [v, i, items], "callback")


@method("join")
def _join(realm: Any, a: list[Any], args: list[Any]) -> Any:
    sep = arg(args, 0)
    return array_join(a, "," if sep is UNDEFINED else to_string(sep))


@method("toString")
def _to_string(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return array_join(a, ",")


@method("concat")
def _concat(realm: Any, a: list[Any], args: list[Any]) -> Any:
    out = list(a)
    for item in args:
        if isinstance(item, (list, tuple)):
            check_array_size(len(out) + len(item))
            out.extend(item)
        else:
            out.append(item)
    check_array_size(len(out))
    return out


@method("slice")
def _slice(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return a[_relative(arg(args, 0), len(a), 0):_relative(arg(args, 1), len(a), len(a))]


@method("indexOf")
def _index_of(realm: Any, a: list[Any], args: list[Any]) -> Any:
    target = arg(args, 0)
    for i in range(_relative(arg(args, 1), len(a), 0), len(a)):
        if strict_equals(a[i], target):
            return i
    return -1


@method("lastIndexOf")
def _last_index_of(realm: Any, a: list[Any], args: list[Any]) -> Any:
    target = arg(args, 0)
    start = len(a) - 1 if len(args) < 2 else _relative(args[1], len(a), len(a) - 1)
    for i in range(min(start, len(a) - 1), -1, -1):
        if strict_equals(a[i], target):
            return i
    return -1


def _same_value_zero(x: Any, y: Any) -> bool:
    nan = isinstance(x, float) and isinstance(y, float) and x != x and y != y
    return nan or strict_equals(x, y)


@method("includes")
def _includes(realm: Any, a: list[Any], args: list[Any]) -> Any:
    target = arg(args, 0)
    return any(_same_value_zero(v, target) for v in a[_relative(arg(args, 1), len(a), 0):])


@method("map")
def _map(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return [r for _, r in _each(realm, a, args)]


@method("filter")
def _filter(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return [v for v, r in _each(realm, a, args) if to_boolean(r)]


@method("forEach")
def _for_each(realm: Any, a: list[Any], args: list[Any]) -> Any:
    for _ in _each(realm, a, args):
        pass
    return UNDEFINED


@method("some")
def _some(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return any(to_boolean(r) for _, r in _each(realm, a, args))


@method("every")
def _every(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return all(to_boolean(r) for _, r in _each(realm, a, args))


@method("find")
def _find(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return next((v for v, r in _each(realm, a, args) if to_boolean(r)), UNDEFINED)


@method("findIndex")
def _find_index(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return next((i for i, (_, r) in enumerate(_each(realm, a, args)) if to_boolean(r)), -1)


def _reduce(realm: Any, items: list[Any], args: list[Any], indexes: range) -> Any:
    fn = arg(args, 0)
    order = list(indexes)
    if len(args) >= 2:
        acc = args[1]
    elif order:
        acc = items[order.pop(0)]
    else:
        raise type_error("Reduce of empty array with no initial value")
    for i in order:
        acc = call_function(realm, fn, UNDEFINED, [acc, items[i], i, items], "callback")
    return acc


@method("reduce")
def _reduce_left(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return _reduce(realm, a, args, range(len(a)))


@method("reduceRight")
def _reduce_right(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return _reduce(realm, a, args, range(len(a) - 1, -1, -1))


def _default_order(x: Any, y: Any) -> int:
    sx, sy = to_string(x), to_string(y)
    return (sx > sy) - (sx < sy)


@method("sort")
def _sort(realm: Any, a: list[Any], args: list[Any]) -> Any:
    fn = arg(args, 0)
    present = [v for v in a if v is not UNDEFINED]
    if fn is UNDEFINED:
        order: Callable[[Any, Any], int] = _default_order
    else:
        def order(x: Any, y: Any) -> int:
            n = to_number(call_function(realm, fn, UNDEFINED, [x, y], "comparator"))
            return 0 if n != n else (n > 0) - (n < 0)
    present.sort(key=functools.cmp_to_key(order))
    return present + [UNDEFINED] * (len(a) - len(present))


@method("reverse")
def _reverse(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return a[::-1]


@method("push")
def _push(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return len(a) + len(args)


@method("unshift")
def _unshift(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return len(a) + len(args)


@method("pop")
def _pop(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return a[-1] if a else UNDEFINED


@method("shift")
def _shift(realm: Any, a: list[Any], args: list[Any]) -> Any:
    return a[0] if a else UNDEFINED


@method("splice")
def _splice(realm: Any, a: list[Any], args: list[Any]) -> Any:
    start = _relative(arg(args, 0), len(a), 0)
    if not args:
        return []
    count = len(a) - start if len(args) < 2 else to_integer(args[1])
    taken = int(min(max(count, 0), len(a) - start))
    return a[start:start + taken]


def array_property(a: list[Any] | tuple[Any, ...], key: str) -> Any:
    if key == "length":
        return len(a)
    if is_digits(key) and (key == "0" or key[0] != "0"):
        i = int(key)
        return a[i] if i < len(a) else UNDEFINED
    return ARRAY_METHODS.get(key, UNDEFINED)
