"""The names an expression can use besides its params: the ES5 built-ins Digdag workflows
use, plus ``moment``. This table is the whole global scope (a golden test pins it)."""

from __future__ import annotations

import math
from typing import Any

from digpy.dsl.expr.date import DATE
from digpy.dsl.expr.jsjson import JSON_NAMESPACE
from digpy.dsl.expr.moment.factory import MOMENT
from digpy.dsl.expr.numbers import MATH, NUMBER, is_finite, is_nan, parse_float, parse_int
from digpy.dsl.expr.objects import (
    ARRAY,
    BOOLEAN,
    OBJECT,
    REGEXP,
    STRING,
    decode_uri,
    decode_uri_component,
    encode_uri,
    encode_uri_component,
)
from digpy.dsl.expr.values import UNDEFINED

GLOBALS: dict[str, Any] = {
    "undefined": UNDEFINED,
    "NaN": math.nan,
    "Infinity": math.inf,
    "Array": ARRAY,
    "Boolean": BOOLEAN,
    "Date": DATE,
    "JSON": JSON_NAMESPACE,
    "Math": MATH,
    "Number": NUMBER,
    "Object": OBJECT,
    "RegExp": REGEXP,
    "String": STRING,
    "decodeURI": decode_uri,
    "decodeURIComponent": decode_uri_component,
    "encodeURI": encode_uri,
    "encodeURIComponent": encode_uri_component,
    "isFinite": is_finite,
    "isNaN": is_nan,
    "moment": MOMENT,
    "parseFloat": parse_float,
    "parseInt": parse_int,
}

# Names that only make sense as an escape attempt (JS engine internals, Java interop, the
# Jinja2 globals a template sandbox would have). Unless a param has the name, using one
# raises ExpressionSecurityError rather than a plain ReferenceError.
DENIED_GLOBALS = frozenset({
    "eval", "Function", "require", "load", "loadWithNewGlobal", "Java", "Packages", "java",
    "javax", "JavaImporter", "importPackage", "importClass", "Polyglot", "Graal", "globalThis",
    "global", "window", "self", "process", "Proxy", "Reflect", "Symbol", "arguments",
    "range", "lipsum", "cycler", "joiner", "namespace", "dict", "getattr", "setattr", "open",
    "exec", "compile", "globals", "locals", "vars", "print", "input", "exit", "quit",
    "builtins", "object", "type", "super",
})
