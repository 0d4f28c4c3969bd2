"""Numbers: Number.prototype methods (``toFixed`` rounds the exact binary value half-up as
ES5 specifies), ``Math``, ``Number``, ``parseInt``/``parseFloat``, ``isNaN``/``isFinite``."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from digpy.dsl.expr.functions import NativeFunction, arg, native
from digpy.dsl.expr.values import (
    JS_WHITESPACE,
    MAX_SAFE,
    UNDEFINED,
    JsNamespace,
    number_to_string,
    range_error,
    to_float,
    to_int32,
    to_integer,
    to_number,
    to_string,
    type_error,
)


def this_number(this: Any, method: str) -> float | int:
    if type(this) in (int, float):
        return this
    raise type_error(f"Number.prototype.{method} requires that 'this' be a Number")


def _digits_arg(v: Any, low: int, high: int, method: str) -> int:
    n = to_integer(v)
    if not low <= n <= high:
        raise range_error(f"{method}() digits argument must be between {low} and {high}")
    return int(n)


@native("toFixed")
def _to_fixed(realm: Any, this: Any, args: list[Any]) -> Any:
    x = to_float(this_number(this, "toFixed"))
    digits = _digits_arg(arg(args, 0), 0, 100, "toFixed")
    if x != x:
        return "NaN"
    if abs(x) >= 1e21:
        return number_to_string(x)
    q = Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = format(q, "f")
    return text[1:] if text.startswith("-") and x == 0 else text


def _significant(x: float, digits: int) -> tuple[str, int]:
    """(digits, exponent) of x rounded half-up to ``digits`` significant digits."""
    d = Context(prec=digits, rounding=ROUND_HALF_UP).plus(Decimal(abs(x)))
    text = "".join(map(str, d.as_tuple().digits)).ljust(digits, "0")[:digits]
    return text, d.adjusted() if x else 0


def _exponential(sign: str, text: str, e: int) -> str:
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


@native("toPrecision")
def _to_precision(realm: Any, this: Any, args: list[Any]) -> Any:
    x = to_float(this_number(this, "toPrecision"))
    if arg(args, 0) is UNDEFINED or not math.isfinite(x):
        return number_to_string(x)
    p = _digits_arg(arg(args, 0), 1, 100, "toPrecision")
    sign = "-" if x < 0 else ""
    text, e = _significant(x, p)
    if e < -6 or e >= p:
        return _exponential(sign, text, e)
    if e >= 0:
        return sign + text[:e + 1] + ("." + text[e + 1:] if p > e + 1 else "")
    return sign + "0." + "0" * (-e - 1) + text


@native("toExponential")
def _to_exponential(realm: Any, this: Any, args: list[Any]) -> Any:
    x = to_float(this_number(this, "toExponential"))
    if not math.isfinite(x):
        return number_to_string(x)
    if arg(args, 0) is UNDEFINED:
        text = number_to_string(abs(x)).replace(".", "").lstrip("0").split("e")[0] or "0"
        _, e = _significant(x, 17)
        return _exponential("-" if x < 0 else "", text.rstrip("0") or "0", e)
    f = _digits_arg(arg(args, 0), 0, 100, "toExponential")
    text, e = _significant(x, f + 1)
    return _exponential("-" if x < 0 else "", text, e)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _radix_string(x: float, radix: int) -> str:
    if not math.isfinite(x):
        return number_to_string(x)
    sign, x = ("-" if x < 0 else ""), abs(x)
    whole, frac = int(x), x - int(x)
    out = ""
    while True:
        whole, r = divmod(whole, radix)
        out = _DIGITS[r] + out
        if not whole:
            break
    if frac:
        digits = []
        for _ in range(52):
            frac *= radix
            digits.append(_DIGITS[int(frac)])
            frac -= int(frac)
            if not frac:
                break
        out += "." + "".join(digits).rstrip("0")
    return sign + out


@native("toString")
def _to_string(realm: Any, this: Any, args: list[Any]) -> Any:
    x = this_number(this, "toString")
    radix = arg(args, 0)
    if radix is UNDEFINED or to_integer(radix) == 10:
        return number_to_string(x)
    r = to_integer(radix)
    if not 2 <= r <= 36:
        raise range_error("toString() radix must be between 2 and 36")
    return _radix_string(to_float(x), int(r))


@native("valueOf")
def _value_of(realm: Any, this: Any, args: list[Any]) -> Any:
    return this_number(this, "valueOf")


NUMBER_METHODS: dict[str, Any] = {
    "toFixed": _to_fixed, "toPrecision": _to_precision, "toExponential": _to_exponential,
    "toString": _to_string, "toLocaleString": _to_string, "valueOf": _value_of,
}


@native("toString")
def _bool_to_string(realm: Any, this: Any, args: list[Any]) -> Any:
    if type(this) is not bool:
        raise type_error("Boolean.prototype.toString requires that 'this' be a Boolean")
    return "true" if this else "false"


@native("valueOf")
def _bool_value_of(realm: Any, this: Any, args: list[Any]) -> Any:
    if type(this) is not bool:
        raise type_error("Boolean.prototype.valueOf requires that 'this' be a Boolean")
    return this


BOOLEAN_METHODS: dict[str, Any] = {"toString": _bool_to_string, "valueOf": _bool_value_of}

# ------------------------------------------------------------------------------- Math


def _round(x: float) -> float:
    if not math.isfinite(x) or x.is_integer():
        return x
    r = math.floor(x)
    result = float(r + 1 if x - r >= 0.5 else r)
    return -0.0 if result == 0 and x < 0 else result


def _pow(x: float, y: float) -> float:
    if y != y or (abs(x) == 1 and math.isinf(y)):
        return math.nan
    try:
        return math.pow(x, y)
    except OverflowError:
        odd = float(y).is_integer() and int(y) % 2 == 1
        return -math.inf if x < 0 and odd else math.inf
    except ValueError:
        if x == 0:
            odd = float(y).is_integer() and int(y) % 2 == 1
            return -math.inf if math.copysign(1, x) < 0 and odd else math.inf
        return math.nan


def _unary(fn: Callable[[float], float]) -> Callable[[Any, Any, list[Any]], Any]:
    def impl(realm: Any, this: Any, args: list[Any]) -> Any:
        x = to_float(arg(args, 0))
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return math.nan if x == x and not math.isinf(x) else _inf_result(fn, x)

    return impl


def _inf_result(fn: Callable[[float], float], x: float) -> float:
    if x != x:
        return math.nan
    return math.inf if fn in (math.exp, math.sqrt) and x > 0 else math.nan


def _floor(x: float) -> float:
    return x if not math.isfinite(x) else float(math.floor(x))


def _ceil(x: float) -> float:
    return x if not math.isfinite(x) else float(math.ceil(x))


def _trunc(x: float) -> float:
    return x if not math.isfinite(x) else float(math.trunc(x))


def _sign(x: float) -> float:
    return x if x != x or x == 0 else math.copysign(1.0, x)


def _log(x: float) -> float:
    if x == 0:
        return -math.inf
    return math.nan if x < 0 or x != x else (math.inf if math.isinf(x) else math.log(x))


def _extreme(pick: Callable[..., float], empty: float) -> Callable[[Any, Any, list[Any]], Any]:
    def impl(realm: Any, this: Any, args: list[Any]) -> Any:
        values = [to_float(a) for a in args]
        if any(v != v for v in values):
            return math.nan
        return pick(values) if values else empty

    return impl


_UNARY: dict[str, Callable[[float], float]] = {
    "abs": abs, "acos": math.acos, "asin": math.asin, "atan": math.atan, "ceil": _ceil,
    "cos": math.cos, "exp": math.exp, "floor": _floor, "log": _log, "round": _round,
    "sin": math.sin, "sqrt": math.sqrt, "tan": math.tan, "trunc": _trunc, "sign": _sign,
    "log10": lambda x: _log(x) / math.log(10), "log2": lambda x: _log(x) / math.log(2),
    "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
}

MATH = JsNamespace("Math", {
    **{name: NativeFunction(name, _unary(fn)) for name, fn in _UNARY.items()},
    "atan2": NativeFunction("atan2", lambda r, t, a: math.atan2(to_float(arg(a, 0)),
                                                               to_float(arg(a, 1)))),
    "pow": NativeFunction("pow", lambda r, t, a: _pow(to_float(arg(a, 0)), to_float(arg(a, 1)))),
    "max": NativeFunction("max", _extreme(max, -math.inf)),
    "min": NativeFunction("min", _extreme(min, math.inf)),
    "random": NativeFunction("random", lambda r, t, a: random.random()),
    "PI": math.pi, "E": math.e, "LN2": math.log(2), "LN10": math.log(10),
    "LOG2E": 1 / math.log(2), "LOG10E": 1 / math.log(10), "SQRT2": math.sqrt(2),
    "SQRT1_2": math.sqrt(0.5),
})

# ----------------------------------------------------------------- parseInt & friends


def _as_number(n: int) -> float | int:
    if -MAX_SAFE <= n <= MAX_SAFE:
        return n
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


@native("parseInt")
def parse_int(realm: Any, this: Any, args: list[Any]) -> Any:
    s = to_string(arg(args, 0)).lstrip(JS_WHITESPACE)
    negative = s[:1] == "-"
    s = s[1:] if s[:1] in ("+", "-") else s
    radix = to_int32(arg(args, 1))
    if radix in (0, 16) and s[:2] in ("0x", "0X"):
        s, radix = s[2:], 16
    radix = radix or 10
    if not 2 <= radix <= 36:
        return math.nan
    end = 0
    while end < len(s) and s[end].lower() in _DIGITS[:radix]:
        end += 1
    if end == 0:
        return math.nan
    if end > 1100:  # past any double; int() on millions of digits is slow
        return -math.inf if negative else math.inf
    n = _as_number(int(s[:end], radix))
    return -n if negative else n


_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


@native("parseFloat")
def parse_float(realm: Any, this: Any, args: list[Any]) -> Any:
    m = _FLOAT_PREFIX.match(to_string(arg(args, 0)).lstrip(JS_WHITESPACE))
    return float(m.group(0)) if m else math.nan


@native("isNaN")
def is_nan(realm: Any, this: Any, args: list[Any]) -> Any:
    return to_float(arg(args, 0)) != to_float(arg(args, 0))


@native("isFinite")
def is_finite(realm: Any, this: Any, args: list[Any]) -> Any:
    return math.isfinite(to_float(arg(args, 0)))


def _is_integer(realm: Any, this: Any, args: list[Any]) -> Any:
    v = arg(args, 0)
    return type(v) in (int, float) and math.isfinite(v) and float(v).is_integer()


NUMBER = NativeFunction(
    "Number", lambda realm, this, args: to_number(args[0]) if args else 0,
    props={
        "MAX_VALUE": 1.7976931348623157e308, "MIN_VALUE": 5e-324, "NaN": math.nan,
        "POSITIVE_INFINITY": math.inf, "NEGATIVE_INFINITY": -math.inf,
        "MAX_SAFE_INTEGER": MAX_SAFE - 1, "MIN_SAFE_INTEGER": -(MAX_SAFE - 1),
        "EPSILON": 2.0**-52, "parseInt": parse_int, "parseFloat": parse_float,
        "isInteger": NativeFunction("isInteger", _is_integer),
        "isNaN": NativeFunction("isNaN", lambda r, t, a: type(arg(a, 0)) is float
                                and arg(a, 0) != arg(a, 0)),
        "isFinite": NativeFunction("isFinite", lambda r, t, a: type(arg(a, 0)) in (int, float)
                                   and math.isfinite(arg(a, 0))),
        "prototype": JsNamespace("Number", NUMBER_METHODS),
    },
)
