"""if>: the chosen branch (``_do`` or ``_else_do``) becomes ``^sub``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from control_flow_cases import check_case, load_cases
from digpy_operators.if_ import IfOperator


@pytest.mark.parametrize("case", load_cases("if.yaml"))
def test_if_returns_the_chosen_branch_as_digdag_does(tmp_path: Path, case: Any) -> None:
    check_case(IfOperator, tmp_path, case)


def test_if_ignores_an_operator_level_retry() -> None:
    assert IfOperator.type == "if"
    assert IfOperator.retryable is False
