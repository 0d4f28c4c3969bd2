"""The Jinja2-sandbox backend (kept for measurement, see docs/expressions.md) agrees with the
closure compiler on every reference case, and runs with an allow-listed environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from digpy.dsl import template
from digpy.dsl.expr.jinja_backend import ENVIRONMENT, HELPERS, compile_jinja, to_jinja
from digpy.errors import ExpressionError

DATA = Path(__file__).resolve().parents[1] / "data" / "expressions"


def cases() -> list[Any]:
    lines = (DATA / "cases.jsonl").read_text(encoding="utf-8").split("\n")
    lines += (DATA / "more_cases.jsonl").read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line]


@pytest.fixture
def jinja_backend(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(template, "compile_expression", compile_jinja)
    template._scan.cache_clear()
    yield
    template._scan.cache_clear()


def test_the_jinja_backend_renders_every_reference_case_like_the_direct_one(jinja_backend) -> None:
    for case in cases():
        try:
            got = template.render(case["template"], case["params"], timezone=case["timezone"])
        except ExpressionError as exc:
            assert exc.js_class == case.get("error"), case["template"]
        else:
            assert got == case.get("expected"), case["template"]


def test_the_jinja_environment_has_only_the_helpers_and_no_filters_or_tests() -> None:
    assert set(ENVIRONMENT.globals) - set(HELPERS) == set()
    assert not {"range", "lipsum", "cycler", "joiner", "namespace", "dict"} & \
        set(ENVIRONMENT.globals)
    assert dict(ENVIRONMENT.filters) == {} and dict(ENVIRONMENT.tests) == {}


def test_every_js_operation_becomes_a_helper_call_with_escaped_literals() -> None:
    assert to_jinja("a.b + 'x'") == \
        "js_add(js_get(js_name(C, '\\U00000061'), '\\U00000062'), '\\U00000078')"
