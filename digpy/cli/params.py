"""``-p KEY=VALUE`` session params (spec §2.5), as Digdag's ``ParameterValidator`` reads
them: values are strings and dotted keys nest. Every ``-p`` must contain ``=``; like
JCommander, each is split at commas, and a piece without ``=`` continues the value before
it, so ``-p a=1,2`` is ``a = "1,2"`` while ``-p a=1,b=2`` sets two params."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click


def _split(items: Sequence[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. -p target=prod)",
                                     param_hint="-p")
        for piece in item.split(","):
            if "=" not in piece:
                if not pairs:
                    raise click.BadParameter(f"{item!r} does not start with KEY=VALUE",
                                             param_hint="-p")
                key, value = pairs[-1]
                pairs[-1] = (key, f"{value},{piece}")
                continue
            pairs.append(_pair(piece, item))
    return pairs


def _pair(piece: str, item: str) -> tuple[str, str]:
    key, value = piece.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise click.BadParameter(f"{item!r} has an empty key or key segment", param_hint="-p")
    return key, value


def _put(params: dict[str, Any], key: str, value: str) -> None:
    *parents, leaf = key.split(".")
    node = params
    for i, part in enumerate(parents):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            owner = ".".join(parents[:i + 1])
            raise click.BadParameter(f"{owner} is set to a value and {key} treats it as a map; "
                                     "use one or the other", param_hint="-p")
        node = child
    if isinstance(node.get(leaf), dict):
        raise click.BadParameter(f"{key} is set to a value but other -p keys nest under it "
                                 f"({key}.…); use one or the other", param_hint="-p")
    node[leaf] = value


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``["a=1", "b.c=x", "d=1,2", "e=1,f=2"]`` ->
    ``{"a": "1", "b": {"c": "x"}, "d": "1,2", "e": "1", "f": "2"}``. A repeated key keeps
    its last value."""
    params: dict[str, Any] = {}
    for key, value in _split(items):
        _put(params, key, value)
    return params
