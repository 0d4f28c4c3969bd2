"""`digpy check` end to end, in process: exit codes, the tree, schedules, errors, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digpy.cli import main

REPO = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_prints_the_task_tree_of_a_valid_project_and_exits_0(capsys) -> None:
    code = main(["check", str(REPO / "examples" / "hello")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Workflow hello" in out
    assert "+say_hello  echo>" in out
    assert "Exports: greeting=Hello" in out
    assert "1 workflow(s) valid." in out


def test_check_lists_every_error_with_its_location_and_exits_1(tmp_path: Path, capsys) -> None:
    write(tmp_path, "one.dig", "+a:\n  sh>: echo a\n  +b:\n    echo>: b\n")
    write(tmp_path, "two.dig", "timezone: UTC\nschedul:\n  daily>: 07:00:00\n+a:\n  echo>: a\n")
    code = main(["check", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "one.dig:" in err and "subtasks" in err
    assert "two.dig:2" in err and "schedule" in err  # did-you-mean for the misspelt key
    assert "2 error(s)." in err


def test_check_shows_the_first_session_and_the_next_three_runs(tmp_path: Path, capsys) -> None:
    write(tmp_path, "daily.dig",
          "timezone: Asia/Tokyo\nschedule:\n  daily>: 07:00:00\n+a:\n  echo>: a\n")
    code = main(["check", str(tmp_path), "--now", "2026-01-01T12:00:00+09:00"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Schedule: daily>: 07:00:00" in out
    assert "first session: 2026-01-02T00:00:00+09:00  (runs at 2026-01-02T07:00:00+09:00)" in out
    assert ("next runs: 2026-01-03T07:00:00+09:00, 2026-01-04T07:00:00+09:00, "
            "2026-01-05T07:00:00+09:00") in out


def test_check_json_describes_tasks_edges_and_errors(tmp_path: Path, capsys) -> None:
    write(tmp_path, "wf.dig",
          "_export:\n  x: 1\n+p:\n  _parallel: true\n  +a:\n    echo>: a\n  +b:\n    echo>: b\n"
          "+c:\n  sh>: echo c\n")
    code = main(["check", str(tmp_path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["valid"] is True
    (wf,) = report["workflows"]
    tasks = {t["full_name"]: t for t in wf["tasks"]}
    assert list(tasks) == ["+wf", "+wf+p", "+wf+p+a", "+wf+p+b", "+wf+c"]
    assert tasks["+wf+p+b"]["upstreams"] == []
    assert tasks["+wf+c"]["upstreams"] == ["+wf+p"]
    assert tasks["+wf+c"]["operator"] == "sh"
    assert wf["export"] == {"x": 1}


def test_check_accepts_a_single_dig_file(tmp_path: Path, capsys) -> None:
    write(tmp_path, "good.dig", "+a:\n  echo>: a\n")
    write(tmp_path, "bad.dig", "+a:\n  sh>: x\n  echo>: y\n")
    assert main(["check", str(tmp_path / "good.dig")]) == 0
    assert "Workflow good" in capsys.readouterr().out


def test_check_of_a_missing_folder_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["check", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("example", sorted(p.name for p in (REPO / "examples").iterdir()))
def test_every_example_project_checks_clean(example: str, capsys) -> None:
    assert main(["check", str(REPO / "examples" / example)]) == 0, capsys.readouterr().err


def test_check_warns_about_an_unknown_operator_with_a_suggestion_but_stays_valid(
        tmp_path: Path, capsys) -> None:
    write(tmp_path, "wf.dig", "+a:\n  notifyy>: hi\n+b:\n  sh>: echo ok\n")

    code = main(["check", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 0  # Digdag accepts it too: a plugin may provide the operator
    assert "wf.dig:1:1: warning: unknown operator notifyy> in +wf+a (did you mean notify>?)" in err
    assert "sh>" not in err


def test_check_json_lists_unknown_operators_as_warnings(tmp_path: Path, capsys) -> None:
    write(tmp_path, "wf.dig", "+a:\n  td_runn>: q\n")

    assert main(["check", str(tmp_path), "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    assert [(Path(w["file"]).name, w["line"]) for w in report["warnings"]] == [("wf.dig", 1)]
    assert "did you mean td_run>?" in report["warnings"][0]["message"]


def test_check_warns_about_an_unknown_operator_in_the_sla_tasks(tmp_path: Path, capsys) -> None:
    # The sla: tasks are compiled only when the SLA fires; check looks at them now.
    write(tmp_path, "wf.dig", "sla:\n  duration: 00:30\n  +tell:\n    notifyy>: late\n"
                              "+a:\n  sh>: echo ok\n")

    code = main(["check", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 0  # Digdag accepts the file as well; the task would fail at the deadline
    assert "warning: unknown operator notifyy> in +wf^sla+tell (did you mean notify>?)" in err


def test_check_warns_when_the_sla_tasks_cannot_compile(tmp_path: Path, capsys) -> None:
    write(tmp_path, "wf.dig", "sla:\n  duration: 00:30\n  +tell:\n    echo>: a\n    sh>: b\n"
                              "+a:\n  sh>: echo ok\n")

    code = main(["check", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 0
    assert "warning: the sla: tasks will fail when the SLA fires:" in err
    assert "more than one operator" in err


def test_check_suggests_the_schedule_option_a_misspelt_key_was_meant_to_be(
        tmp_path: Path, capsys) -> None:
    write(tmp_path, "wf.dig", "schedule:\n  minutes_interval>: 1\n  skip_on_over_time: true\n"
                              "+a:\n  sh>: echo ok\n")

    code = main(["check", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 0  # a warning here; `push` rejects it, as Digdag does
    assert ("warning: unknown schedule option 'skip_on_over_time' "
            "(ignored; did you mean 'skip_on_overtime'?)") in out


def test_check_warns_about_an_unknown_operator_inside_a_nested_do_body(
        tmp_path: Path, capsys) -> None:
    # _do bodies are compiled only when loop>/if> runs; check compiles them now.
    write(tmp_path, "wf.dig", "+outer:\n  loop>: 2\n  _do:\n    +inner:\n      if>: true\n"
                              "      _do:\n        echoo>: hi\n")

    code = main(["check", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 0
    assert ("warning: unknown operator echoo> in +wf+outer^sub+inner^sub "
            "(did you mean echo>?)") in err


def test_check_warns_when_an_else_do_body_cannot_compile(tmp_path: Path, capsys) -> None:
    write(tmp_path, "wf.dig", "+t:\n  if>: ${x}\n  _do:\n    echo>: yes\n"
                              "  _else_do:\n    +a:\n      echo>: no\n      sh>: no\n")

    code = main(["check", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 0
    assert "warning: +wf+t^sub will fail when +wf+t runs:" in err
    assert "more than one operator" in err
