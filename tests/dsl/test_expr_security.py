"""The sandbox (reliability.md E1, E4, E6): escape payloads end in an ExpressionError, never a
value or an empty render; host objects are unreachable; the visible surface is pinned."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from digpy.dsl.expr.surface import surface
from digpy.dsl.template import evaluate_expression, render
from digpy.errors import ExpressionError, ExpressionSecurityError

DATA = Path(__file__).resolve().parents[1] / "data" / "expressions"
PAYLOADS = [json.loads(line) for line in
            (DATA / "security_payloads.jsonl").read_text(encoding="utf-8").split("\n") if line]
PARAMS: dict[str, Any] = {"x": {"a": 1}, "y": {"__class__": "data"}}


@pytest.mark.parametrize("payload", PAYLOADS, ids=[p["expression"][:50] for p in PAYLOADS])
def test_each_escape_payload_fails_with_its_error_class_and_never_renders(payload) -> None:
    with pytest.raises(ExpressionError) as info:
        render("${" + payload["expression"] + "}", PARAMS)
    assert info.value.js_class == payload["error"], payload["why"]


def test_the_escape_corpus_has_at_least_thirty_payloads_and_most_are_security_errors() -> None:
    assert len(PAYLOADS) >= 30
    assert sum(p["error"] == "SecurityError" for p in PAYLOADS) >= 30


def test_running_the_corpus_imports_nothing_creates_no_file_and_reads_no_env(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    render("${moment().format()} ${JSON.stringify(x)}", PARAMS)  # warm up lazy imports
    reads: list[str] = []

    class Watched(dict):  # type: ignore[type-arg]
        def __getitem__(self, key: str) -> Any:
            reads.append(key)
            return super().__getitem__(key)

        def get(self, key: str, default: Any = None) -> Any:
            reads.append(key)
            return super().get(key, default)

    monkeypatch.setattr(os, "environ", Watched(os.environ))
    monkeypatch.chdir(tmp_path)
    modules = set(sys.modules)
    for payload in PAYLOADS:
        with pytest.raises(ExpressionError):
            render("${" + payload["expression"] + "}", PARAMS)
    assert set(sys.modules) - modules == set()
    assert list(tmp_path.iterdir()) == []
    assert reads == []


class Host:
    secret = "s3cr3t"


@pytest.mark.parametrize("template", ["${h}", "${h.secret}", "${h['secret']}", "${h + ''}",
                                      "${JSON.stringify(h)}", "${[h].join()}", "${typeof h}"])
def test_a_host_object_in_params_is_unreachable(template: str) -> None:
    with pytest.raises(ExpressionSecurityError):
        render(template, {"h": Host()})


def test_evaluate_expression_refuses_a_host_object_as_its_result() -> None:
    with pytest.raises(ExpressionSecurityError):
        evaluate_expression("h", {"h": object()})


def test_a_data_key_named_like_an_escape_gadget_is_still_data() -> None:
    params = {"cfg": {"format": "csv", "constructor": "c", "prototype": "p", "mro": "m"}}
    assert render("${cfg.format} ${cfg.constructor} ${cfg.prototype} ${cfg.mro}", params) \
        == "csv c p m"
    assert render("${cfg.nope}|${x.format}|", {"cfg": {}, "x": {}}) == "||"


def test_security_errors_name_the_expression_and_say_what_was_refused() -> None:
    with pytest.raises(ExpressionSecurityError) as info:
        render("a ${''.constructor} b", {})
    assert str(info.value) == ("Failed to evaluate a variable ${''.constructor} (SecurityError: "
                               "property 'constructor' is not accessible from an expression)")


def test_the_names_and_members_visible_to_expressions_match_the_golden_list() -> None:
    golden = json.loads((DATA / "surface.json").read_text(encoding="utf-8"))
    assert surface() == golden


def test_no_jinja_or_python_builtin_is_a_global() -> None:
    names = set(surface()["globals"])
    assert not names & {"range", "lipsum", "cycler", "joiner", "namespace", "dict", "self",
                        "eval", "Function", "getattr", "__import__", "open", "require"}
