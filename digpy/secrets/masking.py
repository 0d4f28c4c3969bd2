"""Value-based masking: every secret value read during a run is replaced by ``***`` in
task logs and console output (Airflow-style; Digdag has none).

Masking works on whole spans, not on a regex alternation: when two secrets overlap
("abcd" and "cdef" in "abcdef") the union of both spans is masked, so no fragment of either
value leaks. A multi-line secret is also registered line by line, because logs are written
line by line and the whole value never appears in one write.
"""

from __future__ import annotations

import json
import threading

MASK = "***"
# Lines of a multi-line secret shorter than this are not masked on their own: a lone "}"
# or "--" from a PEM or JSON key would blank out unrelated log text and carries no secret.
MIN_LINE_CHARS = 4


class Masker:
    """Thread-safe set of secret values and the function that hides them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()

    def add(self, value: str) -> None:
        """Register ``value`` (any non-empty string) and the forms it is printed in."""
        forms = _printed_forms(value)
        if not forms:
            return
        with self._lock:
            self._values = self._values | forms

    def mask(self, text: str) -> str:
        """``text`` with every occurrence of every registered value replaced by ``***``."""
        values = self._values  # an immutable snapshot; add() swaps it atomically
        if not values or not text:
            return text
        spans = _merge(_occurrences(text, values))
        if not spans:
            return text
        return _replace(text, spans)

    def __len__(self) -> int:
        return len(self._values)


def _printed_forms(value: str) -> frozenset[str]:
    if not value:
        return frozenset()
    forms = {value}
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]  # how it looks inside JSON
    if escaped != value:
        forms.add(escaped)
    if "\n" in value or "\r" in value:
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= MIN_LINE_CHARS:
                forms.add(line)
    return frozenset(forms)


def _occurrences(text: str, values: frozenset[str]) -> list[tuple[int, int]]:
    """Every (start, end) of every value, overlapping occurrences included."""
    spans: list[tuple[int, int]] = []
    for value in values:
        start = text.find(value)
        while start != -1:
            spans.append((start, start + len(value)))
            start = text.find(value, start + 1)
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    cursor = 0
    for start, end in spans:
        parts.append(text[cursor:start])
        parts.append(MASK)
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)
