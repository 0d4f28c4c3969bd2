"""YAML text -> one node tree, through libyaml when it reads the text as PyYAML would.

Two parsers can feed the dialect's composer and resolver (``yaml_dialect``): PyYAML's
pure-Python scanner and parser, which are the reference, and libyaml's C ones
(``yaml._yaml.CParser``, shipped in PyYAML's wheels), ~6x faster: a 100-task file composes
in ~1 ms instead of ~7. Both hand the same events to the same Python composer, so limits,
marks, aliases and tags are handled by one piece of code either way.

The two parsers word their errors differently and read a few inputs differently (tabs,
NEL/LS/PS line breaks, a BOM, where a missing value is marked, odd tags, ``?`` inside
``[...]``). So libyaml is not asked about such text, and whatever it fails on is parsed
again by the reference parser: every message and location stays the reference's.
``tests/dsl/test_yaml_compose.py`` checks that both give the same trees.
"""

from __future__ import annotations

import io
import re
from typing import Any

import yaml
from yaml.events import ScalarEvent
from yaml.nodes import Node
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from digpy.dsl.yaml_dialect import (
    INCLUDE_TAG,
    MAX_DEPTH,
    Composed,
    DigdagResolver,
    LimitedComposer,
    check_alias_expansion,
    depth_message,
    to_mark,
)
from digpy.errors import ConfigError, Location

try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: the reference parser does it all
    HAVE_LIBYAML = False
else:
    HAVE_LIBYAML = True

# Characters libyaml reads differently from PyYAML: tabs, the line breaks only YAML 1.1
# knows, a BOM, and a comment glued to a block scalar header (``|#``), which PyYAML refuses.
# The other differences fuzzing found show in the events (_LibyamlLoader.compose_node).
_REFERENCE_ONLY = re.compile("[\t\x85\u2028\u2029\ufeff]|[|>][-+0-9]*#")


class _ReferenceLoader(Reader, Scanner, Parser, LimitedComposer, DigdagResolver):
    def __init__(self, text: str, name: str) -> None:
        Reader.__init__(self, text)
        self.name = name
        Scanner.__init__(self)
        Parser.__init__(self)
        LimitedComposer.__init__(self)
        DigdagResolver.__init__(self)

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # Stop at the scanner too: a simple key may span 1,024 characters, and looking that
        # far ahead through thousands of open '[' costs half a second before composing fails.
        if self.flow_level >= MAX_DEPTH:
            raise ConfigError(depth_message(), location=to_mark(self.get_mark()).location())
        super().fetch_flow_collection_start(token_class)


if HAVE_LIBYAML:

    class _LibyamlLoader(LimitedComposer, CParser, DigdagResolver):
        """libyaml scans and parses; the composer comes first in the MRO so that CParser's
        own C composer (no limits) is never used."""

        def __init__(self, text: str, name: str) -> None:
            stream = io.StringIO(text)
            stream.name = name  # libyaml's marks take the file name from it
            CParser.__init__(self, stream)
            LimitedComposer.__init__(self)
            DigdagResolver.__init__(self)
            self.has_question_mark = "?" in text

        def compose_node(self, parent: Node | None, index: Any) -> Node | None:
            event = self.peek_event()
            if isinstance(event, ScalarEvent) and not event.value and not event.style:
                raise _AskTheReference("libyaml marks a missing value where the next token is")
            if getattr(event, "tag", None) not in (None, INCLUDE_TAG):
                raise _AskTheReference("the two read tags (and '!') differently")
            if getattr(event, "flow_style", False) and self.has_question_mark:
                raise _AskTheReference("PyYAML ends a plain scalar at '?' in [...] and {...}")
            return super().compose_node(parent, index)


class _AskTheReference(Exception):
    """The text is one libyaml may read differently; the reference parser decides."""


def compose(text: str, name: str) -> Composed:
    """Parse ``text`` into one node tree (None for an empty document); every YAML error
    becomes a ConfigError at ``name:line:col``."""
    if HAVE_LIBYAML and not _REFERENCE_ONLY.search(text):
        try:
            return _composed(_LibyamlLoader(text, name))
        except Exception:  # whatever it is, the reference parser reports it in its words
            pass
    return compose_reference(text, name)


def compose_reference(text: str, name: str) -> Composed:
    """``compose`` with PyYAML's pure-Python parser only."""
    try:
        loader = _ReferenceLoader(text, name)
    except yaml.reader.ReaderError as exc:
        raise ConfigError(_reader_message(exc), location=_text_location(name, text, exc.position)
                          ) from None
    try:
        return _composed(loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, name) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", location=Location(name, 1, 1)) from None


def _composed(loader: Any) -> Composed:
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    composed = Composed(root, loader.alias_uses, loader.nodes, loader.includes)
    if composed.aliases:
        check_alias_expansion(composed)
    return composed


def _reader_message(exc: yaml.reader.ReaderError) -> str:
    char = exc.character
    shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    return f"invalid YAML: character {shown} is not allowed in YAML text"


def _text_location(name: str, text: str, index: int) -> Location:
    line = text.count("\n", 0, index) + 1
    return Location(name, line, index - (text.rfind("\n", 0, index) + 1) + 1)


def _syntax_error(exc: yaml.MarkedYAMLError, name: str) -> ConfigError:
    problem = exc.problem or exc.context or "syntax error"
    context_mark = exc.context_mark
    if exc.context and exc.problem and context_mark is not None:
        if problem == "second occurrence":  # PyYAML's duplicate anchor reads backwards
            problem = exc.context.replace("; first occurrence", "") + " (first at line"
        else:
            problem += f" ({exc.context} at line"
        problem += f" {context_mark.line + 1})"
    mark = exc.problem_mark or context_mark
    location = to_mark(mark).location() if mark is not None else Location(name, 1, 1)
    return ConfigError(f"invalid YAML: {problem}", location=location)
