"""fail>: always fails, with error.message set to its message."""

from __future__ import annotations

from pathlib import Path

import pytest
from digpy_operators.fail import FailOperator

from digpy.errors import ConfigError, TaskFailed
from digpy.spi.testing import make_context


def test_fail_raises_task_failed_with_the_message_as_error_message(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, operator="fail", config={"_command": "bad input in ${x}"})

    with pytest.raises(TaskFailed) as caught:
        FailOperator(ctx).run()

    assert caught.value.message == "bad input in ${x}"
    assert caught.value.error == {"message": "bad input in ${x}"}


def test_fail_without_a_message_fails_with_an_empty_message_as_digdag_does(
    tmp_path: Path,
) -> None:
    with pytest.raises(TaskFailed) as caught:
        FailOperator(make_context(tmp_path, config={})).run()
    assert caught.value.error == {"message": ""}


def test_fail_with_a_list_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fail> message must be a string"):
        FailOperator(make_context(tmp_path, config={"_command": ["a"]})).run()


def test_fail_is_never_retried() -> None:
    assert FailOperator.type == "fail"
    assert FailOperator.retryable is False
