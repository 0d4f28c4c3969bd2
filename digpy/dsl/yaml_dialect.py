"""Digdag's YAML dialect on top of PyYAML.

Digdag reads ``.dig`` files with snakeyaml (a Java port of PyYAML's parser) plus its own
resolver (``YamlTagResolver``) and a strict constructor (``StrictSafeConstructor``). This
module reproduces the resolver and the scalar constructors, and the composer that builds
node trees under hard limits so that hostile input fails fast with a location instead of a
RecursionError. Which parser feeds the composer is ``yaml_compose``'s business; building
``ConfigMap``s from the nodes (and ``!include``) lives in ``yaml_build``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.resolver import BaseResolver

from digpy.dsl.source import Mark
from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError, Location

# Limits. A 1,000-task workflow (Digdag's cap on tasks per attempt) is ~80 KB, ~10,000 values
# and under 10 levels deep, so each limit leaves 20x headroom. They are also what bounds the
# cost of hostile input: the pure-Python parser reads ~0.2 MB/s (libyaml feeding the Python
# composer ~1 MB/s), so a file at the size limit parses in ~10 s (~2 s), and anything larger,
# deeper or more aliased fails in well under a second.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 100
MAX_NODES = 200_000  # per file, and for the whole tree with includes and alias copies
MAX_ALIAS_EXPANSION = 100_000

_YAML = "tag:yaml.org,2002:"
STR_TAG = _YAML + "str"
INT_TAG = _YAML + "int"
FLOAT_TAG = _YAML + "float"
BOOL_TAG = _YAML + "bool"
NULL_TAG = _YAML + "null"
MERGE_TAG = _YAML + "merge"
SEQ_TAG = _YAML + "seq"
MAP_TAG = _YAML + "map"
INCLUDE_TAG = "!include"

# Digdag's YamlTagResolver patterns, in snakeyaml's resolution order (int before float,
# because the float pattern also matches plain integers). No timestamp, no sexagesimal int.
_IMPLICIT: tuple[tuple[str, re.Pattern[str]], ...] = (
    (BOOL_TAG, re.compile(r"[Tt]rue|[Ff]alse")),
    (INT_TAG, re.compile(
        r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
        r"|[-+]?[1-9][0-9_]*")),
    (FLOAT_TAG, re.compile(
        r"[-+]?(?:\.[0-9]+|[1-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")),
    (MERGE_TAG, re.compile(r"<<")),
    (NULL_TAG, re.compile(r"~|null|Null|NULL|")),
)
_DEFAULT_TAGS = {ScalarNode: STR_TAG, SequenceNode: SEQ_TAG, MappingNode: MAP_TAG}
_YAML11_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True,
                 "off": False}
_DIGITS = {2: re.compile(r"[01]+"), 8: re.compile(r"[0-7]+"), 10: re.compile(r"[0-9]+"),
           16: re.compile(r"[0-9a-fA-F]+")}
_SURROGATE = re.compile("[\ud800-\udfff]")
_JAVA_DECIMAL = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def to_mark(mark: yaml.Mark) -> Mark:
    return Mark(mark.name, mark.line + 1, mark.column + 1)


def node_location(node: Node) -> Location:
    return to_mark(node.start_mark).location()


def show_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


class DigdagResolver(BaseResolver):
    """Implicit typing of plain scalars exactly as Digdag's ``YamlTagResolver``."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            for tag, pattern in _IMPLICIT:
                if pattern.fullmatch(value):
                    return tag
        return _DEFAULT_TAGS.get(kind, STR_TAG)


@dataclass
class Composed:
    """One file's node tree plus where each alias was used (for the expansion check)."""

    root: Node | None
    aliases: list[tuple[yaml.Mark, Node]]
    nodes: int  # composed nodes, aliases not counted (the loader's size when nothing expands)
    includes: bool  # some node is tagged !include


class LimitedComposer(Composer):
    """PyYAML's composer with a depth and node budget: composing is recursive, so the
    depth cap is what keeps 10,000 nested ``[`` from becoming a RecursionError."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.nodes = 0
        self.includes = False
        self.alias_uses: list[tuple[yaml.Mark, Node]] = []

    def _next_mark(self) -> yaml.Mark:
        # The event methods come from the parser (PyYAML's Parser or libyaml's CParser), a
        # sibling base of the final loader class.
        return cast(Parser, self).peek_event().start_mark

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if cast(Parser, self).check_event(AliasEvent):
            mark = self._next_mark()
            node = super().compose_node(parent, index)
            if node is not None:
                self.alias_uses.append((mark, node))
            return node
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ConfigError(f"too many values: the limit is {MAX_NODES:,} per file",
                              location=to_mark(self._next_mark()).location())
        node = super().compose_node(parent, index)
        if node is not None and node.tag == INCLUDE_TAG:
            self.includes = True
        return node

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        node = super().compose_scalar_node(anchor)
        if node.style == '"' and _SURROGATE.search(node.value):
            node.value = _join_surrogates(node)
        return node

    def compose_sequence_node(self, anchor: Any) -> SequenceNode:
        self._enter()
        try:
            return super().compose_sequence_node(anchor)
        finally:
            self.depth -= 1

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        self._enter()
        try:
            return super().compose_mapping_node(anchor)
        finally:
            self.depth -= 1

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConfigError(depth_message(), location=to_mark(self._next_mark()).location())


def _join_surrogates(node: ScalarNode) -> str:
    """``"\\ud83d\\ude00"`` is one character to Java but two lone surrogates to PyYAML; pair
    them as snakeyaml does, and refuse a lone one (it can't be stored as UTF-8)."""
    try:
        return str(node.value.encode("utf-16", "surrogatepass").decode("utf-16"))
    except UnicodeDecodeError:
        raise ConfigError("a \\u escape is half of a surrogate pair",
                          location=node_location(node)) from None


def depth_message() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def check_alias_expansion(composed: Composed) -> None:
    """Reject alias bombs and self-referencing aliases before anything is built."""
    sizes: dict[int, int] = {}
    copied = 0
    for mark, target in composed.aliases:
        copied += expanded_size(target, sizes, cycle_mark=mark)
        if copied > MAX_ALIAS_EXPANSION:
            raise ConfigError(
                f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values (alias bomb?)",
                location=to_mark(mark).location())


def expanded_size(
    root: Node,
    sizes: dict[int, int],
    *,
    cycle_mark: yaml.Mark | None = None,
    children: Callable[[Node], list[Node]] | None = None,
    leaf: Callable[[Node], int | None] | None = None,
) -> int:
    """How many values ``root`` stands for once every alias is a copy (capped just above
    MAX_NODES). Sizes are memoised per node in ``sizes``, so a bomb costs one pass over its
    distinct nodes. Iterative because alias chains can be long. ``leaf`` may give a node's
    size outright (an ``!include``); ``children`` may replace how collections are opened."""
    children = children or node_children
    in_progress: set[int] = set()
    stack: list[tuple[Node, list[Node] | None]] = [(root, None)]
    while stack:
        node, kids = stack.pop()
        if id(node) in sizes:
            continue
        if kids is not None:
            in_progress.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in kids), MAX_NODES + 1)
            continue
        given = leaf(node) if leaf is not None else None
        if given is not None:
            sizes[id(node)] = min(given, MAX_NODES + 1)
            continue
        if id(node) in in_progress:
            raise ConfigError("an alias refers to a collection that contains it",
                              location=to_mark(cycle_mark or node.start_mark).location())
        in_progress.add(id(node))
        kids = children(node)
        stack.append((node, kids))
        stack.extend((c, None) for c in kids if id(c) not in sizes)
    return sizes[id(root)]


def node_children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def scalar_value(node: ScalarNode) -> Any:
    """The value of a scalar node, as Digdag's snakeyaml + Jackson round trip yields it."""
    tag, text = node.tag, node.value
    if tag == STR_TAG:
        return text
    if tag == NULL_TAG:
        return None
    if tag == BOOL_TAG:
        if text.lower() in _YAML11_BOOLS:
            return _YAML11_BOOLS[text.lower()]
    elif tag == INT_TAG:
        number = java_int(text)
        if number is not None:
            return number
    elif tag == FLOAT_TAG:
        real = java_float(text)
        if real is not None:
            return json_double(real)
    else:
        raise unknown_tag(node)
    raise ConfigError(f"{text!r} is not a valid {show_tag(tag)}", location=node_location(node))


def unknown_tag(node: Node) -> ConfigError:
    shown = show_tag(node.tag)
    message = f"tag {shown} is not allowed"
    if node.tag.startswith(_YAML + "python/"):
        message += " (digpy never builds Python objects from YAML)"
    elif node.tag.startswith(INCLUDE_TAG):
        message += " (an include key is written `!include : 'file'`, with a space before ':')"
    return ConfigError(message, location=node_location(node),
                       suggestions=did_you_mean(shown, [INCLUDE_TAG]))


def java_int(text: str) -> int | None:
    """snakeyaml's ConstructYamlInt: ``_`` ignored, 0b/0x/0-octal, and ``a:b`` base 60
    (reachable only through an explicit ``!!int``)."""
    value = text.replace("_", "")
    sign = -1 if value.startswith("-") else 1
    value = value[1:] if value[:1] in ("-", "+") and value else value
    if value == "0":
        return 0
    if ":" in value:
        parts = value.split(":")
        if not all(_DIGITS[10].fullmatch(p) for p in parts):
            return None
        return sign * sum(int(p) * 60**i for i, p in enumerate(reversed(parts)))
    base, digits = 10, value
    for prefix, prefix_base in (("0b", 2), ("0x", 16), ("0", 8)):
        if value.startswith(prefix):
            base, digits = prefix_base, value[len(prefix):]
            break
    if not _DIGITS[base].fullmatch(digits):
        return None
    return sign * int(digits, base)


def java_float(text: str) -> float | None:
    """snakeyaml's ConstructYamlFloat (``.inf``, ``.nan``, base 60 with ``:``)."""
    value = text.replace("_", "")
    sign = -1.0 if value.startswith("-") else 1.0
    value = value[1:] if value[:1] in ("-", "+") and value else value
    if value.lower() == ".inf":
        return sign * math.inf
    if value.lower() == ".nan":
        return math.nan
    parts = value.split(":")
    if not all(_JAVA_DECIMAL.fullmatch(p) for p in parts):
        return None
    return sign * sum(float(p) * 60.0**i for i, p in enumerate(reversed(parts)))


def json_double(value: float) -> float | str:
    """Jackson writes non-finite doubles as quoted strings, so Digdag ends up with text."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def java_double_text(value: float) -> str:
    """``Double.toString``: how a float mapping key reads once Digdag has made it a string."""
    if math.isnan(value) or math.isinf(value):
        return str(json_double(value))
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    from decimal import Decimal  # only float mapping keys need it; most runs never do

    sign = "-" if value < 0 else ""
    exact = Decimal(repr(abs(value))).normalize()
    if 1e-3 <= abs(value) < 1e7:
        text = format(exact, "f")
        return sign + (text if "." in text else text + ".0")
    digits = "".join(map(str, exact.as_tuple().digits))
    exponent = len(digits) - 1 + int(exact.as_tuple().exponent)
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"
