"""JavaScript regular expressions on top of Python's ``re``.

The translation keeps JS meaning where the two dialects differ: ``\\d``/``\\w`` are ASCII, ``.``
does not match any line terminator, ``$`` without the ``m`` flag is only the end of input,
``[^]`` matches anything and ``[]`` nothing; Python-only syntax (``(?P<..>``, inline flags)
is a SyntaxError as in JS.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from digpy.dsl.expr.functions import arg, native
from digpy.dsl.expr.limits import MAX_EXPRESSION_CHARS, check_string_size
from digpy.dsl.expr.values import (
    UNDEFINED,
    JsObject,
    is_digits,
    syntax_error,
    to_string,
    type_error,
)

_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_"}
_ESCAPES = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]"}
_DOT = "[^\\n\\r\\u2028\\u2029]"


def _escape(src: str, i: int, in_class: bool) -> tuple[str, int]:
    c = src[i + 1] if i + 1 < len(src) else ""
    if not c:
        raise syntax_error("Invalid regular expression: \\ at end of pattern")
    if in_class and c in _CLASS_ESCAPES:
        return _CLASS_ESCAPES[c], i + 2
    if not in_class and c in _ESCAPES:
        return _ESCAPES[c], i + 2
    if c == "c" and i + 2 < len(src) and src[i + 2].isalpha():
        return f"\\x{ord(src[i + 2]) % 32:02x}", i + 3
    if c == "/":
        return "/", i + 2
    if c.isalpha() and c not in "bBsSntrfvxu0" and c not in "dDwW":
        return re.escape(c), i + 2  # identity escape, e.g. \a means a
    return "\\" + c, i + 2


def _group(src: str, i: int) -> str:
    if src.startswith("(?", i):
        ahead = src[i + 2:i + 4]
        if not (ahead[:1] in (":", "=", "!") or ahead in ("<=", "<!")):
            raise syntax_error(f"Invalid regular expression: /{src}/: Invalid group")
    return "("


def _char_class(src: str, i: int) -> tuple[str, int]:
    """Translate ``[...]`` starting at ``i``; returns (text, index after ``]``)."""
    if src.startswith("[^]", i):
        return "[\\s\\S]", i + 3
    if src.startswith("[]", i):
        return "(?!)", i + 2
    out, j = ["["], i + 1
    if src.startswith("^", j):
        out.append("^")
        j += 1
    while j < len(src) and src[j] != "]":
        if src[j] == "\\":
            text, j = _escape(src, j, True)
            out.append(text)
        else:
            out.append("\\[" if src[j] == "[" else src[j])
            j += 1
    if j >= len(src):
        raise syntax_error(f"Invalid regular expression: /{src}/: Unterminated character class")
    out.append("]")
    return "".join(out), j + 1


def translate(source: str, multiline: bool) -> str:
    out: list[str] = []
    i = 0
    while i < len(source):
        c = source[i]
        if c == "\\":
            text, i = _escape(source, i, False)
        elif c == "[":
            text, i = _char_class(source, i)
        elif c == "(":
            text, i = _group(source, i), i + 1
        elif c == ".":
            text, i = _DOT, i + 1
        elif c == "$" and not multiline:
            text, i = "\\Z", i + 1
        else:
            text, i = c, i + 1
        out.append(text)
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_regex(source: str, flags: str) -> re.Pattern[str]:
    if len(source) > MAX_EXPRESSION_CHARS:
        raise syntax_error("regular expression too long")
    if set(flags) - set("gim") or len(set(flags)) != len(flags):
        raise syntax_error(f"Invalid regular expression flags '{flags}'")
    py_flags = (re.IGNORECASE if "i" in flags else 0) | (re.MULTILINE if "m" in flags else 0)
    try:
        return re.compile(translate(source, "m" in flags), py_flags)
    except re.error as exc:
        raise syntax_error(f"Invalid regular expression: /{source}/: {exc}") from None


class JsRegExp(JsObject):
    __slots__ = ("flags", "last_index", "pattern", "source")
    js_class = "RegExp"

    def __init__(self, source: str, flags: str) -> None:
        self.source = source
        self.flags = flags
        self.pattern = compile_regex(source, flags)
        self.last_index = 0

    @property
    def is_global(self) -> bool:
        return "g" in self.flags

    def to_str(self) -> str:
        return f"/{self.source}/{self.flags}"

    def get(self, key: str) -> Any:
        if key in REGEXP_METHODS:
            return REGEXP_METHODS[key]
        simple = {"source": self.source, "global": "g" in self.flags,
                  "ignoreCase": "i" in self.flags, "multiline": "m" in self.flags,
                  "lastIndex": self.last_index, "flags": self.flags}
        return simple.get(key, UNDEFINED)


def match_groups(m: re.Match[str]) -> list[Any]:
    """A match as JS sees it: [whole, group1, ...] with non-participating groups undefined."""
    return [m.group(0), *(UNDEFINED if g is None else g for g in m.groups())]


def expand_replacement(template: str, m: re.Match[str], subject: str) -> str:
    """``$&``, ``$1``..``$99``, ``$$``, `` $` ``, ``$'`` in a String.prototype.replace pattern."""
    if "$" not in template:
        return template
    groups = match_groups(m)
    out: list[str] = []
    i = 0
    while i < len(template):
        c = template[i]
        nxt = template[i + 1] if i + 1 < len(template) else ""
        if c != "$" or not nxt:
            out.append(c)
            i += 1
            continue
        text, i = _dollar(template, i, nxt, groups, m, subject)
        out.append(text)
    return "".join(out)


def _dollar(template: str, i: int, nxt: str, groups: list[Any], m: re.Match[str],
            subject: str) -> tuple[str, int]:
    if nxt == "$":
        return "$", i + 2
    if nxt == "&":
        return m.group(0), i + 2
    if nxt == "`":
        return subject[:m.start()], i + 2
    if nxt == "'":
        return subject[m.end():], i + 2
    if is_digits(nxt):
        two = template[i + 1:i + 3]
        if len(two) == 2 and is_digits(two) and 0 < int(two) < len(groups):
            g = groups[int(two)]
            return ("" if g is UNDEFINED else g), i + 3
        if 0 < int(nxt) < len(groups):
            g = groups[int(nxt)]
            return ("" if g is UNDEFINED else g), i + 2
    return "$", i + 1


class MatchList(list):
    """The array ``exec``/``match`` return, with its ``index`` and ``input`` properties."""

    def __init__(self, items: list[Any], index: int, subject: str) -> None:
        super().__init__(items)
        self.match_index = index
        self.match_input = subject


def regexp_exec(rx: JsRegExp, s: str) -> Any:
    start = rx.last_index if rx.is_global else 0
    if start > len(s):
        rx.last_index = 0
        return None
    m = rx.pattern.search(s, start)
    if m is None:
        if rx.is_global:
            rx.last_index = 0
        return None
    if rx.is_global:
        rx.last_index = m.end()
    return MatchList(match_groups(m), m.start(), s)


def iter_matches(realm: Any, pattern: re.Pattern[str], s: str, once: bool) -> Any:
    """Matches the way JS's global loop finds them: after an empty match, step one char."""
    pos = 0
    count = 0
    while pos <= len(s):
        m = pattern.search(s, pos)
        if m is None:
            return
        yield m
        if once:
            return
        pos = m.end() if m.end() > m.start() else m.end() + 1
        count += 1
        if count & 1023 == 0:
            realm.check_time()


def replace_matches(realm: Any, pattern: re.Pattern[str], s: str, once: bool,
                    replacement: Any) -> str:
    """Replace matches with ``replacement(m) -> str``, capping the result size."""
    out: list[str] = []
    size = 0
    last = 0
    for m in iter_matches(realm, pattern, s, once):
        piece = replacement(m)
        out.append(s[last:m.start()])
        out.append(piece)
        size += m.start() - last + len(piece)
        check_string_size(size)
        last = m.end()
    out.append(s[last:])
    check_string_size(size + len(s) - last)
    return "".join(out)


def split_regex(realm: Any, pattern: re.Pattern[str], s: str, limit: int) -> list[Any]:
    """ES5 15.5.4.14 with a RegExp separator (captures are spliced in)."""
    if not s:
        return [] if pattern.match(s, 0) else [s]
    parts: list[Any] = []
    p = q = 0
    while q < len(s):
        if q & 1023 == 0:
            realm.check_time()
        m = pattern.match(s, q)
        if m is None or m.end() == p:
            q += 1
            continue
        parts.append(s[p:q])
        parts.extend(match_groups(m)[1:])
        if len(parts) >= limit:
            return parts[:limit]
        p = q = m.end()
    parts.append(s[p:])
    return parts[:limit]


def _this_regexp(this: Any, method: str) -> JsRegExp:
    if not isinstance(this, JsRegExp):
        raise type_error(f"RegExp.prototype.{method} called on an incompatible receiver")
    return this


@native("exec")
def _exec(realm: Any, this: Any, args: list[Any]) -> Any:
    return regexp_exec(_this_regexp(this, "exec"), to_string(arg(args, 0)))


@native("test")
def _test(realm: Any, this: Any, args: list[Any]) -> Any:
    return regexp_exec(_this_regexp(this, "test"), to_string(arg(args, 0))) is not None


@native("toString")
def _to_string(realm: Any, this: Any, args: list[Any]) -> Any:
    return _this_regexp(this, "toString").to_str()


REGEXP_METHODS: dict[str, Any] = {"exec": _exec, "test": _test, "toString": _to_string}
