"""String.prototype methods (ES5 plus the ES2015+ and Java ``String`` methods Digdag users
reach for: ``startsWith``, ``padStart``, ``replaceAll`` with Java's regex semantics, ...)."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from digpy.dsl.expr.functions import arg, call_function, native
from digpy.dsl.expr.limits import check_array_size, check_string_size
from digpy.dsl.expr.regexp import (
    JsRegExp,
    MatchList,
    expand_replacement,
    match_groups,
    regexp_exec,
    replace_matches,
    split_regex,
)
from digpy.dsl.expr.values import (
    JS_WHITESPACE,
    UNDEFINED,
    JsFunction,
    is_digits,
    range_error,
    syntax_error,
    to_integer,
    to_number,
    to_string,
    to_uint32,
    type_error,
)


def this_string(this: Any, method: str) -> str:
    if type(this) is str:
        return this
    if this is None or this is UNDEFINED:
        raise type_error(f"String.prototype.{method} called on null or undefined")
    return to_string(this)


def _clamp(n: float, size: int) -> int:
    return int(min(max(n, 0), size))


def _relative(v: Any, size: int, default: int) -> int:
    if v is UNDEFINED:
        return default
    n = to_integer(v)
    return _clamp(size + n if n < 0 else n, size)


STRING_METHODS: dict[str, Any] = {}


def method(name: str) -> Any:
    def wrap(impl: Any) -> Any:
        fn = native(name)(lambda realm, this, args: impl(realm, this_string(this, name), args))
        STRING_METHODS[name] = fn
        return impl

    return wrap


@method("charAt")
def _char_at(realm: Any, s: str, args: list[Any]) -> Any:
    i = to_integer(arg(args, 0))
    return s[int(i)] if 0 <= i < len(s) else ""


@method("charCodeAt")
def _char_code_at(realm: Any, s: str, args: list[Any]) -> Any:
    i = to_integer(arg(args, 0))
    return ord(s[int(i)]) if 0 <= i < len(s) else math.nan


@method("concat")
def _concat(realm: Any, s: str, args: list[Any]) -> Any:
    parts = [s, *(to_string(a) for a in args)]
    check_string_size(sum(map(len, parts)))
    return "".join(parts)


@method("indexOf")
def _index_of(realm: Any, s: str, args: list[Any]) -> Any:
    return s.find(to_string(arg(args, 0)), _clamp(to_integer(arg(args, 1)), len(s)))


@method("lastIndexOf")
def _last_index_of(realm: Any, s: str, args: list[Any]) -> Any:
    needle = to_string(arg(args, 0))
    pos = to_number(arg(args, 1))
    start = len(s) if pos != pos else _clamp(to_integer(pos), len(s))
    return s.rfind(needle, 0, start + len(needle))


@method("slice")
def _slice(realm: Any, s: str, args: list[Any]) -> Any:
    start = _relative(arg(args, 0), len(s), 0)
    end = _relative(arg(args, 1), len(s), len(s))
    return s[start:end] if start < end else ""


@method("substring")
def _substring(realm: Any, s: str, args: list[Any]) -> Any:
    start = _clamp(to_integer(arg(args, 0)), len(s))
    end_arg = arg(args, 1)
    end = len(s) if end_arg is UNDEFINED else _clamp(to_integer(end_arg), len(s))
    return s[min(start, end):max(start, end)]


@method("substr")
def _substr(realm: Any, s: str, args: list[Any]) -> Any:
    start = _relative(arg(args, 0), len(s), 0)
    length_arg = arg(args, 1)
    length = len(s) - start if length_arg is UNDEFINED else to_integer(length_arg)
    end = _clamp(start + min(max(length, 0), len(s)), len(s))
    return s[start:end]


@method("toUpperCase")
def _upper(realm: Any, s: str, args: list[Any]) -> Any:
    return s.upper()


@method("toLowerCase")
def _lower(realm: Any, s: str, args: list[Any]) -> Any:
    return s.lower()


STRING_METHODS["toLocaleUpperCase"] = STRING_METHODS["toUpperCase"]
STRING_METHODS["toLocaleLowerCase"] = STRING_METHODS["toLowerCase"]


@method("trim")
def _trim(realm: Any, s: str, args: list[Any]) -> Any:
    return s.strip(JS_WHITESPACE)


@method("trimLeft")
def _trim_left(realm: Any, s: str, args: list[Any]) -> Any:
    return s.lstrip(JS_WHITESPACE)


@method("trimRight")
def _trim_right(realm: Any, s: str, args: list[Any]) -> Any:
    return s.rstrip(JS_WHITESPACE)


STRING_METHODS["trimStart"] = STRING_METHODS["trimLeft"]
STRING_METHODS["trimEnd"] = STRING_METHODS["trimRight"]


@method("toString")
def _to_string(realm: Any, s: str, args: list[Any]) -> Any:
    return s


STRING_METHODS["valueOf"] = STRING_METHODS["toString"]


@method("localeCompare")
def _locale_compare(realm: Any, s: str, args: list[Any]) -> Any:
    other = to_string(arg(args, 0))
    return (s > other) - (s < other)


@method("startsWith")
def _starts_with(realm: Any, s: str, args: list[Any]) -> Any:
    return s.startswith(to_string(arg(args, 0)), _clamp(to_integer(arg(args, 1)), len(s)))


@method("endsWith")
def _ends_with(realm: Any, s: str, args: list[Any]) -> Any:
    end_arg = arg(args, 1)
    end = len(s) if end_arg is UNDEFINED else _clamp(to_integer(end_arg), len(s))
    return s.endswith(to_string(arg(args, 0)), 0, end)


@method("includes")
def _includes(realm: Any, s: str, args: list[Any]) -> Any:
    return s.find(to_string(arg(args, 0)), _clamp(to_integer(arg(args, 1)), len(s))) >= 0


STRING_METHODS["contains"] = STRING_METHODS["includes"]  # java.lang.String


@method("repeat")
def _repeat(realm: Any, s: str, args: list[Any]) -> Any:
    n = to_integer(arg(args, 0))
    if n < 0 or n == math.inf:
        raise range_error("Invalid count value")
    check_string_size(int(len(s) * n) if s else 0)
    return s * int(n)


def _pad(s: str, args: list[Any], at_start: bool) -> str:
    target = to_integer(arg(args, 0))
    fill_arg = arg(args, 1)
    fill = " " if fill_arg is UNDEFINED else to_string(fill_arg)
    if target <= len(s) or not fill:
        return s
    check_string_size(int(target))
    need = int(target) - len(s)
    padding = (fill * (need // len(fill) + 1))[:need]
    return padding + s if at_start else s + padding


@method("padStart")
def _pad_start(realm: Any, s: str, args: list[Any]) -> Any:
    return _pad(s, args, True)


@method("padEnd")
def _pad_end(realm: Any, s: str, args: list[Any]) -> Any:
    return _pad(s, args, False)


@method("split")
def _split(realm: Any, s: str, args: list[Any]) -> Any:
    sep, limit_arg = arg(args, 0), arg(args, 1)
    limit = 2**32 - 1 if limit_arg is UNDEFINED else to_uint32(limit_arg)
    if limit == 0:
        return []
    if isinstance(sep, JsRegExp):
        parts = split_regex(realm, sep.pattern, s, limit)
    elif sep is UNDEFINED:
        parts = [s]
    else:
        text = to_string(sep)
        if text:
            check_array_size(s.count(text) + 1)
            parts = s.split(text)
        else:
            check_array_size(len(s))
            parts = list(s)
    return parts[:limit]


def _replacer(realm: Any, replacement: Any, s: str) -> Any:
    if isinstance(replacement, JsFunction):
        def call(m: re.Match[str]) -> str:
            args = [*match_groups(m), m.start(), s]
            return to_string(call_function(realm, replacement, UNDEFINED, args))

        return call
    template = to_string(replacement)
    return lambda m: expand_replacement(template, m, s)


@method("replace")
def _replace(realm: Any, s: str, args: list[Any]) -> Any:
    pattern, replacement = arg(args, 0), arg(args, 1)
    if isinstance(pattern, JsRegExp):
        result = replace_matches(realm, pattern.pattern, s, not pattern.is_global,
                                 _replacer(realm, replacement, s))
        pattern.last_index = 0
        return result
    literal = re.compile(re.escape(to_string(pattern)))
    return replace_matches(realm, literal, s, True, _replacer(realm, replacement, s))


@lru_cache(maxsize=256)
def _java_regex(source: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as exc:
        raise syntax_error(f"Invalid Java regular expression {source!r}: {exc}") from None


def _java_replacement(template: str) -> Any:
    """Java's Matcher.appendReplacement: ``$n`` is a group, a backslash quotes the next char."""
    def expand(m: re.Match[str]) -> str:
        out, i = [], 0
        while i < len(template):
            c = template[i]
            if c == "\\" and i + 1 < len(template):
                out.append(template[i + 1])
                i += 2
            elif c == "$" and i + 1 < len(template) and is_digits(template[i + 1]):
                out.append(m.group(int(template[i + 1])) or "")
                i += 2
            else:
                out.append(c)
                i += 1
        return "".join(out)

    return expand


def _java_replace(realm: Any, s: str, args: list[Any], once: bool) -> str:
    pattern, replacement = arg(args, 0), arg(args, 1)
    if isinstance(pattern, JsRegExp):
        return replace_matches(realm, pattern.pattern, s, once, _replacer(realm, replacement, s))
    compiled = _java_regex(to_string(pattern))
    if isinstance(replacement, JsFunction):
        return replace_matches(realm, compiled, s, once, _replacer(realm, replacement, s))
    try:
        return replace_matches(realm, compiled, s, once, _java_replacement(to_string(replacement)))
    except IndexError:
        raise type_error("No group in the replacement of replaceAll") from None


@method("replaceAll")
def _replace_all(realm: Any, s: str, args: list[Any]) -> Any:
    return _java_replace(realm, s, args, False)


@method("replaceFirst")
def _replace_first(realm: Any, s: str, args: list[Any]) -> Any:
    return _java_replace(realm, s, args, True)


@method("matches")
def _matches(realm: Any, s: str, args: list[Any]) -> Any:
    return _java_regex(to_string(arg(args, 0))).fullmatch(s) is not None


@method("isEmpty")
def _is_empty(realm: Any, s: str, args: list[Any]) -> Any:
    return not s


@method("equals")
def _equals(realm: Any, s: str, args: list[Any]) -> Any:
    return type(arg(args, 0)) is str and s == arg(args, 0)


@method("equalsIgnoreCase")
def _equals_ignore_case(realm: Any, s: str, args: list[Any]) -> Any:
    other = arg(args, 0)
    return type(other) is str and s.lower() == other.lower()


def _as_regexp(v: Any) -> JsRegExp:
    if isinstance(v, JsRegExp):
        return v
    return JsRegExp("(?:)" if v is UNDEFINED else to_string(v), "")


@method("match")
def _match(realm: Any, s: str, args: list[Any]) -> Any:
    rx = _as_regexp(arg(args, 0))
    if not rx.is_global:
        return regexp_exec(rx, s)
    found = [m.group(0) for m in _all(realm, rx, s)]
    rx.last_index = 0
    return found or None


def _all(realm: Any, rx: JsRegExp, s: str) -> Any:
    from digpy.dsl.expr.regexp import iter_matches

    for count, m in enumerate(iter_matches(realm, rx.pattern, s, False)):
        check_array_size(count)
        yield m


@method("search")
def _search(realm: Any, s: str, args: list[Any]) -> Any:
    m = _as_regexp(arg(args, 0)).pattern.search(s)
    return -1 if m is None else m.start()


def string_property(s: str, key: str) -> Any:
    if key == "length":
        return len(s)
    if is_digits(key) and (key == "0" or key[0] != "0"):
        i = int(key)
        return s[i] if i < len(s) else UNDEFINED
    return STRING_METHODS.get(key, UNDEFINED)


__all__ = ["STRING_METHODS", "MatchList", "string_property", "this_string"]
