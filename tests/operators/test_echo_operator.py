"""echo>: prints its message to the task log."""

from __future__ import annotations

from pathlib import Path

import pytest
from digpy_operators.echo import EchoOperator

from digpy.errors import ConfigError
from digpy.spi.testing import RecordingLog, make_context


def test_echo_writes_the_message_and_a_newline_to_the_log(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, operator="echo", config={"_command": "hello world"})

    result = EchoOperator(ctx).run()

    assert isinstance(ctx.log, RecordingLog)
    assert ctx.log.text == "hello world\n"
    assert result.store_params == {} and result.subtask_config is None


def test_echo_prints_a_number_the_way_json_writes_it(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"_command": 42})
    EchoOperator(ctx).run()
    assert isinstance(ctx.log, RecordingLog)
    assert ctx.log.text == "42\n"


def test_echo_without_a_message_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="echo> needs a message"):
        EchoOperator(make_context(tmp_path, config={})).run()


def test_echo_with_a_mapping_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a string"):
        EchoOperator(make_context(tmp_path, config={"_command": {"a": 1}})).run()


def test_echo_is_not_retried() -> None:
    assert EchoOperator.type == "echo"
    assert EchoOperator.retryable is False
