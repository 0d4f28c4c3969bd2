"""``value instanceof Ctor`` for the built-in constructors an expression can name."""

from __future__ import annotations

from typing import Any

from digpy.dsl.expr.date import DATE, JsDate
from digpy.dsl.expr.functions import JsFunction
from digpy.dsl.expr.moment.core import Moment
from digpy.dsl.expr.moment.factory import MOMENT
from digpy.dsl.expr.objects import ARRAY, OBJECT, REGEXP
from digpy.dsl.expr.regexp import JsRegExp
from digpy.dsl.expr.values import is_array, is_object


def instance_of(value: Any, ctor: JsFunction) -> bool:
    if not is_object(value):
        return False  # primitives are never instances, not even of String/Number
    if ctor is OBJECT:
        return True
    if ctor is ARRAY:
        return is_array(value)
    if ctor is DATE:
        return isinstance(value, JsDate)
    if ctor is REGEXP:
        return isinstance(value, JsRegExp)
    if ctor is MOMENT:
        return isinstance(value, Moment)
    return False
