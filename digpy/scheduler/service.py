"""The schedule executor (Digdag ScheduleExecutor, spec §5.3): ``tick(now)`` fires every
due slot, one schedule and one slot per transaction.

For each due, enabled schedule (locked: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL): skip the
slot when ``skip_delayed_by`` or ``skip_on_overtime`` says so, else start its session's
attempt (trigger ``schedule``); then advance one slot. Starting and advancing share one
transaction, and a session that already has its attempt is accepted quietly: the unique
(project, workflow, session_time) and (session, name) keys make sessions exactly-once even
when two daemons or a restart race. After downtime a schedule fires once per missed slot, in
order (catch-up), unless ``skip_delayed_by`` drops them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from digpy.dsl.model import Workflow
from digpy.engine.attempts import AttemptRequest, attempt_params, start_attempt_in
from digpy.engine.definitions import from_definition
from digpy.errors import ConfigError, Conflict
from digpy.model.records import WorkflowDefinition
from digpy.model.schedules import StoredSchedule
from digpy.model.states import Trigger
from digpy.scheduler.backfills import advance_backfills
from digpy.scheduler.limits import DEFAULT_ATTEMPT_MAX_RUN, LIMIT_RETRY, has_capacity
from digpy.scheduler.triggers import ScheduleTimes, Slot
from digpy.store.base import Store, Tx

log = logging.getLogger(__name__)

BROKEN_RETRY = timedelta(hours=1)  # Digdag retries a schedule that failed unexpectedly then
MAX_SLOTS_PER_TICK = 10_000  # a bound, so one tick cannot loop forever on a bug


class Action(StrEnum):
    STARTED = "started"
    DUPLICATE = "duplicate"  # the session's attempt already existed (a restart, another daemon)
    SKIPPED_DELAYED = "skipped_delayed"
    SKIPPED_OVERTIME = "skipped_overtime"
    BROKEN = "broken"  # the definition no longer compiles: retried an hour later
    # attempt_max_run attempts are running (scheduler.limits): the same slot is retried
    # 10 minutes later; no session is created now, so none is lost or duplicated
    DEFERRED_LIMIT = "deferred_limit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fired:
    """What one tick did with one due slot."""

    schedule_id: int
    project_id: int
    workflow_name: str
    session_time: datetime
    run_time: datetime
    action: Action
    attempt_id: int | None = None
    lateness: float = 0.0  # seconds between the run time and the tick that processed it


class ScheduleService:
    """Fires due schedules of one store. One instance per daemon; not thread-safe."""

    def __init__(self, store: Store, *, attempt_max_run: int = DEFAULT_ATTEMPT_MAX_RUN) -> None:
        self.store = store
        self.attempt_max_run = attempt_max_run
        self._workflows: dict[int, Workflow] = {}  # definition id -> compiled (immutable)

    def tick(self, now: datetime) -> list[Fired]:
        """Process every slot due at ``now``, then start the backfill slots whose previous
        slot is done (scheduler.backfills); returns the due slots in the order processed."""
        fired: list[Fired] = []
        for _ in range(MAX_SLOTS_PER_TICK):
            outcome = self._process_one(now)
            if outcome is None:
                break
            fired.append(outcome)
            log.info("schedule %s %s@%s: %s", outcome.schedule_id, outcome.workflow_name,
                     outcome.session_time.isoformat(), outcome.action.value)
            if outcome.action is Action.DEFERRED_LIMIT:
                log.warning("schedule %s: too many running attempts (attempt_max_run %d); "
                            "retrying the slot at %s", outcome.schedule_id,
                            self.attempt_max_run, (now + LIMIT_RETRY).isoformat())
        advance_backfills(self.store, now, attempt_max_run=self.attempt_max_run)
        return fired

    def next_due(self) -> datetime | None:
        """When the earliest enabled schedule is due next (None: none is): the daemon wakes
        then instead of up to a tick interval later, which bounds schedule lateness."""
        with self.store.read() as tx:
            return tx.schedules.next_due_time()

    def set_enabled(self, schedule_id: int, enabled: bool, *, now: datetime) -> bool:
        """Enable or disable a schedule; enabling resumes from the stored next slot (so the
        slots missed meanwhile are caught up, as in Digdag). False when nothing changed."""
        with self.store.write() as tx:
            return tx.schedules.set_disabled(schedule_id, None if enabled else now, now=now)

    # -- internals ----------------------------------------------------------------------------

    def _process_one(self, now: datetime) -> Fired | None:
        try:
            with self.store.write() as tx:
                row = tx.schedules.lock_due(now)
                if row is None:
                    return None
                return self._fire(tx, row, now)
        except ConfigError as exc:
            return self._postpone_broken(now, exc)

    def _fire(self, tx: Tx, row: StoredSchedule, now: datetime) -> Fired:
        definition = tx.projects.get_definition(row.workflow_definition_id)
        try:
            workflow = self._workflow(definition)
        except ConfigError as exc:
            exc.add_note(f"schedule:{row.id}")
            raise
        assert workflow.schedule is not None  # sync_schedules deletes schedules that lost it
        times = ScheduleTimes(workflow.schedule, workflow.timezone)
        slot = Slot(row.next_schedule_time, row.next_run_time)
        action, attempt_id = self._decide(tx, row, workflow, definition, now)
        following = times.advance(slot)
        if action is Action.DEFERRED_LIMIT:
            following = Slot(row.next_schedule_time, now + LIMIT_RETRY)  # the same slot
        fired_slot = action in (Action.STARTED, Action.DUPLICATE)
        tx.schedules.advance(
            row.id, expected_next=row.next_schedule_time,
            next_run_time=following.run_time, next_schedule_time=following.session_time,
            last_session_time=row.next_schedule_time if fired_slot else row.last_session_time,
            now=now,
        )
        return Fired(
            schedule_id=row.id, project_id=row.project_id, workflow_name=row.workflow_name,
            session_time=row.next_schedule_time, run_time=row.next_run_time,
            action=action, attempt_id=attempt_id,
            lateness=(now - row.next_run_time).total_seconds(),
        )

    def _decide(
        self, tx: Tx, row: StoredSchedule, workflow: Workflow, definition: WorkflowDefinition,
        now: datetime,
    ) -> tuple[Action, int | None]:
        schedule = workflow.schedule
        assert schedule is not None
        delayed_by = schedule.skip_delayed_by
        if delayed_by is not None and now > row.next_run_time + timedelta(seconds=delayed_by):
            return Action.SKIPPED_DELAYED, None
        if schedule.skip_on_overtime and _any_running(tx, row):
            return Action.SKIPPED_OVERTIME, None
        request = self._request(tx, row, workflow, definition)
        existing = _existing_attempt(tx, row)
        if existing is not None:
            return Action.DUPLICATE, existing
        if not has_capacity(tx, self.attempt_max_run):
            return Action.DEFERRED_LIMIT, None
        try:
            attempt = start_attempt_in(tx, request, now=now)
        except Conflict:  # pre-checked above; only a concurrent manual start gets here
            return Action.DUPLICATE, None
        return Action.STARTED, attempt.id

    def _request(
        self, tx: Tx, row: StoredSchedule, workflow: Workflow, definition: WorkflowDefinition
    ) -> AttemptRequest:
        revision = tx.projects.get_revision(definition.revision_id)
        params = attempt_params(
            workflow, row.next_schedule_time, {}, schedule_times=ScheduleTimes,
            last_executed_session_time=row.last_session_time,
        )
        return AttemptRequest(
            project_id=row.project_id, workflow=workflow, definition=definition,
            revision_name=revision.name, session_time=row.next_schedule_time, params=params,
            trigger=Trigger.SCHEDULE, who="scheduler",
        )

    def _workflow(self, definition: WorkflowDefinition) -> Workflow:
        workflow = self._workflows.get(definition.id)
        if workflow is None:
            workflow = self._workflows[definition.id] = from_definition(definition)
        return workflow

    def _postpone_broken(self, now: datetime, exc: ConfigError) -> Fired | None:
        """A definition that no longer compiles: log it and try that schedule again in an
        hour (its slot is kept), so one broken workflow does not stop the others."""
        schedule_id = next((int(n.split(":")[1]) for n in getattr(exc, "__notes__", [])
                            if n.startswith("schedule:")), None)
        if schedule_id is None:
            raise exc
        log.error("schedule %s cannot fire: %s; retrying in an hour", schedule_id, exc)
        with self.store.write() as tx:
            row = tx.schedules.get_schedule(schedule_id)
            tx.schedules.advance(
                row.id, expected_next=row.next_schedule_time,
                next_run_time=now + BROKEN_RETRY, next_schedule_time=row.next_schedule_time,
                last_session_time=row.last_session_time, now=now,
            )
        return Fired(schedule_id=row.id, project_id=row.project_id,
                     workflow_name=row.workflow_name, session_time=row.next_schedule_time,
                     run_time=row.next_run_time, action=Action.BROKEN)


def _any_running(tx: Tx, row: StoredSchedule) -> bool:
    return any(a.workflow_name == row.workflow_name
               for a in tx.attempts.list_running_attempts(row.project_id))


def _existing_attempt(tx: Tx, row: StoredSchedule) -> int | None:
    session = tx.sessions.find_session(row.project_id, row.workflow_name, row.next_schedule_time)
    if session is None:
        return None
    attempt = tx.attempts.find_attempt(session.id, "")
    return attempt.id if attempt is not None else None

