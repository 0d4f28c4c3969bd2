"""for_range>: an integer range split by step or slices, one subtask per slice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from control_flow_cases import check_case, load_cases
from digpy_operators.for_range import ForRangeOperator


@pytest.mark.parametrize("case", load_cases("for_range.yaml"))
def test_for_range_generates_exactly_the_subtasks_digdag_does(tmp_path: Path, case: Any) -> None:
    check_case(ForRangeOperator, tmp_path, case)


def test_for_range_ignores_an_operator_level_retry() -> None:
    assert ForRangeOperator.type == "for_range"
    assert ForRangeOperator.retryable is False
