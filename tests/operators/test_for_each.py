"""for_each>: one subtask per combination of values, named exactly as Digdag names them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from control_flow_cases import check_case, load_cases
from digpy_operators.for_each import ForEachOperator, name_tag

from digpy.spi import ConfigError


@pytest.mark.parametrize("case", load_cases("for_each.yaml"))
def test_for_each_generates_exactly_the_subtasks_digdag_does(tmp_path: Path, case: Any) -> None:
    check_case(ForEachOperator, tmp_path, case)


@pytest.mark.parametrize(("value", "tag"), [
    ("apple", "apple"),
    (1, "1"),
    (1.5, "1.5"),
    (None, "null"),
    (False, "false"),
    ([1, 2], "%5B1%2C2%5D"),
    ("", ""),
])
def test_a_name_tag_is_the_text_or_the_json_of_a_value(value: Any, tag: str) -> None:
    assert name_tag(value) == tag


def test_for_each_ignores_an_operator_level_retry() -> None:
    assert ForEachOperator.type == "for_each"
    assert ForEachOperator.retryable is False


def test_an_absurd_product_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    big = list(range(1000))
    config = {"_command": {"a": big, "b": big, "c": big}, "_do": {"echo>": "x"}}
    with pytest.raises(ConfigError, match="Too many for_each subtasks"):
        check_case(ForEachOperator, tmp_path, {"config": config, "subtasks": None})
