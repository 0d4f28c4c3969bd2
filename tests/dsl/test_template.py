"""The public template contract: render, evaluate_config (one pass in key order),
evaluate_expression, has_template, and the error messages users see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digpy.dsl.template import evaluate_config, evaluate_expression, has_template, render
from digpy.errors import ConfigError, ExpressionError

NOW = datetime(2016, 1, 30, 15, 4, 5, tzinfo=UTC)


# ----------------------------------------------------------------- render


def test_a_string_without_a_dollar_is_returned_as_is_even_with_double_dollars() -> None:
    assert render("a {x} b", {}) == "a {x} b"
    assert not has_template("a {x} b") and has_template("cost $5")


def test_double_dollars_collapse_only_in_literal_text() -> None:
    assert render("p$$s ${'$$'}", {}) == "p$s $$"


def test_secret_templates_pass_through_with_their_inner_expressions_evaluated() -> None:
    assert render("${secret:td.apikey} ${secret:${key}}", {"key": "pg.password"}) \
        == "${secret:td.apikey} ${secret:pg.password}"


def test_an_unclosed_expression_is_kept_literally() -> None:
    assert render("x ${a", {}) == "x ${a"


def test_braces_inside_an_expression_are_counted() -> None:
    assert render("${v.map(function(x){return x*5})}", {"v": [1, 2]}) == "[5,10]"


def test_null_and_undefined_render_empty_and_other_values_as_json() -> None:
    params = {"n": None, "o": {"a": [1, 2.5]}, "s": "t"}
    assert render("[${n}][${o.nope}][${o}][${s}]", params) == '[][][{"a":[1,2.5]}][t]'


def test_an_empty_expression_renders_nothing() -> None:
    assert render("a${}b", {}) == "ab"


def test_an_undefined_name_fails_with_digdags_message() -> None:
    with pytest.raises(ExpressionError) as info:
        render("echo ${nope}", {})
    assert info.value.js_class == "ReferenceError"
    assert info.value.code == "${nope}"
    assert str(info.value) == \
        "Failed to evaluate a variable ${nope} (ReferenceError: nope is not defined)"


def test_a_syntax_error_anywhere_fails_before_anything_is_evaluated() -> None:
    with pytest.raises(ExpressionError) as info:
        render("${nope} ${1 +}", {})
    assert info.value.js_class == "SyntaxError" and info.value.code == "${1 +}"


def test_an_unknown_timezone_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        render("${1}", {}, timezone="Mars/Olympus")


def test_moment_and_date_without_arguments_use_the_injected_now_in_the_workflow_zone() -> None:
    assert render("${moment().format()} ${Date.now()} ${new Date().getHours()}", {},
                  timezone="Asia/Tokyo", now=NOW) \
        == "2016-01-31T00:04:05+09:00 1454166245000 0"


def test_moment_parsing_defaults_missing_date_fields_to_today() -> None:
    assert render("${moment('10:30', 'HH:mm').format()}", {}, now=NOW) \
        == "2016-01-30T10:30:00+00:00"


def test_rendering_never_changes_the_params() -> None:
    params = {"nums": [3, 1, 2], "cfg": {"a": 1}}
    render("${nums.sort()} ${nums.reverse()} ${Object.keys(cfg)}", params)
    assert params == {"nums": [3, 1, 2], "cfg": {"a": 1}}


# --------------------------------------------------------- evaluate_expression


def test_evaluate_expression_returns_plain_python_data() -> None:
    value = evaluate_expression("{a: [1, 2.5, undefined, 'x'], b: 1 + 1, c: null, "
                                "d: moment(0), e: true}", {})
    assert value == {"a": [1, 2.5, None, "x"], "b": 2, "c": None,
                     "d": "1970-01-01T00:00:00.000Z", "e": True}
    assert isinstance(value["b"], int)


def test_evaluate_expression_reports_errors_with_the_expression_text() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate_expression("a.b.c", {"a": {}})
    assert info.value.js_class == "TypeError" and info.value.code == "${a.b.c}"


# ------------------------------------------------------------ evaluate_config


def test_config_keys_see_earlier_evaluated_siblings_in_one_pass() -> None:
    assert evaluate_config({"a": "${timezone}", "b": "${a}!"}, {"timezone": "UTC"}) \
        == {"a": "UTC", "b": "UTC!"}


def test_a_key_cannot_see_a_later_sibling() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate_config({"sh>": "echo ${v}", "v": "x"}, {})
    assert info.value.js_class == "ReferenceError"
    assert evaluate_config({"v": "x", "sh>": "echo ${v}"}, {}) == {"v": "x", "sh>": "echo x"}


def test_a_nested_map_sees_params_and_its_own_earlier_keys_but_not_the_outer_level() -> None:
    config = {"outer": "o", "m": {"a": "${p}", "b": "${a}-${p}"}}
    assert evaluate_config(config, {"p": "P"}) == {"outer": "o", "m": {"a": "P", "b": "P-P"}}
    with pytest.raises(ExpressionError):
        evaluate_config({"outer": "o", "m": {"x": "${outer}"}}, {})


def test_strings_in_a_list_see_the_level_that_holds_the_list() -> None:
    config = {"a": "A", "l": ["${a}", ["${a}"], {"x": "${p}"}], "n": 3, "b": True}
    assert evaluate_config(config, {"p": "P"}) == \
        {"a": "A", "l": ["A", ["A"], {"x": "P"}], "n": 3, "b": True}


def test_a_produced_value_is_never_evaluated_again() -> None:
    assert evaluate_config({"a": "${x}", "b": "${a}"}, {"x": "${nope}"}) \
        == {"a": "${nope}", "b": "${nope}"}


def test_values_under_raw_keys_are_untouched_at_any_level() -> None:
    config = {"_do": {"sh>": "${nope}"}, "g": {"_else_do": ["${nope}"], "_error": "${x}"}}
    assert evaluate_config(config, {}) == config
    assert evaluate_config({"_check": "${1}"}, {}, raw_keys=frozenset()) == {"_check": "1"}


def test_non_strings_pass_through_and_every_string_with_a_dollar_is_rendered() -> None:
    config = {"n": 1, "f": 1.5, "t": False, "s": "p$$s", "z": None, "d": "p$$s ${1}"}
    assert evaluate_config(config, {}) == {"n": 1, "f": 1.5, "t": False, "s": "p$s", "z": None,
                                           "d": "p$s 1"}


def test_config_evaluation_uses_the_given_zone_and_now_for_every_value() -> None:
    assert evaluate_config({"a": "${moment().format('HH:mm Z')}"}, {}, timezone="+05:30",
                           now=NOW) == {"a": "20:34 +05:30"}
