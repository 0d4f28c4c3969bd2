"""loop>: ``_do`` repeated N times as ``+loop-i`` subtasks exporting ``i``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from control_flow_cases import check_case, load_cases
from digpy_operators.loop import LoopOperator


@pytest.mark.parametrize("case", load_cases("loop.yaml"))
def test_loop_generates_exactly_the_subtasks_digdag_does(tmp_path: Path, case: Any) -> None:
    check_case(LoopOperator, tmp_path, case)


def test_loop_ignores_an_operator_level_retry() -> None:
    assert LoopOperator.type == "loop"
    assert LoopOperator.retryable is False


def test_each_iteration_gets_its_own_copy_of_the_body(tmp_path: Path) -> None:
    # Given a body with a nested mapping
    config = {"_command": 2, "_do": {"+a": {"echo>": "x", "_env": {"K": "v"}}}}
    result = check_case(LoopOperator, tmp_path, {"config": config, "subtasks": {
        "+loop-0": {"+a": {"echo>": "x", "_env": {"K": "v"}}, "_export": {"i": 0}},
        "+loop-1": {"+a": {"echo>": "x", "_env": {"K": "v"}}, "_export": {"i": 1}}}})
    assert result is not None and result.subtask_config is not None
    # When one iteration's tree is changed, the other and the template are not
    result.subtask_config["+loop-0"]["+a"]["_env"]["K"] = "changed"
    assert result.subtask_config["+loop-1"]["+a"]["_env"]["K"] == "v"
    assert config["_do"]["+a"]["_env"]["K"] == "v"  # type: ignore[index]
