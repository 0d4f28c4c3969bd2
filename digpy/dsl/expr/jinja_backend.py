"""The measured alternative: the same expression tree compiled to a Jinja2 expression run by
``ImmutableSandboxedEnvironment``, every JS operation a call to an allow-listed helper.

digpy renders with the closure compiler (compiler.py); this backend exists so the choice
stays measurable (bench/bench_expressions.py) and checked (tests/dsl/test_expr_jinja.py).
docs/expressions.md has the numbers and the reasoning.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from digpy.dsl.expr import nodes as n
from digpy.dsl.expr import ops
from digpy.dsl.expr.compiler import Env, Frame, JsClosure, instance_of
from digpy.dsl.expr.functions import NativeFunction
from digpy.dsl.expr.jsglobals import DENIED_GLOBALS, GLOBALS
from digpy.dsl.expr.parser import parse
from digpy.dsl.expr.props import check_key, get_computed, get_property
from digpy.dsl.expr.regexp import JsRegExp
from digpy.dsl.expr.values import (
    UNDEFINED,
    JsFunction,
    reference_error,
    security_error,
    to_boolean,
    type_error,
    typeof,
)

_MISSING = object()


class _Box:
    """Carries a JS value through Jinja's ``and``/``or`` with JS truthiness."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return to_boolean(self.value)


def _name(c: Env, name: str) -> Any:
    v = c.params.get(name, _MISSING)
    if v is not _MISSING:
        return v
    v = GLOBALS.get(name, _MISSING)
    if v is not _MISSING:
        return v
    if name in DENIED_GLOBALS:
        raise security_error(f"'{name}' is not available in expressions")
    raise reference_error(f"{name} is not defined")


def _local(c: Env, name: str, up: int) -> Any:
    frame = c.frame
    for _ in range(up):
        frame = frame.parent  # type: ignore[union-attr]
    return frame.vars[name]  # type: ignore[union-attr]


def _call(c: Env, f: Any, this: Any, args: list[Any], what: str) -> Any:
    if not isinstance(f, JsFunction):
        raise type_error(f"{what} is not a function")
    return f.call(c.realm, this, args)


def _call_method(c: Env, obj: Any, key: Any, computed: bool, args: list[Any], what: str) -> Any:
    f = get_computed(obj, key) if computed else get_property(obj, key)
    return _call(c, f, obj, args, what)


def _new(c: Env, f: Any, args: list[Any], what: str) -> Any:
    if not isinstance(f, NativeFunction) or f.construct is None:
        raise type_error(f"{what} is not a constructor")
    return f.construct(c.realm, UNDEFINED, args)


class _JinjaFunction(JsClosure):
    def __init__(self, name: str | None, params: tuple[str, ...], body: Any, env: Env) -> None:
        super().__init__(name, params, None, env)
        self.jinja_body = body

    def call(self, realm: Any, this: Any, args: list[Any]) -> Any:
        realm.enter()
        try:
            variables: dict[str, Any] = {self.name: self}
            for i, param in enumerate(self.params):
                variables[param] = args[i] if i < len(args) else UNDEFINED
            if self.jinja_body is None:
                return UNDEFINED
            return self.jinja_body(C=Env(self.env.params, realm, Frame(variables,
                                                                     self.env.frame)))
        finally:
            realm.leave()


HELPERS: dict[str, Any] = {
    "U": UNDEFINED,
    "js_name": _name, "js_local": _local, "js_get": get_property, "js_getc": get_computed,
    "js_call": _call, "js_callm": _call_method, "js_new": _new,
    "js_box": _Box, "js_unbox": lambda box: box.value, "js_truthy": to_boolean,
    "js_not": lambda v: not to_boolean(v), "js_void": lambda v: UNDEFINED,
    "js_typeof": typeof,
    "js_typeof_name": lambda c, name: typeof(c.params.get(name, GLOBALS.get(name, UNDEFINED))),
    "js_unary": lambda op, v: {"-": ops.negate, "+": ops.plus, "~": ops.bit_not}[op](v),
    "js_add": ops.add, "js_op": lambda op, a, b: ops.BINARY[op](a, b),
    "js_instanceof": instance_of, "js_seq": lambda items: items[-1],
    "js_regex": JsRegExp, "js_func": lambda c, name, params, body: _JinjaFunction(
        name, tuple(params), body, c),
}


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment()
    env.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict
    env.globals.update(HELPERS)
    env.filters.clear()
    env.tests.clear()
    return env


ENVIRONMENT = _environment()


def _lit(value: Any) -> str:
    if value is None:
        return "none"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is str:
        return "'" + "".join(f"\\U{ord(ch):08x}" for ch in value) + "'"
    if type(value) is int or (type(value) is float and value == value and abs(value) != 1e999):
        return repr(value)
    raise TypeError(f"no Jinja literal for {value!r}")


class _Writer:
    def __init__(self) -> None:
        self.scopes: list[frozenset[str]] = []

    def args(self, items: tuple[n.Node, ...]) -> str:
        return "[" + ", ".join(self.expr(a) for a in items) + "]"

    def expr(self, node: n.Node) -> str:
        method = getattr(self, "w_" + type(node).__name__)
        return str(method(node))

    def w_Const(self, node: n.Const) -> str:
        return _lit(node.value)

    def w_Regex(self, node: n.Regex) -> str:
        return f"js_regex({_lit(node.source)}, {_lit(node.flags)})"

    def w_Name(self, node: n.Name) -> str:
        if node.name.startswith("__"):
            raise security_error(f"'{node.name}' is not accessible from an expression")
        for up, scope in enumerate(reversed(self.scopes)):
            if node.name in scope:
                return f"js_local(C, {_lit(node.name)}, {up})"
        return f"js_name(C, {_lit(node.name)})"

    def w_ArrayLit(self, node: n.ArrayLit) -> str:
        return "[" + ", ".join("U" if i is None else self.expr(i) for i in node.items) + "]"

    def w_ObjectLit(self, node: n.ObjectLit) -> str:
        return "{" + ", ".join(f"{_lit(k)}: {self.expr(v)}" for k, v in node.props) + "}"

    def w_Member(self, node: n.Member) -> str:
        if not node.computed:
            check_key(node.key.value)  # type: ignore[attr-defined]
            return f"js_get({self.expr(node.obj)}, {self.expr(node.key)})"
        return f"js_getc({self.expr(node.obj)}, {self.expr(node.key)})"

    def w_Call(self, node: n.Call) -> str:
        what, args = _lit(n.describe(node.callee)), self.args(node.args)
        callee = node.callee
        if isinstance(callee, n.Member):
            if not callee.computed:
                check_key(callee.key.value)  # type: ignore[attr-defined]
            computed = "true" if callee.computed else "false"
            return (f"js_callm(C, {self.expr(callee.obj)}, {self.expr(callee.key)}, "
                    f"{computed}, {args}, {what})")
        return f"js_call(C, {self.expr(callee)}, U, {args}, {what})"

    def w_New(self, node: n.New) -> str:
        return (f"js_new(C, {self.expr(node.callee)}, {self.args(node.args)}, "
                f"{_lit(n.describe(node.callee))})")

    def w_Unary(self, node: n.Unary) -> str:
        operand = node.operand
        if node.op == "typeof" and isinstance(operand, n.Name) and \
                not any(operand.name in s for s in self.scopes):
            return f"js_typeof_name(C, {_lit(operand.name)})"
        inner = self.expr(operand)
        if node.op in ("!", "void", "typeof"):
            return f"js_{ {'!': 'not', 'void': 'void', 'typeof': 'typeof'}[node.op]}({inner})"
        return f"js_unary({_lit(node.op)}, {inner})"

    def w_Binary(self, node: n.Binary) -> str:
        left, right = self.expr(node.left), self.expr(node.right)
        if node.op == "+":
            return f"js_add({left}, {right})"
        if node.op == "instanceof":
            return f"js_instanceof({left}, {right})"
        return f"js_op({_lit(node.op)}, {left}, {right})"

    def w_Logical(self, node: n.Logical) -> str:
        word = "and" if node.op == "&&" else "or"
        return f"js_unbox(js_box({self.expr(node.left)}) {word} js_box({self.expr(node.right)}))"

    def w_Cond(self, node: n.Cond) -> str:
        return (f"({self.expr(node.then)} if js_truthy({self.expr(node.test)}) "
                f"else {self.expr(node.other)})")

    def w_Seq(self, node: n.Seq) -> str:
        return f"js_seq({self.args(node.items)})"

    def w_Func(self, node: n.Func) -> str:
        self.scopes.append(frozenset({*node.params, *([node.name] if node.name else [])}))
        try:
            body = "none" if node.body is None else _lit_expression(self.expr(node.body))
        finally:
            self.scopes.pop()
        params = "[" + ", ".join(_lit(p) for p in node.params) + "]"
        return f"js_func(C, {_lit(node.name)}, {params}, {body})"


_BODIES: list[Any] = []


def _lit_expression(source: str) -> str:
    """Function bodies are compiled Jinja expressions kept in a table the helper reads."""
    _BODIES.append(ENVIRONMENT.compile_expression(source, undefined_to_none=False))
    HELPERS[f"body{len(_BODIES) - 1}"] = _BODIES[-1]
    ENVIRONMENT.globals[f"body{len(_BODIES) - 1}"] = _BODIES[-1]
    return f"body{len(_BODIES) - 1}"


def to_jinja(source: str) -> str:
    return _Writer().expr(parse(source))


class JinjaExpression:
    __slots__ = ("expression", "source")

    def __init__(self, source: str) -> None:
        self.source = to_jinja(source)
        self.expression = ENVIRONMENT.compile_expression(self.source, undefined_to_none=False)

    def __call__(self, params: Mapping[str, Any], realm: Any) -> Any:
        return self.expression(C=Env(params, realm))


@lru_cache(maxsize=4096)
def compile_jinja(source: str) -> JinjaExpression:
    return JinjaExpression(source)
