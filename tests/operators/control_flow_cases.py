"""Shared by the control-flow operator tests: data-driven cases from ``cases/*.yaml`` and a
way to run one operator on a config.

A case is a mapping with a ``name`` (a sentence: it becomes the test id), the operator's
``config`` and one expectation: ``subtasks`` (the exact subtask config, key order included;
null means "nothing generated") or ``error`` (a regex the ConfigError must match). Generated
subtasks must also compile as ``^sub`` with the real compiler, unless the case says
``compiles: false`` (then compiling them must be a ConfigError).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.spi import Operator, TaskResult
from digpy.spi.testing import make_context

CASES = Path(__file__).resolve().parent / "cases"


def load_cases(file_name: str) -> list[Any]:
    """The cases of ``cases/<file_name>`` as pytest params, ids from their names."""
    cases = yaml.safe_load((CASES / file_name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["name"]) for case in cases]


def run_operator(cls: type[Operator], project: Path, config: Mapping[str, Any],
                 **fields: Any) -> TaskResult:
    ctx = make_context(project, operator=cls.type, config=config, **fields)
    return cls(ctx).run()


def plain(value: Any) -> Any:
    """Dicts and lists only (a ConfigMap compares equal anyway; this is for key order)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def assert_same_tree(actual: Any, expected: Any) -> None:
    """Equal values and the same key order at every level (order is task order)."""
    actual, expected = plain(actual), plain(expected)
    assert actual == expected
    assert _key_orders(actual) == _key_orders(expected)


def _key_orders(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [list(value)] + [_key_orders(v) for v in value.values()]
    if isinstance(value, list):
        return [_key_orders(v) for v in value]
    return []


def check_case(cls: type[Operator], project: Path, case: Mapping[str, Any],
               **fields: Any) -> TaskResult | None:
    """Run ``case['config']`` and check its ``subtasks`` or ``error``."""
    from digpy.spi import ConfigError

    if "error" in case:
        with pytest.raises(ConfigError, match=case["error"]):
            run_operator(cls, project, case["config"], **fields)
        return None
    result = run_operator(cls, project, case["config"], **fields)
    assert_same_tree(result.subtask_config, case["subtasks"])
    if result.subtask_config is not None:
        assert_compiles(result.subtask_config, expected=case.get("compiles", True))
    return result


def assert_compiles(subtasks: Mapping[str, Any], *, expected: bool = True) -> None:
    """The engine compiles generated configs as ``^sub``: they must be valid task trees."""
    from digpy.dsl.compiler import compile_subtasks
    from digpy.spi import ConfigError

    if expected:
        compile_subtasks(subtasks, name="^sub", parent_full_name="+wf+task")
    else:
        with pytest.raises(ConfigError):
            compile_subtasks(subtasks, name="^sub", parent_full_name="+wf+task")
