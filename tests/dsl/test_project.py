"""Project discovery: which files are workflows, what they are named, and how errors are
collected per workflow instead of stopping at the first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.dsl.project import load_project, load_workflow, validate_name
from digpy.errors import ConfigError

CASES = Path(__file__).parent / "cases"
GOOD = "+a:\n  echo>: a\n"



def write(folder: Path, name: str, text: str = GOOD) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def name_cases() -> Iterator[Any]:
    for case in yaml.safe_load((CASES / "names.yaml").read_text(encoding="utf-8")):
        yield pytest.param(case, id=case["name"])


@pytest.mark.parametrize("case", name_cases())
def test_name_rule(case: dict[str, Any]) -> None:
    if case.get("expect") == "valid":
        validate_name(case["value"], kind=case["kind"])
    else:
        with pytest.raises(ConfigError) as caught:
            validate_name(case["value"], kind=case["kind"])
        assert case["error"] in caught.value.message


def test_every_dig_file_in_the_project_root_is_a_workflow_named_after_it(tmp_path: Path) -> None:
    write(tmp_path, "daily.dig")
    write(tmp_path, "backfill.dig")
    project = load_project(tmp_path)
    assert list(project.workflows) == ["backfill", "daily"]
    assert project.workflows["daily"].root.full_name == "+daily"
    assert project.workflows["daily"].source == "daily.dig"
    assert project.errors == ()


def test_files_in_subfolders_hidden_files_and_other_suffixes_are_not_workflows(
        tmp_path: Path) -> None:
    write(tmp_path, "main.dig")
    write(tmp_path, "sub/child.dig")
    write(tmp_path, ".hidden.dig")
    write(tmp_path, "notes.txt")
    write(tmp_path, "main.dig.bak")
    (tmp_path / "folder.dig").mkdir()
    assert list(load_project(tmp_path).workflows) == ["main"]


def test_the_project_is_named_after_its_folder_and_keeps_its_absolute_path(
        tmp_path: Path) -> None:
    folder = tmp_path / "analytics"
    write(folder, "wf.dig")
    project = load_project(folder)
    assert project.name == "analytics" and project.path == folder.resolve()


def test_every_broken_workflow_is_listed_and_the_good_ones_still_load(tmp_path: Path) -> None:
    write(tmp_path, "good.dig")
    write(tmp_path, "subtasks.dig", "+a:\n  sh>: a\n  +b:\n    echo>: b\n")
    write(tmp_path, "typo.dig", "timezone: UTC\nschedul:\n  daily>: 07:00:00\n" + GOOD)
    write(tmp_path, "syntax.dig", "+a:\n  echo>: [unclosed\n")
    project = load_project(tmp_path)
    assert list(project.workflows) == ["good"]
    by_file = {Path(e.location.file).name: e for e in project.errors if e.location}
    assert sorted(by_file) == ["subtasks.dig", "syntax.dig", "typo.dig"]
    assert "A task can't have subtasks" in by_file["subtasks.dig"].message
    assert by_file["typo.dig"].location.line == 2
    assert by_file["typo.dig"].suggestions[0] == "schedule"


def test_a_file_name_that_breaks_the_workflow_name_rules_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "1st.dig")
    write(tmp_path, "a.dig.dig")
    project = load_project(tmp_path)
    assert project.workflows == {}
    messages = sorted(e.message for e in project.errors)
    assert messages == ["Invalid workflow name '1st': must not start with a digit (0-9)",
                        "Invalid workflow name 'a.dig': must not end with .dig"]
    assert all(e.location and e.location.file.endswith(".dig") for e in project.errors)


def test_only_loads_the_one_named_workflow_with_or_without_the_suffix(tmp_path: Path) -> None:
    write(tmp_path, "one.dig")
    write(tmp_path, "two.dig", "+a:\n  sh>: a\n  echo>: b\n")
    assert list(load_project(tmp_path, only="one").workflows) == ["one"]
    project = load_project(tmp_path, only="one.dig")
    assert list(project.workflows) == ["one"] and project.errors == ()


def test_only_collects_the_error_of_a_broken_workflow(tmp_path: Path) -> None:
    write(tmp_path, "two.dig", "+a:\n  sh>: a\n  echo>: b\n")
    project = load_project(tmp_path, only="two")
    assert project.workflows == {} and len(project.errors) == 1


def test_only_naming_a_missing_workflow_raises_with_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path, "daily_report.dig")
    with pytest.raises(ConfigError, match="Workflow 'daily_reprot' does not exist") as caught:
        load_project(tmp_path, only="daily_reprot")
    assert caught.value.suggestions == ("daily_report",)


def test_a_missing_project_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_project(tmp_path / "nope")


def test_a_workflow_in_a_subfolder_is_named_by_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "sub/child.dig")
    workflow = load_workflow(path, project_root=tmp_path)
    assert (workflow.name, workflow.source) == ("sub/child", "sub/child.dig")
    assert workflow.root.full_name == "+sub/child"


def test_a_workflow_outside_the_project_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "elsewhere/wf.dig")
    with pytest.raises(ConfigError, match="outside the project"):
        load_workflow(path, project_root=tmp_path / "project")


def test_load_workflow_raises_the_compile_error_with_its_location(tmp_path: Path) -> None:
    path = write(tmp_path, "wf.dig", "+a:\n  bogus: 1\n")
    with pytest.raises(ConfigError, match="contains invalid keys: 'bogus'") as caught:
        load_workflow(path, project_root=tmp_path)
    assert caught.value.location is not None and caught.value.location.line == 2
