"""``${...}`` expressions: ES5 expression syntax evaluated over a JavaScript value model.

``compile_expression(source)`` parses and compiles once (cached); calling the result with the
params mapping and a ``Realm`` evaluates it. ``to_python`` turns a JS value into plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from digpy.dsl.expr.compiler import Env, compile_node
from digpy.dsl.expr.limits import MAX_DEPTH, Realm
from digpy.dsl.expr.parser import parse
from digpy.dsl.expr.values import UNDEFINED, JsFunction, JsObject, check_data, limit_error


class CompiledExpression:
    __slots__ = ("code", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.code = compile_node(parse(source))

    def __call__(self, params: Mapping[str, Any], realm: Realm) -> Any:
        return self.code(Env(params, realm))


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CompiledExpression:
    return CompiledExpression(source)


def to_python(value: Any, depth: int = 0) -> Any:
    """Plain data for a JS value: what JSON.parse(JSON.stringify(v)) would give, except that
    top-level undefined is None and non-finite numbers stay floats."""
    if depth > MAX_DEPTH:
        raise limit_error("value nested too deeply")
    t = type(value)
    if t in (str, bool, int) or value is None:
        return value
    if t is float:
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if value is UNDEFINED or isinstance(value, JsFunction):
        return None
    if isinstance(value, JsObject):
        return to_python(value.to_json(), depth + 1)
    if isinstance(value, (list, tuple)):
        return [to_python(v, depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_python(v, depth + 1) for k, v in value.items()
                if v is not UNDEFINED and not isinstance(v, JsFunction)}
    check_data(value)
    return value


__all__ = ["CompiledExpression", "Realm", "compile_expression", "to_python"]
