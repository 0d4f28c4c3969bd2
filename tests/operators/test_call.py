"""call>: another workflow file of the project inlined as ``^sub``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from control_flow_cases import check_case, load_cases
from digpy_operators.call import CallOperator

from digpy.spi import ConfigError
from digpy.spi.workflows import resolve_in_project


def write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("case", load_cases("call.yaml"))
def test_call_returns_the_callee_body_as_digdag_does(tmp_path: Path, case: Any) -> None:
    project = write_project(tmp_path / "project", case["files"])
    (project / case.get("workdir", "")).mkdir(parents=True, exist_ok=True)
    config = {"_command": case["call"]} if case["call"] is not None else {}
    check_case(CallOperator, project, {**case, "config": config},
               workdir=case.get("workdir", ""))


def test_call_honours_an_operator_level_retry() -> None:
    assert CallOperator.type == "call"
    assert CallOperator.retryable is True


def test_a_symlink_that_points_out_of_the_project_is_refused(tmp_path: Path) -> None:
    # Given a project whose link.dig points at a file outside it
    outside = tmp_path / "outside.dig"
    outside.write_text("+a:\n  echo>: a\n", encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(outside, project / "link.dig")
    # When it is called, Then the call is refused
    with pytest.raises(ConfigError, match="leaves the project"):
        check_case(CallOperator, project, {"config": {"_command": "link"}, "subtasks": None})


@pytest.mark.parametrize(("workdir", "relative", "inside"), [
    ("", "a.dig", "a.dig"),
    ("sub", "../a.dig", "a.dig"),
    ("sub", "./x/../b.dig", "sub/b.dig"),
    ("", ".", ""),
])
def test_paths_that_stay_in_the_project_resolve_lexically(
        tmp_path: Path, workdir: str, relative: str, inside: str) -> None:
    assert resolve_in_project(tmp_path, workdir, relative) == tmp_path.absolute() / inside


@pytest.mark.parametrize(("workdir", "relative"), [
    ("", ".."), ("sub", "../../x.dig"), ("", "/tmp/x.dig"), ("../elsewhere", "x.dig"),
])
def test_paths_that_leave_the_project_are_config_errors(
        tmp_path: Path, workdir: str, relative: str) -> None:
    with pytest.raises(ConfigError, match="leaves the project"):
        resolve_in_project(tmp_path, workdir, relative)
