"""The expression tree the parser builds (ES5 expressions only: no statements except a
function body's single ``return``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Node:
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Const(Node):
    """A number, string, ``true``/``false`` or ``null`` literal."""

    value: Any


@dataclass(frozen=True, slots=True)
class Regex(Node):
    source: str
    flags: str


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class ArrayLit(Node):
    items: tuple[Node | None, ...]  # None is an elision: [1,,2]


@dataclass(frozen=True, slots=True)
class ObjectLit(Node):
    props: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``obj.key`` (``computed`` False, key is a Const str) or ``obj[key]``."""

    obj: Node
    key: Node
    computed: bool


@dataclass(frozen=True, slots=True)
class Call(Node):
    callee: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class New(Node):
    callee: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # ! - + ~ typeof void
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    op: str  # && ||
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Cond(Node):
    test: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class Seq(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Func(Node):
    name: str | None
    params: tuple[str, ...]
    body: Node | None  # the returned expression; None returns undefined


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-expressions (for depth checks and walks)."""
    if isinstance(node, ArrayLit):
        return tuple(n for n in node.items if n is not None)
    if isinstance(node, ObjectLit):
        return tuple(v for _, v in node.props)
    if isinstance(node, Member):
        return (node.obj, node.key)
    if isinstance(node, (Call, New)):
        return (node.callee, *node.args)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, (Binary, Logical)):
        return (node.left, node.right)
    if isinstance(node, Cond):
        return (node.test, node.then, node.other)
    if isinstance(node, Seq):
        return node.items
    if isinstance(node, Func):
        return () if node.body is None else (node.body,)
    return ()


def describe(node: Node) -> str:
    """Short source-like text for error messages: ``name.toUpperCase``, ``cfg[...]``."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Member):
        base = describe(node.obj)
        if not node.computed and isinstance(node.key, Const):
            return f"{base}.{node.key.value}"
        return f"{base}[...]"
    if isinstance(node, Call):
        return describe(node.callee) + "(...)"
    return "expression"
