"""Random input never crashes the engine: any text renders to a string or fails with an
ExpressionError (never a Python exception from inside)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from digpy.dsl.template import render
from digpy.errors import ExpressionError

PIECES = ["${", "}", "{", "(", ")", "[", "]", ".", ",", "'", '"', "/", "\\", "+", "-", "*",
          "%", "!", "=", "==", "===", "<", ">", "&&", "||", "?", ":", "a", "n", "s", "x", "0",
          "1", "1e3", "0x1", ".5", " ", "function", "return", "new", "typeof", "in", "null",
          "true", "moment", "Math", "JSON", "Date", "length", "map", "split", "replace",
          "format", "add", "'days'", "'YYYY'", "/a/g", "$$", "secret:", "\n"]
PARAMS = {"a": [1, "2", None], "n": 5, "s": "text", "x": {"k": "v"}}


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_any_text_renders_or_fails_with_an_expression_error(text: str) -> None:
    try:
        assert isinstance(render("${" + text + "}", PARAMS), str)
    except ExpressionError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_unicode_text_renders_or_fails_with_an_expression_error(text: str) -> None:
    try:
        assert isinstance(render(text + "${" + text + "}", PARAMS), str)
    except ExpressionError:
        pass
