"""Resource limits (reliability.md E2): each payload stops with ExpressionLimitError within
2 s and 256 MB, and ordinary large-but-legitimate expressions still work."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from digpy.dsl.template import render
from digpy.errors import ExpressionLimitError

DATA = Path(__file__).resolve().parents[1] / "data" / "expressions"
PAYLOADS = [json.loads(line) for line in
            (DATA / "resource_payloads.jsonl").read_text(encoding="utf-8").split("\n") if line]


def build(payload: dict[str, Any]) -> str:
    if "template" in payload:
        return str(payload["template"])
    if payload["generate"] == "nest":
        n = payload["times"]
        return "${" + payload["open"] * n + payload["inner"] + payload["close"] * n + "}"
    return (payload["text"] * payload["times"] + payload["tail"] * payload.get("tail_times", 1)
            + payload.get("end", ""))


@pytest.mark.parametrize("payload", PAYLOADS, ids=[p["name"] for p in PAYLOADS])
def test_each_resource_payload_stops_with_a_limit_error_in_2s_and_256mb(payload) -> None:
    template = build(payload)
    # Time and memory are measured in separate runs: tracemalloc slows allocation-heavy
    # code several times over, which would measure the tracer rather than the limit.
    started = time.perf_counter()
    with pytest.raises(ExpressionLimitError):
        render(template, {})
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionLimitError):
            render(template, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 256 * 1024 * 1024


def test_limit_errors_are_range_errors_that_name_the_expression() -> None:
    with pytest.raises(ExpressionLimitError) as info:
        render("${'a'.repeat(1e9)}", {})
    assert info.value.js_class == "RangeError"
    assert info.value.code == "${'a'.repeat(1e9)}"


def test_a_long_concatenation_chain_of_150_terms_still_renders() -> None:
    expr = " + ".join(f"p{i}" for i in range(150))
    params = {f"p{i}": "x" for i in range(150)}
    assert render("${" + expr + "}", params) == "x" * 150


def test_a_big_but_reasonable_param_string_passes_through() -> None:
    content = "y" * 3_000_000
    assert len(render("${http.last_content}", {"http": {"last_content": content}})) == 3_000_000


def test_a_map_over_ten_thousand_items_finishes_within_the_time_budget() -> None:
    assert render("${Array(10001).join(',').split(',').map(function(x, i){ return i }).length}",
                  {}) == "10001"
