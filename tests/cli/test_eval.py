"""`digpy eval` end to end, in process: output, exit codes, -p params, --jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from digpy.cli import main
from digpy.cli.params import parse_params

DATA = Path(__file__).resolve().parents[1] / "data" / "expressions"


def test_eval_prints_the_rendered_template_with_session_variables_and_exits_0(capsys) -> None:
    code = main(["eval", "${session_date_compact} ${moment(session_time).add(1,'days')"
                 ".format('YYYYMMDD')} ${timezone}", "--session", "2016-01-30",
                 "--timezone", "Asia/Tokyo"])
    assert code == 0
    assert capsys.readouterr().out == "20160130 20160131 Asia/Tokyo\n"


def test_eval_params_are_strings_and_dotted_keys_nest(capsys) -> None:
    code = main(["eval", "${typeof n} ${td.last_results.cnt + 1}", "-p", "n=3",
                 "-p", "td.last_results.cnt=4"])
    assert code == 0
    assert capsys.readouterr().out == "string 41\n"


def test_eval_prints_a_failing_expression_on_stderr_and_exits_1(capsys) -> None:
    code = main(["eval", "echo ${nope}"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "Failed to evaluate a variable ${nope} (ReferenceError: nope is not defined)" \
        in captured.err


def test_eval_rejects_a_bad_session_time_or_zone_as_a_usage_error(capsys) -> None:
    assert main(["eval", "${1}", "--session", "30/01/2016"]) == 2
    assert main(["eval", "${1}", "--timezone", "Mars/Olympus"]) == 2
    assert "yyyy-MM-dd" in capsys.readouterr().err


def test_eval_warns_that_a_param_cannot_override_a_built_in(capsys) -> None:
    code = main(["eval", "${session_date}", "-p", "session_date=x", "--session", "2016-01-30"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == "2016-01-30\n"
    assert "session_date is ignored" in captured.err


def test_eval_jsonl_renders_every_shared_case_like_the_reference(capsys) -> None:
    source = DATA / "cases.jsonl"
    assert main(["eval", "--jsonl", str(source)]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    cases = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    assert len(results) == len(cases)
    for case, result in zip(cases, results, strict=True):
        if "error" in case:
            assert result["error"] == case["error"], case["template"]
            assert result["message"].startswith("Failed to evaluate a variable ${")
        else:
            assert result == {"rendered": case["expected"]}, case["template"]


def test_eval_jsonl_reports_a_malformed_line_with_its_number(tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"template": "${1}"}\n{"params": {}}\n', encoding="utf-8")
    assert main(["eval", "--jsonl", str(source)]) == 2
    captured = capsys.readouterr()
    assert captured.out == '{"rendered": "1"}\n'
    assert "line 2" in captured.err


def test_eval_needs_a_template_or_jsonl_but_not_both(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("", encoding="utf-8")
    assert main(["eval"]) == 2
    assert main(["eval", "${1}", "--jsonl", str(source)]) == 2


def test_params_parse_dotted_keys_and_continue_values_after_a_comma() -> None:
    assert parse_params(["a=1", "b.c=x", "b.d=y=z", "d=1,2", "a=3"]) == \
        {"a": "3", "b": {"c": "x", "d": "y=z"}, "d": "1,2"}


def test_params_split_at_commas_like_digdag_so_a_key_after_a_comma_is_a_new_param() -> None:
    assert parse_params(["a=1,b=2", "c=x,y,z", "d=p=q,r"]) == \
        {"a": "1", "b": "2", "c": "x,y,z", "d": "p=q,r"}


@pytest.mark.parametrize("items", [["a=1", "a.b=2"], ["a.b=2", "a=1"], ["x"], ["=1"],
                                   ["a..b=1"], ["a=1", "2"], ["x,a=1"], ["a=1,=2"]])
def test_params_reject_conflicts_and_malformed_items(items: list[str]) -> None:
    with pytest.raises(click.BadParameter):
        parse_params(items)
