"""Durations (``10s``, ``1h 30m``, bare seconds) as shared by wait>, _timeout and schedules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.dsl.durations import format_duration, parse_duration
from digpy.errors import ConfigError, Location

DATA = Path(__file__).resolve().parents[1] / "data" / "schedules"
CASES = yaml.safe_load((DATA / "durations.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("text", "seconds"), CASES["valid"], ids=repr)
def test_a_duration_is_read_as_seconds(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", CASES["invalid"], ids=repr)
def test_anything_else_is_a_config_error(text: Any) -> None:
    with pytest.raises(ConfigError, match="Invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), CASES["format"], ids=repr)
def test_a_duration_is_written_with_units_largest_first(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0, 1, 59, 61, 3600, 5400, 86399, 93784, 10**7])
def test_writing_then_reading_a_duration_gives_it_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_an_invalid_duration_is_reported_where_it_was_written() -> None:
    where = Location("wf.dig", 3, 12)
    with pytest.raises(ConfigError) as caught:
        parse_duration("soon", location=where)
    assert caught.value.location == where
    assert str(caught.value).startswith("wf.dig:3:12: Invalid duration 'soon'")
