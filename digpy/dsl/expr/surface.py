"""Everything an expression can name: the globals and, per kind of value, the members the
property tables answer. tests/data/expressions/surface.json pins it (reliability E4): a
change here needs a reviewed change there."""

from __future__ import annotations

from typing import Any

from digpy.dsl.expr.arrays import ARRAY_METHODS
from digpy.dsl.expr.date import DATE_METHODS
from digpy.dsl.expr.functions import FUNCTION_PROTO, NativeFunction
from digpy.dsl.expr.jsglobals import GLOBALS
from digpy.dsl.expr.moment.api import MOMENT_METHODS
from digpy.dsl.expr.numbers import BOOLEAN_METHODS, NUMBER_METHODS
from digpy.dsl.expr.objects import OBJECT_METHODS
from digpy.dsl.expr.regexp import REGEXP_METHODS
from digpy.dsl.expr.strings import STRING_METHODS
from digpy.dsl.expr.values import JsNamespace


def _members(value: Any) -> list[str]:
    if isinstance(value, JsNamespace):
        return sorted(value.props)
    if isinstance(value, NativeFunction) and value.props:
        return sorted(value.props)
    return []


def surface() -> dict[str, list[str]]:
    tables = {
        "globals": sorted(GLOBALS),
        "string": sorted([*STRING_METHODS, "length"]),
        "array": sorted([*ARRAY_METHODS, "length"]),
        "number": sorted(NUMBER_METHODS),
        "boolean": sorted(BOOLEAN_METHODS),
        "object": sorted(OBJECT_METHODS),
        "function": sorted(FUNCTION_PROTO),
        "regexp": sorted([*REGEXP_METHODS, "flags", "global", "ignoreCase", "lastIndex",
                          "multiline", "source"]),
        "moment": sorted(MOMENT_METHODS),
        "date": sorted(DATE_METHODS),
    }
    for name, value in GLOBALS.items():
        members = _members(value)
        if members:
            tables[f"globals.{name}"] = members
    return tables
