"""When an SLA falls due (spec §5.6): data-driven due times, and what the SLA counts from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.dsl.schedule import parse_sla
from digpy.engine.sla import due_time, run_time
from digpy.model.records import Attempt
from digpy.model.states import AttemptStatus, Trigger

CASES = yaml.safe_load((Path(__file__).parent / "data" / "sla_due_times.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_sla_falls_due_at_the_expected_instant(case: dict[str, Any]) -> None:
    sla = parse_sla(case["sla"])

    due = due_time(sla, run_time=datetime.fromisoformat(case["run"]),
                   timezone=case.get("timezone", "UTC"))

    assert due == datetime.fromisoformat(case["due"])


SESSION = datetime(2026, 1, 1, tzinfo=UTC)
CREATED = datetime(2026, 1, 1, 9, 30, 5, tzinfo=UTC)


def attempt(trigger: Trigger) -> Attempt:
    return Attempt(
        id=1, session_id=1, project_id=1, workflow_name="wf", session_time=SESSION,
        session_uuid="u", name="", index=1, params={}, status=AttemptStatus.RUNNING,
        trigger=trigger, who="", workflow_definition_id=1, revision_name="r", timezone="UTC",
        created_at=CREATED, finished_at=None, cancel_requested=False, task_limit=1000,
    )


def test_a_scheduled_attempt_counts_from_its_scheduled_run_time_not_when_it_started() -> None:
    config = {"schedule": {"daily>": "07:00:00"}}

    assert run_time(attempt(Trigger.SCHEDULE), config) == SESSION + timedelta(hours=7)


@pytest.mark.parametrize("trigger", [Trigger.RUN, Trigger.API, Trigger.RETRY, Trigger.BACKFILL])
def test_other_attempts_count_from_when_they_were_created(trigger: Trigger) -> None:
    config = {"schedule": {"daily>": "07:00:00"}}

    assert run_time(attempt(trigger), config) == CREATED
