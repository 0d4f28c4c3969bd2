"""Tokens of an ES5 expression: numbers, strings (with escapes), regex literals, names and
punctuators. A ``/`` starts a regex literal exactly where JavaScript would read one: where
an operand is expected, not after a name, literal or closing bracket."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from digpy.dsl.expr.values import JS_WHITESPACE, MAX_SAFE, is_digits, syntax_error


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num str regex name punct eof
    value: Any
    pos: int


_PUNCT = sorted([
    "{", "}", "(", ")", "[", "]", ".", ";", ",", "<", ">", "<=", ">=", "==", "!=", "===", "!==",
    "+", "-", "*", "%", "++", "--", "<<", ">>", ">>>", "&", "|", "^", "!", "~", "&&", "||", "?",
    ":", "=", "+=", "-=", "*=", "%=", "<<=", ">>=", ">>>=", "&=", "|=", "^=", "/", "/=",
], key=len, reverse=True)
_PUNCT_RE = re.compile("|".join(re.escape(p) for p in _PUNCT))
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]+(?![0-9.eE])|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_START = re.compile(r"[A-Za-z_$]|[^\x00-\x7f]")
_NAME = re.compile(r"(?:[A-Za-z0-9_$]|[^\x00-\x7f])+")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
_LINE_TERMINATORS = "\n\r\u2028\u2029"
# Keywords after which a "/" begins a regex literal rather than a division.
_REGEX_AFTER_NAMES = frozenset({"return", "typeof", "instanceof", "in", "new", "void",
                                "delete", "case", "do", "else"})


def _number(text: str) -> float | int:
    if text[:2] in ("0x", "0X"):
        value = int(text[2:], 16)
    elif len(text) > 1 and text[0] == "0" and all(c in "01234567" for c in text):
        value = int(text, 8)  # legacy octal, as ES5 sloppy mode reads 017
    elif is_digits(text):
        value = int(text)
    else:
        return float(text)
    return value if value <= MAX_SAFE else float(value)


def _string(src: str, start: int) -> tuple[str, int]:
    quote, i = src[start], start + 1
    out: list[str] = []
    while i < len(src):
        c = src[i]
        if c == quote:
            return "".join(out), i + 1
        if c in _LINE_TERMINATORS:
            break
        if c == "\\":
            text, i = _escape(src, i + 1)
            out.append(text)
            continue
        out.append(c)
        i += 1
    raise syntax_error("Unterminated string literal")


def _escape(src: str, i: int) -> tuple[str, int]:
    if i >= len(src):
        raise syntax_error("Unterminated string literal")
    c = src[i]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i + 1
    if c in "xu":
        width = 2 if c == "x" else 4
        digits = src[i + 1:i + 1 + width]
        if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise syntax_error(f"Invalid {'hexadecimal' if c == 'x' else 'Unicode'} escape")
        return chr(int(digits, 16)), i + 1 + width
    if c in "01234567":
        m = re.match(r"[0-3][0-7]{0,2}|[4-7][0-7]?", src[i:])
        assert m is not None
        return chr(int(m.group(0), 8)), i + len(m.group(0))
    if c == "\r" and src[i + 1:i + 2] == "\n":
        return "", i + 2
    if c in _LINE_TERMINATORS:
        return "", i + 1  # line continuation
    return c, i + 1


def _regex(src: str, start: int) -> tuple[tuple[str, str], int]:
    i, in_class = start + 1, False
    while i < len(src):
        c = src[i]
        if c in _LINE_TERMINATORS:
            break
        if c == "\\":
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            flags = _NAME.match(src, i + 1)
            end = flags.end() if flags else i + 1
            return (src[start + 1:i], src[i + 1:end]), end
        i += 1
    raise syntax_error("Invalid regular expression: missing /")


def _skip_space(src: str, i: int) -> int:
    while i < len(src):
        c = src[i]
        if c in JS_WHITESPACE:
            i += 1
        elif src.startswith("//", i):
            end = min((src.find(t, i) for t in _LINE_TERMINATORS if src.find(t, i) >= 0),
                      default=len(src))
            i = end
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            if end < 0:
                raise syntax_error("Unterminated comment")
            i = end + 2
        else:
            break
    return i


def _regex_allowed(prev: Token | None) -> bool:
    if prev is None:
        return True
    if prev.kind == "punct":
        return prev.value not in (")", "]", "}")
    return prev.kind == "name" and prev.value in _REGEX_AFTER_NAMES


def _next(src: str, i: int, prev: Token | None) -> tuple[Token, int]:
    c = src[i]
    if c in "'\"":
        text, end = _string(src, i)
        return Token("str", text, i), end
    if is_digits(c) or (c == "." and is_digits(src[i + 1:i + 2])):
        m = _NUMBER.match(src, i)
        assert m is not None
        end = m.end()
        if end < len(src) and _NAME_START.match(src[end]):
            raise syntax_error("Invalid or unexpected token after a number")
        return Token("num", _number(m.group(0)), i), end
    if c == "/" and _regex_allowed(prev):
        value, end = _regex(src, i)
        return Token("regex", value, i), end
    if _NAME_START.match(c):
        m = _NAME.match(src, i)
        assert m is not None
        return Token("name", m.group(0), i), m.end()
    if c == "\\":
        raise syntax_error("Unicode escapes in names are not supported")
    m = _PUNCT_RE.match(src, i)
    if m is None:
        raise syntax_error(f"Invalid or unexpected token {c!r}")
    return Token("punct", m.group(0), i), m.end()


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    prev: Token | None = None
    i = _skip_space(src, 0)
    while i < len(src):
        tok, i = _next(src, i, prev)
        tokens.append(tok)
        prev = tok
        i = _skip_space(src, i)
    tokens.append(Token("eof", None, len(src)))
    return tokens
