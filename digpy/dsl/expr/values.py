"""The JavaScript value model expressions compute with.

A JS value is one of: ``UNDEFINED``, ``None`` (null), ``bool``, a number (``int`` or ``float``;
ints are JSON params kept as-is for speed and behave as doubles), ``str``, a list (array), a
dict or other Mapping (object), or a ``JsObject`` (functions, RegExp, moment, Date, and the
built-in namespaces). Nothing else is ever produced; anything else found in params is a host
object and touching it raises ExpressionSecurityError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from digpy.errors import ExpressionError, ExpressionLimitError, ExpressionSecurityError

MAX_SAFE = 2**53


class Undefined:
    """JavaScript's ``undefined`` (distinct from ``None``, which is ``null``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED = Undefined()


class JsObject:
    """Base of every non-data JS value. ``props`` are read through ``get`` only."""

    __slots__ = ()
    js_class = "Object"
    prefers_number = False  # ToPrimitive with no hint: valueOf first (moment) or toString

    def get(self, key: str) -> Any:
        return UNDEFINED

    def to_json(self) -> Any:
        """What JSON.stringify sees (UNDEFINED drops the value)."""
        return {}

    def to_str(self) -> str:
        return f"[object {self.js_class}]"

    def to_num(self) -> float:
        return to_number(self.to_str())


class JsFunction(JsObject):
    """A callable JS value. Natives and closures implement ``call``."""

    __slots__ = ()
    js_class = "Function"
    name = "anonymous"

    def call(self, realm: Any, this: Any, args: list[Any]) -> Any:
        raise NotImplementedError

    def to_json(self) -> Any:
        return UNDEFINED

    def to_str(self) -> str:
        return f"function {self.name}() {{ [native code] }}"


class JsNamespace(JsObject):
    """A fixed table of properties: ``Math``, ``JSON``, ``Object.prototype``, ..."""

    __slots__ = ("name", "props")

    def __init__(self, name: str, props: dict[str, Any]) -> None:
        self.name = name
        self.props = props

    @property
    def js_class(self) -> str:  # type: ignore[override]
        return self.name

    def get(self, key: str) -> Any:
        return self.props.get(key, UNDEFINED)


def type_error(message: str) -> ExpressionError:
    return ExpressionError(message, js_class="TypeError")


def reference_error(message: str) -> ExpressionError:
    return ExpressionError(message, js_class="ReferenceError")


def syntax_error(message: str) -> ExpressionError:
    return ExpressionError(message, js_class="SyntaxError")


def range_error(message: str) -> ExpressionError:
    return ExpressionError(message, js_class="RangeError")


def security_error(message: str) -> ExpressionSecurityError:
    return ExpressionSecurityError(message)


def limit_error(message: str) -> ExpressionLimitError:
    return ExpressionLimitError(message)


def is_digits(s: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and other Unicode digits."""
    return s.isascii() and s.isdigit()


def is_array(v: Any) -> bool:
    return type(v) is list or isinstance(v, (list, tuple))


def is_object(v: Any) -> bool:
    """True for JS objects (arrays, maps, functions, ...), false for primitives."""
    t = type(v)
    if t in (str, int, float, bool) or v is None or v is UNDEFINED:
        return False
    return t is dict or t is list or isinstance(v, (JsObject, Mapping, list, tuple))


def check_data(v: Any) -> Any:
    """Reject host objects (anything outside the value model) before they are used."""
    t = type(v)
    if t in (str, int, float, bool, dict, list) or v is None or v is UNDEFINED:
        return v
    if isinstance(v, (JsObject, Mapping, list, tuple, str, int, float)):
        return v
    raise security_error(f"a {t.__name__} value is not reachable from an expression")


# ---------------------------------------------------------------- conversions


def to_boolean(v: Any) -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is str:
        return v != ""
    if t is int:
        return v != 0
    if t is float:
        return not (v == 0 or v != v)
    return not (v is None or v is UNDEFINED)


JS_WHITESPACE = (" \t\n\r\x0b\x0c\xa0\ufeff\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                 "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def string_to_number(s: str) -> float | int:
    s = s.strip(JS_WHITESPACE)
    if not s:
        return 0
    if s[:2] in ("0x", "0X"):
        digits = s[2:]
        if digits and all(c in "0123456789abcdefABCDEF" for c in digits):
            return int(digits, 16)
        return math.nan
    body = s[1:] if s[0] in "+-" else s
    if body == "Infinity":
        return -math.inf if s[0] == "-" else math.inf
    if not body or not _is_decimal_literal(body):
        return math.nan
    return float(s)


def _is_decimal_literal(s: str) -> bool:
    mantissa, _, exponent = s.partition("e") if "e" in s else s.partition("E")
    if exponent or ("e" in s or "E" in s):
        exp = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        if not exp.isascii() or not exp.isdigit():
            return False
    whole, _, frac = mantissa.partition(".")
    if not whole and not frac:
        return False
    return all(p == "" or (p.isascii() and p.isdigit()) for p in (whole, frac))


def to_number(v: Any) -> float | int:
    t = type(v)
    if t is int or t is float:
        return v
    if t is bool:
        return 1 if v else 0
    if t is str:
        return string_to_number(v)
    if v is None:
        return 0
    if v is UNDEFINED:
        return math.nan
    if isinstance(v, JsObject):
        return v.to_num()
    return string_to_number(to_string(check_data(v)))


def to_float(v: Any) -> float:
    n = to_number(v)
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


def to_integer(v: Any) -> float:
    """ES5 ToInteger: NaN -> 0, truncation toward zero, infinities kept."""
    n = to_float(v)
    if n != n:
        return 0.0
    if n in (math.inf, -math.inf):
        return n
    return float(math.trunc(n))


def to_int32(v: Any) -> int:
    n = to_float(v)
    if n != n or n in (math.inf, -math.inf):
        return 0
    i = math.trunc(n) & 0xFFFFFFFF
    return i - 0x100000000 if i >= 0x80000000 else i


def to_uint32(v: Any) -> int:
    return to_int32(v) & 0xFFFFFFFF


def number_to_string(x: float | int) -> str:
    """Number.prototype.toString(): shortest round-trip digits, JS exponent rules."""
    if type(x) is int and -MAX_SAFE <= x <= MAX_SAFE:
        return str(x)
    try:
        x = float(x)
    except OverflowError:
        return "Infinity" if x > 0 else "-Infinity"
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer() and -MAX_SAFE <= x <= MAX_SAFE:
        return str(int(x))
    sign = "-" if x < 0 else ""
    return sign + _format_positive(abs(x))


def _format_positive(x: float) -> str:
    text = repr(x)
    mantissa, _, exp_text = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + int(exp_text or 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return digits[0] + ("." + digits[1:] if k > 1 else "") + exp


def to_string(v: Any) -> str:
    t = type(v)
    if t is str:
        return v
    if t is int or t is float:
        return number_to_string(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    if isinstance(v, JsObject):
        return v.to_str()
    if isinstance(v, (list, tuple)):
        return array_join(v, ",")
    if isinstance(v, Mapping):
        return "[object Object]"
    if isinstance(v, str):
        return str(v)
    check_data(v)
    return number_to_string(v)


def array_join(items: Any, sep: str, limit: int | None = None) -> str:
    from digpy.dsl.expr.limits import MAX_STRING

    parts = ["" if x is None or x is UNDEFINED else to_string(x) for x in items]
    total = sum(map(len, parts)) + len(sep) * max(len(parts) - 1, 0)
    if total > (limit or MAX_STRING):
        raise limit_error(f"string of {total} characters exceeds the limit")
    return sep.join(parts)


def to_primitive(v: Any, hint: str = "default") -> Any:
    """Objects become strings (or numbers for moment/Date under a number hint)."""
    if not is_object(v):
        return v
    if isinstance(v, JsObject) and (hint == "number" or (hint == "default" and v.prefers_number)):
        return v.to_num()
    return to_string(v)


def typeof(v: Any) -> str:
    t = type(v)
    if t is str:
        return "string"
    if t is int or t is float:
        return "number"
    if t is bool:
        return "boolean"
    if v is UNDEFINED:
        return "undefined"
    if isinstance(v, JsFunction):
        return "function"
    if v is None or is_object(v):
        return "object"
    check_data(v)
    return "object"
