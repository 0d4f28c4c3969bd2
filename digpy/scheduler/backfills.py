"""Sequential backfill (spec §5.5): storing a backfill's slots and starting them one by one.

``plan_and_start`` (``control.backfill``) checks every slot, stores the plan and starts the
first slot's attempt in the caller's transaction. ``advance_backfills`` (the daemon, once a
scheduler tick) starts a slot's attempt once the previous slot's attempt is done, whatever
its outcome, as Digdag's delayed attempts do; each slot in its own transaction, the backfill
row locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) so two daemons never start one slot.
The store keeps the plan, so a daemon restart continues where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digpy.dsl.model import Workflow
from digpy.engine.attempts import AttemptRequest, attempt_params, start_attempt_in
from digpy.engine.definitions import from_definition
from digpy.errors import ConfigError, Conflict, NotFound
from digpy.model.backfills import BackfillSlot, NewBackfill, StoredBackfill
from digpy.model.schedules import StoredSchedule
from digpy.model.states import Trigger
from digpy.scheduler.limits import DEFAULT_ATTEMPT_MAX_RUN, has_capacity
from digpy.scheduler.triggers import ScheduleTimes, Slot
from digpy.store.base import Store, Tx

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillPlan:
    """The slots of one backfill, oldest first. They run one after another: the daemon
    starts each slot's attempt when the previous one is done (``advance_backfills``)."""

    schedule_id: int
    workflow_name: str
    attempt_name: str
    session_times: tuple[datetime, ...]
    backfill_id: int | None  # None for a dry run
    first_attempt_id: int | None  # the first slot's attempt, started at once; None if dry run
    dry_run: bool


def plan_and_start(tx: Tx, row: StoredSchedule, workflow: Workflow, slots: Sequence[Slot], *,
                   attempt_name: str, dry_run: bool, now: datetime,
                   attempt_max_run: int = DEFAULT_ATTEMPT_MAX_RUN) -> BackfillPlan:
    """Reject a taken attempt name, then (unless ``dry_run``) store the plan and start the
    first slot (unless ``attempt_max_run`` attempts run: then the daemon starts it later).

    :raises Conflict: a slot's session already has an attempt named ``attempt_name``."""
    for slot in slots:
        session = tx.sessions.find_session(row.project_id, row.workflow_name, slot.session_time)
        if session is not None and tx.attempts.find_attempt(session.id, attempt_name):
            raise Conflict(f"session {slot.session_time.isoformat()} of {row.workflow_name} "
                           f"already has an attempt named {attempt_name!r}")
    times = tuple(s.session_time for s in slots)
    if dry_run:
        return BackfillPlan(schedule_id=row.id, workflow_name=row.workflow_name,
                            attempt_name=attempt_name, session_times=times,
                            backfill_id=None, first_attempt_id=None, dry_run=True)
    backfill = tx.backfills.insert_backfill(NewBackfill(
        schedule_id=row.id, project_id=row.project_id, workflow_name=row.workflow_name,
        workflow_definition_id=row.workflow_definition_id, attempt_name=attempt_name,
        session_times=times, created_at=now,
    ))
    first = _advance(tx, backfill, workflow, now, attempt_max_run)
    return BackfillPlan(schedule_id=row.id, workflow_name=row.workflow_name,
                        attempt_name=attempt_name, session_times=times,
                        backfill_id=backfill.id, first_attempt_id=first, dry_run=False)


def advance_backfills(store: Store, now: datetime, *,
                      attempt_max_run: int = DEFAULT_ATTEMPT_MAX_RUN) -> list[int]:
    """Start the next slot of every backfill whose previous slot's attempt is done; the
    attempts started. A backfill that cannot go on (its definition no longer compiles) is
    logged and finished, so it never blocks the loop. While ``attempt_max_run`` attempts
    run, slots wait (scheduler.limits)."""
    with store.read() as tx:
        pending = tx.backfills.list_unfinished()
    started: list[int] = []
    for backfill_id in pending:
        try:
            with store.write() as tx:
                backfill = tx.backfills.lock_unfinished(backfill_id)
                if backfill is None:
                    continue
                attempt_id = _advance(tx, backfill, None, now, attempt_max_run)
        except ConfigError as exc:
            log.error("backfill %s cannot go on: %s; giving it up", backfill_id, exc)
            with store.write() as tx:
                tx.backfills.finish_backfill(backfill_id, now=now)
            continue
        if attempt_id is not None:
            started.append(attempt_id)
    return started


def _advance(tx: Tx, backfill: StoredBackfill, workflow: Workflow | None,
             now: datetime, attempt_max_run: int) -> int | None:
    """Start the first unstarted slot if the slot before it is done; its attempt id."""
    slots = tx.backfills.list_slots(backfill.id)
    index = next((i for i, s in enumerate(slots) if s.attempt_id is None), None)
    if index is None:
        tx.backfills.finish_backfill(backfill.id, now=now)
        return None
    previous = slots[index - 1] if index > 0 else None
    if previous is not None and not _done(tx, previous):
        return None
    slot = slots[index]
    if workflow is None:
        workflow = from_definition(tx.projects.get_definition(backfill.workflow_definition_id))
    attempt_id = _start(tx, backfill, workflow, slot, previous, now, attempt_max_run)
    if attempt_id is None:
        return None
    tx.backfills.set_slot_attempt(backfill.id, slot.position, attempt_id)
    if index == len(slots) - 1:
        tx.backfills.finish_backfill(backfill.id, now=now)
    return attempt_id


def _done(tx: Tx, slot: BackfillSlot) -> bool:
    assert slot.attempt_id is not None
    try:
        return tx.attempts.get_attempt(slot.attempt_id).done
    except NotFound:  # deleted by `digpy gc`: long done
        return True


def _start(tx: Tx, backfill: StoredBackfill, workflow: Workflow, slot: BackfillSlot,
           previous: BackfillSlot | None, now: datetime, attempt_max_run: int) -> int | None:
    definition = tx.projects.get_definition(backfill.workflow_definition_id)
    last = (previous.session_time if previous is not None else
            tx.backfills.latest_session_before(backfill.project_id, backfill.workflow_name,
                                               slot.session_time))
    params = attempt_params(workflow, slot.session_time, {}, schedule_times=ScheduleTimes,
                            last_executed_session_time=last)
    request = AttemptRequest(
        project_id=backfill.project_id, workflow=workflow, definition=definition,
        revision_name=tx.projects.get_revision(definition.revision_id).name,
        session_time=slot.session_time, params=params, trigger=Trigger.BACKFILL,
        who="backfill", name=backfill.attempt_name,
    )
    existing = _existing(tx, backfill, slot)
    if existing is not None:
        # Someone started an attempt of this name since the backfill was planned: the next
        # slot waits for that one instead of the backfill failing half-way.
        log.warning("backfill %s: session %s already has an attempt named %r; using it",
                    backfill.id, slot.session_time.isoformat(), backfill.attempt_name)
        return existing
    if not has_capacity(tx, attempt_max_run):
        # Wait rather than fail: the next tick tries again (debug: this repeats every tick).
        log.debug("backfill %s: slot %s waits: too many running attempts", backfill.id,
                  slot.session_time.isoformat())
        return None
    attempt = start_attempt_in(tx, request, now=now)
    log.info("backfill %s: started %s@%s (attempt %s)", backfill.id, backfill.workflow_name,
             slot.session_time.isoformat(), attempt.id)
    return attempt.id


def _existing(tx: Tx, backfill: StoredBackfill, slot: BackfillSlot) -> int | None:
    session = tx.sessions.find_session(backfill.project_id, backfill.workflow_name,
                                       slot.session_time)
    attempt = tx.attempts.find_attempt(session.id, backfill.attempt_name) if session else None
    return attempt.id if attempt is not None else None
