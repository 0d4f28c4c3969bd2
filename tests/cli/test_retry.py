"""`digpy retry` on the local state, in process, with real sh> tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from digpy.cli import main

# +b fails until a file named "fixed" exists: the user's fix.
FLAKY = """\
+a:
  sh>: echo a >> trace.txt
+b:
  sh>: echo b >> trace.txt; test -f fixed
+c:
  sh>: echo c-${target} >> trace.txt
"""


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A project whose first run (attempt 1) failed at +b."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "wf.dig").write_text(FLAKY, encoding="utf-8")
    assert main(["run", "wf", "--project", str(root), "-p", "target=dev"]) == 1
    capsys.readouterr()
    return root


def trace(root: Path) -> list[str]:
    return (root / "trace.txt").read_text(encoding="utf-8").split()


def retry(root: Path, *args: str) -> int:
    return main(["retry", *args, "--project", str(root)])


def test_resume_from_reuses_tasks_before_the_point_and_runs_the_fixed_task(
        failed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (failed / "fixed").write_text("", encoding="utf-8")

    assert retry(failed, "1", "--resume-from", "+b") == 0

    assert trace(failed) == ["a", "b", "b", "c-dev"]
    out = capsys.readouterr().out
    assert "  session id: 1\n" in out
    assert "  attempt id: 2\n" in out
    assert "Success." in out


def test_resume_reruns_only_what_did_not_succeed(failed: Path) -> None:
    (failed / "fixed").write_text("", encoding="utf-8")

    assert retry(failed, "1", "--resume") == 0

    assert trace(failed) == ["a", "b", "b", "c-dev"]


def test_all_reruns_everything_with_the_old_params_and_the_new_ones_on_top(
        failed: Path) -> None:
    (failed / "fixed").write_text("", encoding="utf-8")

    assert retry(failed, "1", "--all", "-p", "target=prod") == 0

    assert trace(failed) == ["a", "b", "a", "b", "c-prod"]


def test_a_retry_that_fails_again_exits_1_with_hints_for_the_new_attempt(
        failed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert retry(failed, "1", "--resume-from", "+b") == 1

    out = capsys.readouterr().out
    assert "+wf+b: Command failed with code 1" in out
    assert f"digpy retry 2 --resume-from +wf+b --project {failed}" in out


def test_a_fix_in_the_dig_file_is_picked_up_by_default(failed: Path) -> None:
    (failed / "wf.dig").write_text(FLAKY.replace("; test -f fixed", ""), encoding="utf-8")

    assert retry(failed, "1", "--resume-from", "+b") == 0

    assert trace(failed) == ["a", "b", "b", "c-dev"]


def test_keep_revision_runs_the_definition_the_old_attempt_ran(failed: Path) -> None:
    (failed / "wf.dig").write_text(FLAKY.replace("; test -f fixed", ""), encoding="utf-8")

    assert retry(failed, "1", "--resume-from", "+b", "--keep-revision") == 1


def test_an_unknown_attempt_id_is_a_one_line_error_with_exit_2(
        failed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert retry(failed, "42", "--all") == 2

    err = capsys.readouterr().err
    assert err == f"error: attempt 42 does not exist in {failed / '.digpy' / 'state.db'}\n"


@pytest.mark.parametrize("modes", [(), ("--resume", "--all"),
                                   ("--resume-from", "+b", "--resume")])
def test_exactly_one_of_the_three_modes_is_required(
        failed: Path, modes: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert retry(failed, "1", *modes) == 2
    assert "exactly one of --resume-from +TASK, --resume or --all" in capsys.readouterr().err


def test_resume_from_a_task_that_does_not_exist_is_a_usage_error(
        failed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert retry(failed, "1", "--resume-from", "+nope") == 2
    assert "+nope" in capsys.readouterr().err


def test_a_named_retry_cannot_reuse_a_name_in_the_same_session(
        failed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert retry(failed, "1", "--resume", "--name", "fix-1") == 1
    capsys.readouterr()

    assert retry(failed, "1", "--resume", "--name", "fix-1") == 2
    assert capsys.readouterr().err == "error: session 1 already has an attempt named 'fix-1'\n"
