"""Node trees -> ``ConfigMap``/``ConfigList`` with marks, the way Digdag builds them.

Digdag constructs snakeyaml objects (``StrictSafeConstructor`` rejects repeated keys, merge
keys ``<<`` are flattened), round-trips them through Jackson (so aliases become copies and
keys become strings), then resolves ``!include`` (``YamlConfigLoader``). This module does all
of that in one pass; reading and locating included files is the caller's ``IncludeFn``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from digpy.dsl.source import ConfigList, ConfigMap, Mark
from digpy.dsl.yaml_dialect import (
    INCLUDE_TAG,
    MAP_TAG,
    MAX_DEPTH,
    MAX_NODES,
    MERGE_TAG,
    SEQ_TAG,
    depth_message,
    expanded_size,
    java_double_text,
    node_children,
    node_location,
    scalar_value,
    to_mark,
    unknown_tag,
)
from digpy.errors import ConfigError

# (path node, depth of the mapping that receives the file) -> the included mapping
IncludeFn = Callable[[ScalarNode, int], ConfigMap]

# A mapping entry after merge keys are flattened; ``explicit`` is False for entries copied
# in through ``<<`` (those may be overridden, explicit ones may not repeat).
_Pair = tuple[Node, Node, bool]


@dataclass
class Budget:
    """Values built so far across one load, includes and alias copies included."""

    nodes: int = 0


class TreeBuilder:
    """Builds one file's nodes. ``include`` is None where no folder is known."""

    def __init__(self, include: IncludeFn | None, budget: Budget) -> None:
        self._include_fn = include
        self._budget = budget

    def build(self, node: Node, depth: int) -> Any:
        self._budget.nodes += 1
        if self._budget.nodes > MAX_NODES:
            raise ConfigError(f"too many values: the limit is {MAX_NODES:,} including "
                              "!include files and alias copies", location=node_location(node))
        if node.tag == INCLUDE_TAG:
            return self.include(node, depth)
        if isinstance(node, ScalarNode):
            return scalar_value(node)
        if isinstance(node, SequenceNode):
            return self._sequence(node, depth)
        return self.mapping(cast(MappingNode, node), depth)

    def include(self, path_node: Node, depth: int) -> ConfigMap:
        if not isinstance(path_node, ScalarNode):
            raise ConfigError("!include takes a file path, e.g. `!include : 'common.dig'`",
                              location=node_location(path_node))
        if self._include_fn is None:
            raise ConfigError("!include needs a folder to read from; this text has none",
                              location=node_location(path_node))
        return self._include_fn(path_node, depth)

    def mapping(self, node: MappingNode, depth: int) -> ConfigMap:
        _check_collection(node, MAP_TAG, depth)
        out = ConfigMap()
        out.mark = to_mark(node.start_mark)
        seen: dict[str, Mark] = {}
        for key_node, value_node, explicit in effective_pairs(node):
            if isinstance(key_node, ScalarNode) and key_node.tag == INCLUDE_TAG:
                merge_into(out, self.include(value_node, depth))
                continue
            key = key_text(key_node)
            key_mark = to_mark(key_node.start_mark)
            if explicit:
                _check_unique(seen, key, key_mark)
            out[key] = self.build(value_node, depth + 1)
            out.key_marks[key] = key_mark
            out.value_marks[key] = to_mark(value_node.start_mark)
        return out

    def _sequence(self, node: SequenceNode, depth: int) -> ConfigList:
        _check_collection(node, SEQ_TAG, depth)
        out = ConfigList()
        out.mark = to_mark(node.start_mark)
        for item in node.value:
            out.append(self.build(item, depth + 1))
            out.marks.append(to_mark(item.start_mark))
        return out


def size_with_includes(root: Node, include_size: Callable[[ScalarNode], int]) -> int:
    """The number of values building ``root`` would make, aliases and includes expanded.
    ``include_size`` is given the path node of each ``!include`` (key or value form)."""
    # include key node -> its path node, or None when the builder will reject the path
    paths: dict[int, ScalarNode | None] = {}

    def children(node: Node) -> list[Node]:
        if not isinstance(node, MappingNode):
            return node_children(node)
        kids: list[Node] = []
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag == INCLUDE_TAG:
                paths[id(key)] = value if isinstance(value, ScalarNode) else None
                kids.append(key)
            else:
                kids += (key, value)
        return kids

    def leaf(node: Node) -> int | None:
        if node.tag != INCLUDE_TAG or not isinstance(node, ScalarNode):
            return None
        path = paths.get(id(node), node)
        return 1 if path is None else include_size(path)

    return expanded_size(root, {}, children=children, leaf=leaf)


def _check_collection(node: Node, tag: str, depth: int) -> None:
    if node.tag != tag:
        raise unknown_tag(node)
    if depth > MAX_DEPTH:
        raise ConfigError(depth_message(), location=node_location(node))


def _check_unique(seen: dict[str, Mark], key: str, mark: Mark) -> None:
    first = seen.setdefault(key, mark)
    if first is not mark:
        raise ConfigError(
            f"duplicate key {key!r}: first at line {first.line}, again at line {mark.line}",
            location=mark.location())


def key_text(node: Node) -> str:
    """A mapping key as Digdag sees it after Jackson has turned it into a JSON name."""
    if not isinstance(node, ScalarNode):
        raise ConfigError("a mapping key must be a plain value, not a list or a mapping",
                          location=node_location(node))
    value = scalar_value(node)
    if value is None:
        raise ConfigError("a mapping key can't be empty or null (for an include, write "
                          "`!include : 'file'` with a space before ':')",
                          location=node_location(node))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_text(value)
    return str(value)


def effective_pairs(node: MappingNode, merge_depth: int = 0) -> list[_Pair]:
    """The mapping's entries with ``<<`` merge keys flattened as snakeyaml does: merged
    entries first (earlier sources winning), then the mapping's own."""
    merged: list[_Pair] = []
    own: list[_Pair] = []
    merge_mark: Mark | None = None
    for key, value in node.value:
        if key.tag != MERGE_TAG:
            own.append((key, value, True))
            continue
        mark = to_mark(key.start_mark)
        if merge_mark is not None:  # StrictSafeConstructor counts '<<' like any other key
            _check_unique({"<<": merge_mark}, "<<", mark)
        merge_mark = mark
        merged.extend(_merge_source(value, merge_depth))
    return merged + own


def _merge_source(value: Node, merge_depth: int) -> list[_Pair]:
    if merge_depth >= MAX_DEPTH:
        raise ConfigError(depth_message(), location=node_location(value))
    if isinstance(value, MappingNode):
        return [(k, v, False) for k, v, _ in effective_pairs(value, merge_depth + 1)]
    if isinstance(value, SequenceNode):
        pairs: list[_Pair] = []
        for source in reversed(value.value):
            if not isinstance(source, MappingNode):
                break
            pairs.extend(_merge_source(source, merge_depth))
        else:
            return pairs
    raise ConfigError("a merge key '<<' takes a mapping or a list of mappings",
                      location=node_location(value))


def merge_into(dest: ConfigMap, src: ConfigMap) -> None:
    """Digdag's include merge: nested mappings merge recursively, anything else replaces
    (keeping the key's first position, as Jackson's ObjectNode does)."""
    for key, value in src.items():
        old = dest.get(key)
        if isinstance(old, ConfigMap) and isinstance(value, ConfigMap):
            merge_into(old, value)
            continue
        dest[key] = value
        for marks, source in ((dest.key_marks, src.key_marks),
                              (dest.value_marks, src.value_marks)):
            if key in source:
                marks[key] = source[key]
            else:
                marks.pop(key, None)
