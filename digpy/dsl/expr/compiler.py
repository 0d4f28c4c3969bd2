"""Compile an expression tree once into nested Python closures over the JS value model.

Each closure takes an ``Env`` (the params mapping that plays ``with(params)``, the Realm, and
the frame of function-literal arguments) and returns a JS value. Name resolution is static:
a name is a function argument when an enclosing function literal declares it, otherwise it
is looked up in params, then in the fixed global table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from digpy.dsl.expr import nodes as n
from digpy.dsl.expr import ops
from digpy.dsl.expr.functions import FUNCTION_PROTO, JsFunction, NativeFunction
from digpy.dsl.expr.jsglobals import DENIED_GLOBALS, GLOBALS
from digpy.dsl.expr.props import check_key, get_computed, get_property
from digpy.dsl.expr.regexp import JsRegExp
from digpy.dsl.expr.values import (
    UNDEFINED,
    reference_error,
    security_error,
    to_boolean,
    type_error,
    typeof,
)

Code = Callable[["Env"], Any]
Scopes = tuple[frozenset[str], ...]
_MISSING = object()


class Frame:
    __slots__ = ("parent", "vars")

    def __init__(self, variables: dict[str, Any], parent: Frame | None) -> None:
        self.vars = variables
        self.parent = parent


class Env:
    __slots__ = ("frame", "params", "realm")

    def __init__(self, params: Mapping[str, Any], realm: Any, frame: Frame | None = None) -> None:
        self.params = params
        self.realm = realm
        self.frame = frame


class JsClosure(JsFunction):
    """A function literal: ``function (x) { return x * 2 }``."""

    __slots__ = ("body", "env", "name", "params")

    def __init__(self, name: str | None, params: tuple[str, ...], body: Code | None,
                 env: Env) -> None:
        self.name = name or "anonymous"
        self.params = params
        self.body = body
        self.env = env

    def call(self, realm: Any, this: Any, args: list[Any]) -> Any:
        realm.enter()
        try:
            variables: dict[str, Any] = {self.name: self}
            for i, param in enumerate(self.params):
                variables[param] = args[i] if i < len(args) else UNDEFINED
            if self.body is None:
                return UNDEFINED
            return self.body(Env(self.env.params, realm, Frame(variables, self.env.frame)))
        finally:
            realm.leave()

    def get(self, key: str) -> Any:
        return FUNCTION_PROTO.get(key, UNDEFINED)

    def to_str(self) -> str:
        return f"function {self.name}({', '.join(self.params)}) {{ ... }}"


def compile_node(node: n.Node, scopes: Scopes = ()) -> Code:
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise TypeError(f"no compiler for {type(node).__name__}")
    return handler(node, scopes)


# ---------------------------------------------------------------- names


def _local(name: str, up: int) -> Code:
    if up == 0:
        return lambda env: env.frame.vars[name]  # type: ignore[union-attr]

    def run(env: Env) -> Any:
        frame = env.frame
        for _ in range(up):
            frame = frame.parent  # type: ignore[union-attr]
        return frame.vars[name]  # type: ignore[union-attr]

    return run


def _global(name: str) -> Code:
    fallback = GLOBALS.get(name, _MISSING)
    denied = name in DENIED_GLOBALS

    def run(env: Env) -> Any:
        v = env.params.get(name, _MISSING)
        if v is not _MISSING:
            return v
        if fallback is not _MISSING:
            return fallback
        if denied:
            raise security_error(f"'{name}' is not available in expressions")
        raise reference_error(f"{name} is not defined")

    return run


def _name(node: n.Name, scopes: Scopes) -> Code:
    if node.name.startswith("__"):
        raise security_error(f"'{node.name}' is not accessible from an expression")
    for up, scope in enumerate(reversed(scopes)):
        if node.name in scope:
            return _local(node.name, up)
    return _global(node.name)


# ---------------------------------------------------------------- literals


def _const(node: n.Const, scopes: Scopes) -> Code:
    value = node.value
    return lambda env: value


def _regex(node: n.Regex, scopes: Scopes) -> Code:
    source, flags = node.source, node.flags
    return lambda env: JsRegExp(source, flags)  # a fresh object per evaluation, as in ES5


def _array(node: n.ArrayLit, scopes: Scopes) -> Code:
    items = [None if item is None else compile_node(item, scopes) for item in node.items]
    return lambda env: [UNDEFINED if f is None else f(env) for f in items]


def _object(node: n.ObjectLit, scopes: Scopes) -> Code:
    props = [(key, compile_node(value, scopes)) for key, value in node.props]
    return lambda env: {key: f(env) for key, f in props}


def _function(node: n.Func, scopes: Scopes) -> Code:
    inner = (*scopes, frozenset({*node.params, *([node.name] if node.name else [])}))
    body = None if node.body is None else compile_node(node.body, inner)
    name, params = node.name, node.params
    return lambda env: JsClosure(name, params, body, env)


# ---------------------------------------------------------------- access & calls


def _member(node: n.Member, scopes: Scopes) -> Code:
    obj = compile_node(node.obj, scopes)
    if not node.computed:
        key = node.key.value  # type: ignore[attr-defined]
        check_key(key)

        def static(env: Env) -> Any:
            o = obj(env)
            if type(o) is dict:
                v = o.get(key, _MISSING)
                if v is not _MISSING:
                    return v
            return get_property(o, key)

        return static
    key_code = compile_node(node.key, scopes)
    return lambda env: get_computed(obj(env), key_code(env))


def _callee(node: n.Node, scopes: Scopes) -> Callable[[Env], tuple[Any, Any]]:
    """(function, this) for a call: a member call passes its object as ``this``."""
    if isinstance(node, n.Member):
        obj = compile_node(node.obj, scopes)
        if not node.computed:
            key = node.key.value  # type: ignore[attr-defined]
            check_key(key)

            def method(env: Env) -> tuple[Any, Any]:
                o = obj(env)
                return get_property(o, key), o

            return method
        key_code = compile_node(node.key, scopes)
        return lambda env: (lambda o: (get_computed(o, key_code(env)), o))(obj(env))
    f = compile_node(node, scopes)
    return lambda env: (f(env), UNDEFINED)


def _call(node: n.Call, scopes: Scopes) -> Code:
    callee = _callee(node.callee, scopes)
    args = [compile_node(a, scopes) for a in node.args]
    what = n.describe(node.callee)

    def run(env: Env) -> Any:
        f, this = callee(env)
        values = [a(env) for a in args]
        if not isinstance(f, JsFunction):
            raise type_error(f"{what} is not a function")
        return f.call(env.realm, this, values)

    return run


def _new(node: n.New, scopes: Scopes) -> Code:
    callee = compile_node(node.callee, scopes)
    args = [compile_node(a, scopes) for a in node.args]
    what = n.describe(node.callee)

    def run(env: Env) -> Any:
        f = callee(env)
        values = [a(env) for a in args]
        if not isinstance(f, NativeFunction) or f.construct is None:
            raise type_error(f"{what} is not a constructor")
        return f.construct(env.realm, UNDEFINED, values)

    return run


# ---------------------------------------------------------------- operators


def _typeof(node: n.Unary, scopes: Scopes) -> Code:
    operand = node.operand
    if isinstance(operand, n.Name) and not any(operand.name in s for s in scopes):
        name = operand.name
        fallback = GLOBALS.get(name, UNDEFINED)
        return lambda env: typeof(env.params.get(name, fallback))
    f = compile_node(operand, scopes)
    return lambda env: typeof(f(env))


def _unary(node: n.Unary, scopes: Scopes) -> Code:
    if node.op == "typeof":
        return _typeof(node, scopes)
    f = compile_node(node.operand, scopes)
    if node.op == "!":
        return lambda env: not to_boolean(f(env))
    if node.op == "void":
        return lambda env: (f(env), UNDEFINED)[1]
    op = {"-": ops.negate, "+": ops.plus, "~": ops.bit_not}[node.op]
    return lambda env: op(f(env))


def _binary(node: n.Binary, scopes: Scopes) -> Code:
    left, right = compile_node(node.left, scopes), compile_node(node.right, scopes)
    if node.op == "instanceof":
        return lambda env: instance_of(left(env), right(env))
    op = ops.BINARY[node.op]
    if node.op == "+":
        add = ops.add
        return lambda env: add(left(env), right(env))
    return lambda env: op(left(env), right(env))


def instance_of(value: Any, ctor: Any) -> bool:
    from digpy.dsl.expr.instance import instance_of as check

    if not isinstance(ctor, JsFunction):
        raise type_error("Right-hand side of 'instanceof' is not callable")
    return check(value, ctor)


def _logical(node: n.Logical, scopes: Scopes) -> Code:
    left, right = compile_node(node.left, scopes), compile_node(node.right, scopes)
    if node.op == "&&":
        return lambda env: right(env) if to_boolean(v := left(env)) else v
    return lambda env: v if to_boolean(v := left(env)) else right(env)


def _cond(node: n.Cond, scopes: Scopes) -> Code:
    test = compile_node(node.test, scopes)
    then, other = compile_node(node.then, scopes), compile_node(node.other, scopes)
    return lambda env: then(env) if to_boolean(test(env)) else other(env)


def _seq(node: n.Seq, scopes: Scopes) -> Code:
    items = [compile_node(item, scopes) for item in node.items]

    def run(env: Env) -> Any:
        value = UNDEFINED
        for f in items:
            value = f(env)
        return value

    return run


_HANDLERS: dict[type, Callable[[Any, Scopes], Code]] = {
    n.Const: _const, n.Regex: _regex, n.Name: _name, n.ArrayLit: _array,
    n.ObjectLit: _object, n.Func: _function, n.Member: _member, n.Call: _call, n.New: _new,
    n.Unary: _unary, n.Binary: _binary, n.Logical: _logical, n.Cond: _cond, n.Seq: _seq,
}
