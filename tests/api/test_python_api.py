"""The Python API (``digpy.Workflow`` / ``digpy.Result``): real sh> tasks, real SQLite
state under tmp_path projects, shared with the CLI."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import digpy
from digpy.cli import main
from digpy.errors import ConfigError


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "wf.dig").write_text(
        "timezone: Asia/Tokyo\n"
        "+a:\n  sh>: echo a-${target} >> trace.txt\n"
        "+b:\n  sh>: echo b >> trace.txt; test -f fixed\n", encoding="utf-8")
    return root


def trace(root: Path) -> list[str]:
    return (root / "trace.txt").read_text(encoding="utf-8").split()


def test_load_a_dig_file_and_run_it_to_a_successful_result(root: Path) -> None:
    (root / "fixed").write_text("", encoding="utf-8")
    wf = digpy.Workflow.load(root / "wf.dig")

    result = wf.run(params={"target": "prod"}, session_time="2016-01-30")

    assert isinstance(result, digpy.Result)
    assert result.success and result.status == "success"
    assert result.error is None and result.failed_tasks == ()
    assert result.session_time == datetime(2016, 1, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert result.tasks == {"+wf": "success", "+wf+a": "success", "+wf+b": "success"}
    assert (result.attempt_id, result.session_id) == (1, 1)
    assert result.duration > 0
    assert result.state_path == root / ".digpy" / "state.db"
    assert trace(root) == ["a-prod", "b"]


def test_a_failed_run_names_the_failed_task_its_message_and_log(root: Path) -> None:
    result = digpy.Workflow.load(root, "wf").run(params={"target": "dev"})

    assert not result.success and result.status == "error"
    [failed] = result.failed_tasks
    assert failed.name == "+wf+b"
    assert failed.message == "Command failed with code 1"
    assert failed.log_path is not None and Path(failed.log_path).is_file()
    assert result.error == "Command failed with code 1"
    assert result.tasks["+wf+b"] == "error"


def test_retry_resumes_from_a_task_after_the_fix(root: Path) -> None:
    wf = digpy.Workflow.load(root)
    first = wf.run(params={"target": "dev"})
    (root / "fixed").write_text("", encoding="utf-8")

    second = wf.retry(first.attempt_id, resume_from="+b")

    assert second.success
    assert second.session_id == first.session_id and second.attempt_id == 2
    assert trace(root) == ["a-dev", "b", "b"]


def test_a_second_run_of_the_session_replays_what_succeeded_unless_rerun(root: Path) -> None:
    (root / "fixed").write_text("", encoding="utf-8")
    wf = digpy.Workflow.load(root)
    wf.run(params={"target": "x"}, session_time="2016-01-30")

    wf.run(params={"target": "x"}, session_time="2016-01-30")
    assert trace(root) == ["a-x", "b"]

    wf.run(params={"target": "x"}, session_time="2016-01-30", rerun=True)
    assert trace(root) == ["a-x", "b", "a-x", "b"]


def test_stored_params_are_in_the_result(tmp_path: Path) -> None:
    root = tmp_path / "stores"
    root.mkdir()
    (root / "wf.dig").write_text("+s:\n  py>: tasks.remember\n", encoding="utf-8")
    (root / "tasks.py").write_text(
        "import digdag\n\ndef remember():\n    digdag.env.store({'rows': 3})\n",
        encoding="utf-8")

    result = digpy.Workflow.load(root / "wf.dig").run()

    if not result.success and "py>" in (result.error or ""):
        pytest.skip(f"py> is not built yet: {result.error}")
    assert result.params == {"rows": 3}


def test_the_result_is_frozen(root: Path) -> None:
    result = digpy.Workflow.load(root).run(params={"target": "dev"})

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "success"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.tasks["+wf+b"] = "success"  # type: ignore[index]


def test_a_run_from_python_can_be_retried_from_the_cli(root: Path) -> None:
    first = digpy.Workflow.load(root).run(params={"target": "dev"})
    (root / "fixed").write_text("", encoding="utf-8")

    assert main(["retry", str(first.attempt_id), "--resume", "--project", str(root)]) == 0
    assert trace(root) == ["a-dev", "b", "b"]


def test_loading_a_workflow_that_does_not_exist_raises_a_config_error(root: Path) -> None:
    with pytest.raises(ConfigError, match="Workflow 'nope' does not exist"):
        digpy.Workflow.load(root, "nope")


def test_loading_a_broken_workflow_raises_its_error_with_the_location(tmp_path: Path) -> None:
    (tmp_path / "bad.dig").write_text("+a:\n  sh>: x\n  sh>: y\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"bad\.dig:3"):
        digpy.Workflow.load(tmp_path / "bad.dig")


def test_a_dry_run_calls_no_operator(root: Path) -> None:
    result = digpy.Workflow.load(root).run(params={"target": "dev"}, dry_run=True)

    assert result.success
    assert not (root / "trace.txt").exists()
