"""Data-driven ``${...}`` cases: each line renders to ``expected`` or fails with the
JavaScript error class in ``error``.

- ``cases.jsonl``: the project's reference cases (copied verbatim from shared/expressions).
- ``more_cases.jsonl``: expected values produced by Node.js with moment 2.21.0 and
  Digdag's template function, covering numbers, coercions, strings, arrays, regexes, JSON,
  moment across DST, and errors.
- ``digpy_cases.jsonl``: where digpy deliberately differs from (or extends) Digdag; each
  line says why (see docs/expressions.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from digpy.dsl.template import render
from digpy.errors import ExpressionError

DATA = Path(__file__).resolve().parents[1] / "data" / "expressions"


def load(name: str) -> list[Any]:
    lines = (DATA / name).read_text(encoding="utf-8").split("\n")  # not splitlines: U+2028 is data
    return [pytest.param(json.loads(line), id=f"{name}:{i}") for i, line in
            enumerate(lines, start=1) if line.strip()]


CASES = load("cases.jsonl") + load("more_cases.jsonl") + load("digpy_cases.jsonl")


@pytest.mark.parametrize("case", CASES)
def test_each_case_renders_the_expected_text_or_fails_with_the_expected_js_error(case) -> None:
    if "error" in case:
        with pytest.raises(ExpressionError) as info:
            render(case["template"], case["params"], timezone=case["timezone"])
        assert info.value.js_class == case["error"]
    else:
        assert render(case["template"], case["params"], timezone=case["timezone"]) \
            == case["expected"]


def test_the_shared_reference_cases_are_copied_verbatim() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "expressions" / "cases.jsonl"
    if not shared.exists():
        pytest.skip("shared/expressions is not beside this checkout")
    assert (DATA / "cases.jsonl").read_bytes() == shared.read_bytes()
