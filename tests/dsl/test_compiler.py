"""The compiler, specified by the data files in cases/*.yaml plus a few behaviours that do
not fit a `.dig` -> tree table (run-time subtrees, directive values, the Workflow fields).

A case is `dig:` text compiled as workflow `wf` (or `workflow:`) and either
`tree:` - one line per task in order, "full_name operator-or-group [<- upstream, ...]" -
with optional `configs:` (a task's own config after normalisation), or `error:` (a fragment
of the message) with optional `line:` and `suggestions:`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.dsl.compiler import compile_subtasks, compile_workflow, parse_parallel, parse_retry
from digpy.dsl.loader import load_text
from digpy.dsl.model import RetryPolicy, Workflow, WorkflowTask
from digpy.dsl.source import ConfigMap, plain
from digpy.errors import ConfigError

CASES = Path(__file__).parent / "cases"


def load_dig(text: str, filename: str = "wf.dig") -> ConfigMap:
    """The loaded mapping of `.dig` text, with marks."""
    return load_text(text, filename=filename)


def dig_cases() -> Iterator[Any]:
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            if "dig" in case:
                yield pytest.param(case, id=f"{path.stem}: {case['name']}")


def value_cases(parser: str) -> Iterator[Any]:
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            if case.get("parse") == parser:
                yield pytest.param(case, id=f"{case['name']}")


def describe(workflow: Workflow) -> list[str]:
    """The case-file notation of a compiled task list."""
    lines = []
    for task in workflow.tasks:
        line = f"{task.full_name} {'group' if task.is_group else task.operator}"
        if task.upstream_indexes:
            ups = ", ".join(workflow.tasks[i].full_name for i in task.upstream_indexes)
            line += f" <- {ups}"
        lines.append(line)
    return lines


def assert_well_formed(tasks: tuple[WorkflowTask, ...]) -> None:
    """Invariants every compiled list keeps: pre-order indexes, parents before children,
    names derived from the parent, edges only between earlier siblings."""
    for i, task in enumerate(tasks):
        assert task.index == i
        if task.parent_index is None:
            assert i == 0
            continue
        parent = tasks[task.parent_index]
        assert task.parent_index < i and parent.is_group
        assert task.full_name == parent.full_name + task.name
        for up in task.upstream_indexes:
            assert up < i and tasks[up].parent_index == task.parent_index
        assert len(set(task.upstream_indexes)) == len(task.upstream_indexes)
        assert task.is_group == (task.operator is None)


@pytest.mark.parametrize("case", dig_cases())
def test_dig_case(case: dict[str, Any]) -> None:
    config = load_dig(case["dig"])
    name = case.get("workflow", "wf")
    if "error" in case:
        with pytest.raises(ConfigError) as caught:
            compile_workflow(name, config, source="wf.dig")
        err = caught.value
        assert case["error"] in err.message
        if "line" in case:
            assert err.location is not None and err.location.line == case["line"], str(err)
        if "suggestions" in case:  # the best ones first; [] means none at all
            expected = case["suggestions"]
            assert list(err.suggestions[:len(expected) or None]) == expected
        return
    workflow = compile_workflow(name, config, source="wf.dig")
    assert_well_formed(workflow.tasks)
    if "tree" in case:
        assert describe(workflow) == case["tree"]
    for full_name, expected in case.get("configs", {}).items():
        assert plain(workflow.task(full_name).config) == expected


@pytest.mark.parametrize("case", value_cases("retry"))
def test_retry_value(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ConfigError, match=case["error"]):
            parse_retry(case["value"])
    else:
        assert parse_retry(case["value"]) == RetryPolicy(**case["expect"])


@pytest.mark.parametrize("case", value_cases("parallel"))
def test_parallel_value(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ConfigError, match=case["error"]):
            parse_parallel(case["value"])
    else:
        result = parse_parallel(case["value"])
        assert result == case["expect"] and type(result) is type(case["expect"])


def test_every_case_file_has_a_name_per_case_and_one_expectation() -> None:
    for path in CASES.glob("*.yaml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            assert case.get("name"), path
            outcomes = {"tree", "configs", "error", "expect"} & set(case)
            assert outcomes, f"{path.name}: {case['name']} asserts nothing"


def test_a_compiled_workflow_carries_its_name_zone_source_and_raw_config() -> None:
    config = load_dig("timezone: Asia/Tokyo\n+a:\n  echo>: a\n")
    workflow = compile_workflow("wf", config, source="wf.dig")
    assert (workflow.name, workflow.timezone, workflow.source) == ("wf", "Asia/Tokyo", "wf.dig")
    assert workflow.config is config
    assert workflow.schedule is None and workflow.sla is None


def test_the_default_timezone_is_utc() -> None:
    assert compile_workflow("wf", load_dig("+a:\n  echo>: a\n")).timezone == "UTC"


def test_a_fixed_offset_timezone_is_accepted() -> None:
    assert compile_workflow("wf", load_dig("timezone: '+09:00'\n+a: {}\n")).timezone == "+09:00"


def test_each_task_location_is_the_position_of_its_key() -> None:
    workflow = compile_workflow("wf", load_dig("+a:\n  +b:\n    echo>: b\n"), source="wf.dig")
    locations = {t.full_name: t.location for t in workflow.tasks}
    assert (locations["+wf+a"].line, locations["+wf+a+b"].line) == (1, 2)
    assert locations["+wf+a+b"].col == 3


def test_a_task_config_keeps_the_marks_of_its_keys() -> None:
    workflow = compile_workflow("wf", load_dig("+a:\n  x: 1\n  sh>: echo\n"))
    config = workflow.task("+wf+a").config
    assert isinstance(config, ConfigMap)
    assert config.key_marks["_type"].line == 3 and config.key_marks["x"].line == 2


def test_a_workflow_that_is_not_a_mapping_is_rejected_with_its_file() -> None:
    with pytest.raises(ConfigError, match="must be a mapping") as caught:
        compile_workflow("wf", ["+a"], source="wf.dig")  # type: ignore[arg-type]
    assert caught.value.location is not None and caught.value.location.file == "wf.dig"


def test_plain_dicts_compile_like_loaded_mappings() -> None:
    text = "+a:\n  echo>: a\n+p:\n  _parallel: {limit: 1}\n  +x: {sh>: x}\n  +y: {sh>: y}\n"
    loaded = compile_workflow("wf", load_dig(text))
    from_dict = compile_workflow("wf", yaml.safe_load(text))
    assert describe(loaded) == describe(from_dict)


def test_generated_subtasks_start_with_the_generated_task_and_no_parent() -> None:
    config = {"+loop-0": {"echo>": "0"}, "+loop-1": {"echo>": "1"}, "_parallel": True}
    tasks = compile_subtasks(config, name="^sub", parent_full_name="+wf+loop")
    assert [t.full_name for t in tasks] == ["+wf+loop^sub", "+wf+loop^sub+loop-0",
                                            "+wf+loop^sub+loop-1"]
    assert tasks[0].parent_index is None and tasks[0].is_group
    assert [t.upstream_indexes for t in tasks] == [(), (), ()]
    assert_well_formed(tasks)


def test_a_generated_operator_config_is_a_single_task() -> None:
    tasks = compile_subtasks({"echo>": "hi"}, name="^error", parent_full_name="+wf+a")
    assert [(t.full_name, t.operator, dict(t.config)) for t in tasks] == [
        ("+wf+a^error", "echo", {"_type": "echo", "_command": "hi"})]


def test_generated_subtasks_are_validated_like_the_workflow() -> None:
    with pytest.raises(ConfigError, match="A task can't have more than one operator"):
        compile_subtasks({"+x": {"sh>": "a", "echo>": "b"}}, name="^sub", parent_full_name="+w")


def test_errors_in_plain_dicts_have_no_location() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_subtasks({"+x": {"bogus": 1}}, name="^sub", parent_full_name="+w")
    assert caught.value.location is None
    assert "Task +w^sub+x contains invalid keys: 'bogus'" in caught.value.message


def test_a_generated_config_that_is_not_a_mapping_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"\+w\^sub must be a mapping"):
        compile_subtasks("echo>: x", name="^sub", parent_full_name="+w")  # type: ignore[arg-type]


def test_a_called_workflow_body_with_schedule_and_timezone_compiles_as_a_subtree() -> None:
    body = {"timezone": "UTC", "schedule": {"daily>": "07:00:00"}, "+a": {"echo>": "a"}}
    tasks = compile_subtasks(body, name="^sub", parent_full_name="+wf+call")
    assert [t.full_name for t in tasks] == ["+wf+call^sub", "+wf+call^sub+a"]


def test_nesting_deeper_than_python_can_walk_is_a_config_error() -> None:
    config: dict[str, Any] = {"echo>": "bottom"}
    for _ in range(5000):
        config = {"+n": config}
    with pytest.raises(ConfigError, match="nested too deeply"):
        compile_subtasks(config, name="^sub", parent_full_name="+w")


def test_a_schedule_and_an_sla_are_parsed_in_the_workflow_zone() -> None:
    workflow = compile_workflow("wf", load_dig(
        "timezone: Asia/Tokyo\nschedule:\n  daily>: 07:00:00\nsla:\n  time: '02:00'\n"
        "+a:\n  echo>: a\n"))
    assert workflow.schedule is not None and workflow.schedule.kind == "daily"
    assert workflow.sla is not None and workflow.sla.time == (2, 0, 0)


def test_an_invalid_schedule_is_reported_at_its_location() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_workflow("wf", load_dig("+a:\n  echo>: a\nschedule:\n  daily>: noon\n"))
    assert caught.value.location is not None and caught.value.location.line == 4
