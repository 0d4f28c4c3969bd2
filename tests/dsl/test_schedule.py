"""``schedule:`` and ``sla:`` parsing: the six forms, options, SLA, and located errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from digpy.dsl.cronpattern import parse_cron
from digpy.dsl.model import Schedule, Sla
from digpy.dsl.schedule import parse_schedule, parse_sla, suggest_schedule_option
from digpy.dsl.source import ConfigMap, Mark
from digpy.errors import ConfigError

DATA = Path(__file__).resolve().parents[1] / "data" / "schedules"


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def config_map(text: str, file: str = "wf.dig") -> Any:
    """``text`` read the way the .dig loader reads it: a ConfigMap with key/value marks, and
    Digdag's scalars (decimal ints, true/false, null; everything else, e.g. 07:00:00, text)."""
    return _build(yaml.compose(text, Loader=yaml.SafeLoader), file)


def _build(node: Node, file: str) -> Any:
    if isinstance(node, MappingNode):
        out = ConfigMap()
        out.mark = _mark(node, file)
        for key_node, value_node in node.value:
            key = key_node.value
            out[key] = _build(value_node, file)
            out.key_marks[key] = _mark(key_node, file)
            if not (isinstance(value_node, ScalarNode) and value_node.value == ""):
                out.value_marks[key] = _mark(value_node, file)
        return out
    if isinstance(node, SequenceNode):
        return [_build(item, file) for item in node.value]
    return _scalar(node)


def _scalar(node: Node) -> Any:
    text = node.value
    if isinstance(node, ScalarNode) and node.style:
        return text
    if text in ("", "~", "null"):
        return None
    if text in ("true", "True", "false", "False"):
        return text.lower() == "true"
    return int(text) if re.fullmatch(r"[-+]?\d+", text) else text


def _mark(node: Node, file: str) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


PARSE = _load("parse.yaml")["cases"]
ERRORS = _load("errors.yaml")["cases"]
SLA = _load("sla.yaml")


def _field(schedule: Schedule, name: str) -> Any:
    value = getattr(schedule, name)
    if name in ("start", "end") and value is not None:
        return value.isoformat()
    return list(value) if name == "unknown_keys" else value


@pytest.mark.parametrize("case", PARSE, ids=_ids(PARSE))
def test_each_schedule_form_becomes_a_session_cron_and_a_delay(case: dict[str, Any]) -> None:
    schedule = parse_schedule(config_map(case["config"]), timezone="UTC")
    assert {name: _field(schedule, name) for name in case["expect"]} == case["expect"]


@pytest.mark.parametrize("case", ERRORS, ids=_ids(ERRORS))
def test_an_invalid_schedule_is_reported_at_its_line(case: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schedule(config_map(case["config"]), timezone="UTC")
    error = caught.value
    assert case["error"] in error.message
    assert error.location is not None and error.location.line == case["line"]
    assert error.location.file == "wf.dig"
    assert list(error.suggestions) == case.get("suggestions", [])


def test_a_schedule_that_is_not_a_mapping_is_rejected() -> None:
    with pytest.raises(ConfigError, match="schedule: must be a mapping"):
        parse_schedule("daily>: 07:00:00", timezone="UTC")  # type: ignore[arg-type]


def test_plain_dicts_without_marks_parse_the_same() -> None:
    schedule = parse_schedule({"cron>": "0 * * * *", "delay": 30}, timezone="Asia/Tokyo")
    assert (schedule.kind, schedule.cron, schedule.delay) == ("cron", "0 * * * *", 30)


def test_a_misspelt_option_gets_a_hint_for_the_unknown_key_warning() -> None:
    assert suggest_schedule_option("skip_on_overtme") == ["skip_on_overtime"]
    assert suggest_schedule_option("colour") == []


def test_cron_alternatives_that_can_never_match_are_dropped() -> None:
    parts = parse_cron("0 0 31 4 *|0 12 * * 7")
    assert len(parts) == 1
    assert parts[0].weekdays == frozenset({0})


@pytest.mark.parametrize("case", SLA["cases"], ids=_ids(SLA["cases"]))
def test_an_sla_is_read_with_its_defaults(case: dict[str, Any]) -> None:
    sla = parse_sla(config_map(case["config"]))
    assert {name: _sla_field(sla, name) for name in case["expect"]} == case["expect"]


def _sla_field(sla: Sla, name: str) -> Any:
    value = getattr(sla, name)
    if name == "tasks":
        return list(value)
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.parametrize("case", SLA["errors"], ids=_ids(SLA["errors"]))
def test_an_invalid_sla_is_reported_at_its_line(case: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sla(config_map(case["config"]))
    error = caught.value
    assert case["error"] in error.message
    assert error.location is not None and error.location.line == case["line"]
    assert list(error.suggestions) == case.get("suggestions", [])


def test_sla_tasks_keep_where_they_were_written() -> None:
    sla = parse_sla(config_map("time: 02:00\n+notice:\n  sh>: notice.sh\n"))
    assert isinstance(sla.tasks, ConfigMap)
    assert sla.tasks.key_marks["+notice"].line == 2
    assert "time" not in sla.tasks
