"""Built-in session variables (spec §2.3) and session-time parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digpy.dsl.builtins import empty_session_variables, session_variables
from digpy.dsl.sessiontime import parse_session_time
from digpy.errors import ConfigError


def test_session_variables_are_formatted_in_the_workflow_zone() -> None:
    when = datetime(2016, 1, 30, 8, 0, tzinfo=UTC)
    assert session_variables(when, "America/Los_Angeles") == {
        "session_time": "2016-01-30T00:00:00-08:00",
        "session_date": "2016-01-30",
        "session_date_compact": "20160130",
        "session_local_time": "2016-01-30 00:00:00",
        "session_tz_offset": "-0800",
        "session_unixtime": 1454140800,
    }


def test_utc_offsets_are_written_as_plus_zero_never_z() -> None:
    values = session_variables(datetime(2016, 1, 30, tzinfo=UTC), "UTC")
    assert values["session_time"] == "2016-01-30T00:00:00+00:00"
    assert values["session_tz_offset"] == "+0000"


def test_a_prefix_renames_every_key() -> None:
    values = session_variables(datetime(2016, 1, 29, tzinfo=UTC), "UTC", prefix="last_session")
    assert sorted(values) == ["last_session_date", "last_session_date_compact",
                              "last_session_local_time", "last_session_time",
                              "last_session_tz_offset", "last_session_unixtime"]


def test_a_fixed_offset_zone_and_a_half_hour_zone_are_supported() -> None:
    when = datetime(2016, 1, 30, tzinfo=UTC)
    assert session_variables(when, "+09:00")["session_time"] == "2016-01-30T09:00:00+09:00"
    assert session_variables(when, "Asia/Kolkata")["session_tz_offset"] == "+0530"


def test_unset_session_variables_are_empty_except_the_offset_at_epoch_zero() -> None:
    values = empty_session_variables("last_executed_session", "America/Los_Angeles")
    assert values["last_executed_session_time"] == ""
    assert values["last_executed_session_unixtime"] == ""
    assert values["last_executed_session_tz_offset"] == "-0800"


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2016-01-30", "Asia/Tokyo", "2016-01-30T00:00:00+09:00"),
    ("2016-01-30 09:15:00", "UTC", "2016-01-30T09:15:00+00:00"),
    ("2016-01-30T09:00:00+09:00", "UTC", "2016-01-30T00:00:00+00:00"),
    ("2016-01-30T00:00:00Z", "Europe/Berlin", "2016-01-30T01:00:00+01:00"),
    ("2016-03-13 02:30:00", "America/Los_Angeles", "2016-03-13T03:30:00-07:00"),
    ("2016-11-06 01:30:00", "America/Los_Angeles", "2016-11-06T01:30:00-07:00"),
])
def test_session_times_are_read_as_wall_times_in_the_zone(text, zone, expected) -> None:
    assert parse_session_time(text, zone).isoformat() == expected


@pytest.mark.parametrize("text", ["2016-13-01", "2016-02-30", "yesterday", "2016/01/30", ""])
def test_a_bad_session_time_is_a_config_error_that_shows_the_format(text: str) -> None:
    with pytest.raises(ConfigError, match=r"yyyy-MM-dd.*2016-01-30"):
        parse_session_time(text, "UTC")
