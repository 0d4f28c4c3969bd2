"""for_each>: run ``_do`` once per combination of values, exporting each key with its value.

``for_each>: {fruit: [apple, orange], verb: [eat, throw]}`` generates the cartesian product
in key order (the first key varies slowest), named as Digdag names them:
``+for-0=fruit=0=apple&1=verb=0=eat``: for each key, ``<key index>=<key>=<value index>=
<value>``, joined by ``&``, with every key and value cut to 8 characters and URL-encoded
(Digdag ``ForEachOperatorFactory``). The mapping and each list may be JSON text, which is
what ``${...}`` produces; values may be objects.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from digpy.spi import Operator, TaskResult
from digpy.spi.workflows import (
    check_generated_count,
    generated_tasks,
    list_option,
    mapping_option,
    subtask_template,
    with_export,
)

NAME_TAG_UNITS = 8  # Digdag cuts each key and value to 8 (UTF-16) characters
# java.net.URLEncoder leaves exactly these unescaped (and turns " " into "+", which Digdag
# then replaces with "%20" because "+" starts a task name).
_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


class ForEachOperator(Operator):
    type = "for_each"
    retryable = False  # Digdag's for_each> ignores an operator-level _retry

    def run(self) -> TaskResult:
        config = self.request.config
        template = subtask_template(config, "_do")
        variables = mapping_option(config, "_command")
        entries = {str(key): list_option(variables, key) for key in variables}
        check_generated_count(_product_size(entries.values()), "for_each")
        tasks: dict[str, Any] = {}
        # No keys means no combinations (itertools.product would give one empty one).
        lists = [list(enumerate(values)) for values in entries.values()] if entries else [[]]
        for combination in itertools.product(*lists):
            chosen = list(zip(entries, combination, strict=True))
            export = {key: value for key, (_, value) in chosen}
            tasks[task_name(chosen)] = with_export(template, export)
        return TaskResult(subtask_config=generated_tasks(tasks, config))


def _product_size(lists: Any) -> int:
    size = 1
    for values in lists:
        size *= len(values)
        check_generated_count(size, "for_each")  # stop multiplying once it is absurd
    return size


def task_name(chosen: Sequence[tuple[str, tuple[int, Any]]]) -> str:
    """``+for-0=fruit=1=orange&1=verb=0=eat`` for ``[(fruit, (1, orange)), (verb, (0, eat))]``."""
    parts = [f"{key_index}={name_tag(key)}={value_index}={name_tag(value)}"
             for key_index, (key, (value_index, value)) in enumerate(chosen)]
    return "+for-" + "&".join(parts)


def name_tag(value: Any) -> str:
    """A key or value as it appears in a task name: text as is, anything else as compact
    JSON, cut to 8 UTF-16 units and URL-encoded like java.net.URLEncoder (space -> %20)."""
    text = value if isinstance(value, str) else _compact_json(value)
    return _url_encode(_java_prefix(text, NAME_TAG_UNITS))


def _compact_json(value: Any) -> str:
    if isinstance(value, Mapping):
        value = dict(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _java_prefix(text: str, units: int) -> str:
    """``text.substring(0, units)`` in Java: UTF-16 code units, so a character outside the
    BMP may be cut in half, leaving a lone surrogate."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    if len(encoded) <= units * 2:
        return text
    return encoded[: units * 2].decode("utf-16-le", "surrogatepass")


def _url_encode(text: str) -> str:
    out = []
    for char in text:
        if char in _URL_SAFE:
            out.append(char)
        elif char == " ":
            out.append("%20")
        elif "\ud800" <= char <= "\udfff":
            out.append("%3F")  # URLEncoder writes a lone surrogate as "?"
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)
