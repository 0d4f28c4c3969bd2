"""Block-style YAML text from the random trees the DSL fuzz tests generate."""

from __future__ import annotations


def render_tree(node: object, indent: int = 0) -> str:
    """A list of (key, value) pairs is a mapping (repeated keys kept), any other list a
    sequence, a string is written as it is."""
    pad = " " * indent
    if isinstance(node, str):
        return node
    if isinstance(node, list) and node and all(isinstance(p, tuple) for p in node):
        return "".join(f"\n{pad}{key}: {render_tree(value, indent + 2)}" for key, value in node)
    if isinstance(node, list):
        return "".join(f"\n{pad}- {render_tree(item, indent + 2)}" for item in node) or "[]"
    return str(node)
