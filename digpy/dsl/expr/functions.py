"""Callable JS values: built-in (native) functions, bound functions, and ``call``/``apply``/
``bind``, which every function has. User closures live in the compiler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from digpy.dsl.expr.limits import check_array_size
from digpy.dsl.expr.values import (
    UNDEFINED,
    JsFunction,
    Undefined,
    is_array,
    type_error,
)

Impl = Callable[[Any, Any, list[Any]], Any]  # (realm, this, args) -> JS value


class NativeFunction(JsFunction):
    """A built-in. ``props`` are its own properties (``moment.unix``, ``Object.keys``);
    ``construct`` is what ``new F(...)`` does (``None``: not a constructor)."""

    __slots__ = ("construct", "impl", "name", "props")

    def __init__(self, name: str, impl: Impl, props: dict[str, Any] | None = None,
                 construct: Impl | None = None) -> None:
        self.name = name
        self.impl = impl
        self.props = props
        self.construct = construct

    def call(self, realm: Any, this: Any, args: list[Any]) -> Any:
        return self.impl(realm, this, args)

    def get(self, key: str) -> Any:
        if self.props is not None and key in self.props:
            return self.props[key]
        return FUNCTION_PROTO.get(key, UNDEFINED)


class BoundFunction(JsFunction):
    __slots__ = ("args", "target", "this")

    def __init__(self, target: JsFunction, this: Any, args: list[Any]) -> None:
        self.target = target
        self.this = this
        self.args = args

    @property
    def name(self) -> str:  # type: ignore[override]
        return "bound " + self.target.name

    def call(self, realm: Any, this: Any, args: list[Any]) -> Any:
        return self.target.call(realm, self.this, [*self.args, *args])

    def get(self, key: str) -> Any:
        return FUNCTION_PROTO.get(key, UNDEFINED)


def arg(args: list[Any], i: int) -> Any:
    return args[i] if i < len(args) else UNDEFINED


def native(name: str, props: dict[str, Any] | None = None) -> Callable[[Impl], NativeFunction]:
    def wrap(impl: Impl) -> NativeFunction:
        return NativeFunction(name, impl, props)

    return wrap


def call_function(realm: Any, f: Any, this: Any, args: list[Any], what: str = "value") -> Any:
    if not isinstance(f, JsFunction):
        raise type_error(f"{what} is not a function")
    return f.call(realm, this, args)


def _target(this: Any, method: str) -> JsFunction:
    if not isinstance(this, JsFunction):
        raise type_error(f"Function.prototype.{method} called on a non-function")
    return this


def _call(realm: Any, this: Any, args: list[Any]) -> Any:
    return _target(this, "call").call(realm, arg(args, 0), list(args[1:]))


def _apply(realm: Any, this: Any, args: list[Any]) -> Any:
    f = _target(this, "apply")
    spread = arg(args, 1)
    if spread is None or isinstance(spread, Undefined):
        return f.call(realm, arg(args, 0), [])
    if not is_array(spread):
        raise type_error("Function.prototype.apply: argument list has wrong type")
    check_array_size(len(spread))
    return f.call(realm, arg(args, 0), list(spread))


def _bind(realm: Any, this: Any, args: list[Any]) -> Any:
    return BoundFunction(_target(this, "bind"), arg(args, 0), list(args[1:]))


FUNCTION_PROTO: dict[str, Any] = {
    "call": NativeFunction("call", _call),
    "apply": NativeFunction("apply", _apply),
    "bind": NativeFunction("bind", _bind),
}
