"""The store contract: what the engine may ask of persistence, and nothing else.

The engine sees only these ABCs. Every write happens inside ``Store.write()`` (one
transaction: commit on a clean exit, rollback on an exception), so a transition and its
side effects (inserted children, params, flags) are never half-written. Every task state
change is a compare-and-set (``TaskRepo.transition``): losing a race is a normal ``False``.

Backends: ``store.sql`` implements this for SQLite (one process drives attempts; WAL,
``BEGIN IMMEDIATE``) and PostgreSQL. One contract test suite (tests/store) runs against both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from digpy.errors import StoreError
from digpy.model.records import (
    Attempt,
    NewAttempt,
    NewTask,
    NewWorkflowDefinition,
    Project,
    ResumingTask,
    Revision,
    Session,
    Task,
    WorkflowDefinition,
)
from digpy.model.states import AttemptStatus, TaskFlags, TaskState

if TYPE_CHECKING:  # only the daemon's repos use these; `digpy run` need not build them
    from digpy.model.backfills import BackfillSlot, NewBackfill, StoredBackfill
    from digpy.model.leases import DaemonRow, Lease
    from digpy.model.schedules import NewSchedule, StoredSchedule


class StoreLocked(StoreError):
    """Another process holds the store (a running ``digpy run`` or daemon)."""


class LeaseLost(StoreError):
    """A daemon wrote to an attempt whose lease it no longer holds (the fence refused it:
    another daemon claimed the attempt after the lease expired). Its transaction rolls back."""

    def __init__(self, lease: Lease, holder: str | None) -> None:
        super().__init__(f"attempt {lease.attempt_id}: lease epoch {lease.epoch} of "
                         f"{lease.daemon_id} lost (now held by {holder or 'nobody'})")
        self.lease = lease
        self.holder = holder


class ProjectRepo(ABC):
    @abstractmethod
    def put_project(self, name: str, path: str, *, now: datetime) -> Project:
        """Return the project called ``name``, creating it (idempotent). An existing
        project's ``path`` is updated to ``path``."""

    @abstractmethod
    def get_project(self, project_id: int) -> Project:
        """:raises NotFound: no such project."""

    @abstractmethod
    def find_project(self, name: str) -> Project | None:
        """The project called ``name``, or None."""

    @abstractmethod
    def put_revision(
        self,
        project_id: int,
        *,
        name: str,
        hash: str,
        workflows: Sequence[NewWorkflowDefinition],
        default_params: Mapping[str, Any],
        now: datetime,
    ) -> Revision:
        """Store a revision with its workflow definitions.

        Idempotent by content: when the project already has a revision with this ``hash``,
        that revision is returned unchanged. :raises Conflict: ``name`` is taken by a
        revision with a different hash."""

    @abstractmethod
    def latest_revision(self, project_id: int) -> Revision | None:
        """The newest revision of the project (highest id), or None."""

    @abstractmethod
    def list_definitions(self, revision_id: int) -> list[WorkflowDefinition]:
        """The workflow definitions of a revision, ordered by name."""

    @abstractmethod
    def get_definition(self, definition_id: int) -> WorkflowDefinition:
        """:raises NotFound: no such workflow definition."""

    @abstractmethod
    def get_revision(self, revision_id: int) -> Revision:
        """:raises NotFound: no such revision."""


class SessionRepo(ABC):
    @abstractmethod
    def put_session(
        self,
        project_id: int,
        workflow_name: str,
        session_time: datetime,
        *,
        uuid: str,
        now: datetime,
    ) -> Session:
        """Return the session (project, workflow, session_time), creating it with ``uuid``
        when missing. Idempotent and safe under concurrency: the triple is unique, so two
        callers always get the same row (and the first caller's uuid)."""

    @abstractmethod
    def get_session(self, session_id: int) -> Session:
        """:raises NotFound: no such session."""

    @abstractmethod
    def find_session(
        self, project_id: int, workflow_name: str, session_time: datetime
    ) -> Session | None:
        """The session for the triple, or None."""

    @abstractmethod
    def list_sessions(
        self, project_id: int, workflow_name: str | None = None, *, limit: int = 100
    ) -> list[Session]:
        """The project's sessions (of one workflow if given), newest ``session_time``
        first (ties: newest id first), at most ``limit``."""


class AttemptRepo(ABC):
    @abstractmethod
    def insert_attempt(self, new: NewAttempt) -> Attempt:
        """Insert an attempt with the next ``index`` (1, 2, ...) of its session and make it
        the session's last attempt. Status starts as ``running``.

        :raises Conflict: the session already has an attempt named ``new.name``."""

    @abstractmethod
    def get_attempt(self, attempt_id: int) -> Attempt:
        """The attempt joined with its session. :raises NotFound: no such attempt."""

    @abstractmethod
    def find_attempt(self, session_id: int, name: str) -> Attempt | None:
        """The attempt of the session with this name, or None."""

    @abstractmethod
    def list_attempts(self, session_id: int) -> list[Attempt]:
        """Every attempt of the session, oldest first (by index)."""

    @abstractmethod
    def list_running_attempts(self, project_id: int | None = None) -> list[Attempt]:
        """Attempts not yet finished, oldest first, optionally of one project."""

    def count_running_attempts(self) -> int:
        """How many attempts of the whole store are not yet finished (the
        ``attempt_max_run`` limit). Backends override this with a COUNT."""
        return len(self.list_running_attempts())

    def set_idempotency_key(self, attempt_id: int, key: str) -> None:
        """Record the client's idempotency key of the request that created the attempt
        (reliability C6), in that request's transaction. Only the server's store has it
        (the local ``digpy run`` store serves no API).

        :raises Conflict: another attempt has the key (the transaction must roll back)."""
        raise NotImplementedError("idempotency keys need the server store")

    def find_by_idempotency_key(self, key: str) -> Attempt | None:
        """The attempt created with this idempotency key, or None."""
        raise NotImplementedError("idempotency keys need the server store")

    @abstractmethod
    def finish_attempt(
        self,
        attempt_id: int,
        status: AttemptStatus,
        *,
        now: datetime,
        result: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> bool:
        """Mark a running attempt done with ``status`` (not ``running``). Returns False when
        the attempt was already finished (nothing changes)."""

    @abstractmethod
    def request_cancel(self, attempt_id: int) -> bool:
        """Kill (spec §3.10): set ``cancel_requested`` on the attempt and the
        CANCEL_REQUESTED flag on every task of it that is not done. Returns False when the
        attempt is already finished or already being killed.

        :raises NotFound: no such attempt."""

    @abstractmethod
    def put_resuming_tasks(self, attempt_id: int, items: Sequence[ResumingTask]) -> None:
        """Remember dynamic tasks to reuse when their generator regenerates them."""

    @abstractmethod
    def list_resuming_tasks(self, attempt_id: int) -> list[ResumingTask]:
        """What ``put_resuming_tasks`` stored, in insertion order."""


class TaskRepo(ABC):
    @abstractmethod
    def insert_tasks(self, attempt_id: int, new_tasks: Sequence[NewTask]) -> list[Task]:
        """Insert ``new_tasks`` in order and return them as stored, in the same order, with
        increasing ids. ``parent_ref``/``upstream_refs`` must point at earlier entries of
        the batch. A task with ``output`` gets its export/store params, reset keys,
        subtask config and report from it."""

    @abstractmethod
    def list_tasks(self, attempt_id: int) -> list[Task]:
        """Every task of the attempt, ordered by id (creation order)."""

    @abstractmethod
    def get_task(self, task_id: int) -> Task:
        """:raises NotFound: no such task."""

    @abstractmethod
    def count_tasks(self, attempt_id: int) -> int:
        """How many task rows the attempt has (old rows of group retries included)."""

    @abstractmethod
    def transition(
        self,
        task_id: int,
        before: TaskState,
        after: TaskState,
        *,
        add_flags: TaskFlags = TaskFlags.NONE,
        remove_flags: TaskFlags = TaskFlags.NONE,
        **fields: Any,
    ) -> bool:
        """Compare-and-set: move the task to ``after`` only if it is in ``before``, also
        writing ``fields`` (names from ``model.records.TASK_UPDATE_FIELDS``) and changing
        flags bitwise (flags set concurrently by others, e.g. a kill, are kept).

        Returns True when exactly one row changed; False when the task was not in
        ``before`` (a lost race, not an error). Edges are not checked here: the engine
        checks ``model.states.ALLOWED``. :raises ValueError: an unknown field name."""

    @abstractmethod
    def update_flags(
        self,
        task_id: int,
        state: TaskState,
        *,
        add: TaskFlags = TaskFlags.NONE,
        remove: TaskFlags = TaskFlags.NONE,
    ) -> bool:
        """Change flags bitwise if the task is still in ``state``; True if it was."""

    @abstractmethod
    def latest_successes(self, session_id: int, *, before_attempt_id: int) -> list[Task]:
        """The newest SUCCESS row per full name among the tasks of the session's attempts
        with an id below ``before_attempt_id``, ordered by full name (local-mode replay)."""


class ScheduleRepo(ABC):
    """Schedules (one per project and workflow name). Times are aware datetimes (UTC)."""

    @abstractmethod
    def insert_schedule(self, new: NewSchedule) -> StoredSchedule:
        """:raises Conflict: the project already has a schedule for the workflow."""

    @abstractmethod
    def get_schedule(self, schedule_id: int) -> StoredSchedule:
        """:raises NotFound: no such schedule."""

    @abstractmethod
    def find_schedule(self, project_id: int, workflow_name: str) -> StoredSchedule | None:
        """The project's schedule for the workflow, or None."""

    @abstractmethod
    def list_schedules(self, project_id: int | None = None) -> list[StoredSchedule]:
        """Schedules (of one project if given), ordered by id."""

    @abstractmethod
    def repoint(
        self, schedule_id: int, *, workflow_definition_id: int, next_run_time: datetime,
        next_schedule_time: datetime, now: datetime,
    ) -> None:
        """A new revision's definition and next slot; ``last_session_time`` and
        ``disabled_at`` are kept (continuity by workflow name, spec §5.4)."""

    @abstractmethod
    def delete_schedules(self, project_id: int, *, keep: Sequence[str]) -> int:
        """Delete the project's schedules whose workflow is not in ``keep``; how many."""

    @abstractmethod
    def lock_due(self, now: datetime) -> StoredSchedule | None:
        """One enabled schedule with ``next_run_time <= now`` (earliest first), locked for
        this transaction. On PostgreSQL rows locked by another transaction are skipped
        (``FOR UPDATE SKIP LOCKED``), so daemons never process one schedule at once."""

    @abstractmethod
    def advance(
        self, schedule_id: int, *, expected_next: datetime, next_run_time: datetime,
        next_schedule_time: datetime, last_session_time: datetime | None, now: datetime,
    ) -> bool:
        """Compare-and-set: move to the next slot only if ``next_schedule_time`` still is
        ``expected_next``. False when someone else moved it (a lost race)."""

    @abstractmethod
    def next_due_time(self) -> datetime | None:
        """The earliest ``next_run_time`` of an enabled schedule (the ended ones' 9999
        sentinel included), or None when there is none: the daemon sleeps until then."""

    @abstractmethod
    def set_disabled(self, schedule_id: int, disabled_at: datetime | None, *,
                     now: datetime) -> bool:
        """Disable (a time) or enable (None). False when it already was in that state.

        :raises NotFound: no such schedule."""


class ArchiveRepo(ABC):
    """The tar.gz bytes of pushed revisions."""

    @abstractmethod
    def put_archive(self, revision_id: int, *, hash: str, data: bytes) -> None:
        """Store the archive of a revision (idempotent: an existing one is kept)."""

    @abstractmethod
    def get_archive(self, revision_id: int) -> bytes | None:
        """The revision's archive, or None (a revision registered from a directory)."""


class RetentionRepo(ABC):
    """Deleting old history (``digpy gc``)."""

    @abstractmethod
    def delete_sessions_finished_before(self, cutoff: datetime, *, limit: int) -> list[int]:
        """Delete up to ``limit`` sessions whose attempts are all finished, the newest before
        ``cutoff``, with their attempts and tasks. Returns the deleted attempts' ids (their
        log files are the caller's to remove)."""


class LeaseRepo(ABC):
    """Daemons and their leases on running attempts (issue #6 §3). Every time is the
    database's clock (``statement_timestamp()`` on PostgreSQL), never the caller's."""

    @abstractmethod
    def register_daemon(self, daemon_id: str, *, host: str, pid: int) -> DaemonRow:
        """Insert (or refresh) the daemon's row with ``started_at`` and ``heartbeat_at`` now."""

    @abstractmethod
    def heartbeat(self, daemon_id: str, *, lease_seconds: float) -> list[Lease]:
        """Touch the daemon's row and extend every lease it still holds on a running attempt
        to now + ``lease_seconds`` (an expired lease nobody claimed is extended too: no one
        else acted on it). Returns the leases held, by attempt id; an attempt the daemon
        drives but that is missing here was taken over."""

    @abstractmethod
    def claim_attempts(self, daemon_id: str, *, limit: int, lease_seconds: float,
                       attempt_id: int | None = None) -> list[Lease]:
        """Take up to ``limit`` running attempts (only ``attempt_id`` if given) whose lease
        is free or expired, oldest first: each gets ``locked_by`` = the daemon, the next
        epoch and an expiry now + ``lease_seconds``. On PostgreSQL rows locked by another
        transaction are skipped (``FOR UPDATE SKIP LOCKED``), so two daemons never claim one
        attempt; ``taken_from`` names a previous holder whose lease had expired."""

    @abstractmethod
    def check_lease(self, lease: Lease) -> None:
        """The fence, called first in each write transaction of a leased attempt: lock the
        attempt's row (PostgreSQL ``FOR UPDATE``, so a concurrent claim waits or is waited
        for) and check it is still held by ``lease.daemon_id`` at ``lease.epoch``.

        :raises LeaseLost: another daemon claimed it since (the caller's writes must roll
            back)."""

    @abstractmethod
    def release_leases(self, daemon_id: str) -> int:
        """A daemon stopping cleanly: free its leases (so others take them at once, not after
        expiry) and delete its row. How many leases were freed."""

    @abstractmethod
    def break_all_leases(self) -> int:
        """Free every lease (SQLite only: the daemon's lock file proves no other daemon is
        alive, so a restart need not wait for a dead one's leases to expire). How many."""

    @abstractmethod
    def list_daemons(self) -> list[DaemonRow]:
        """Registered daemons, by id."""

    @abstractmethod
    def list_leases(self) -> list[Lease]:
        """Current holders of running attempts (expired leases included), by attempt id."""


class SecretRepo(ABC):
    """Secrets set through the REST API, one per (project, key). Values are opaque
    encrypted records (``secrets.crypto``): the store never sees plaintext."""

    @abstractmethod
    def list_keys(self, project_id: int) -> list[str]:
        """The project's secret keys, sorted."""

    @abstractmethod
    def get_record(self, project_id: int, key: str) -> bytes | None:
        """The encrypted record of ``key``, or None."""

    @abstractmethod
    def put_record(self, project_id: int, key: str, record: bytes, *, now: datetime) -> None:
        """Insert or replace the record of ``key``."""

    @abstractmethod
    def delete_record(self, project_id: int, key: str) -> bool:
        """Delete ``key``; False when there was none."""


class BrowseRepo(ABC):
    """What the REST API lists and pages through (newest first, ``id < last_id``), project
    soft delete, and the aggregates ``/metrics`` reports."""

    @abstractmethod
    def list_projects(self, *, include_deleted: bool = False) -> list[Project]:
        """Projects by id; soft-deleted ones only with ``include_deleted``."""

    @abstractmethod
    def project_deleted_at(self, project_id: int) -> datetime | None:
        """When the project was deleted, or None. :raises NotFound: no such project."""

    @abstractmethod
    def delete_project(self, project_id: int, *, now: datetime) -> bool:
        """Soft-delete the project and delete its schedules (sessions are kept). False when
        it already was deleted."""

    @abstractmethod
    def restore_project(self, project_id: int) -> None:
        """Undo a soft delete (a push of the same name brings the project back)."""

    @abstractmethod
    def list_revisions(self, project_id: int) -> list[Revision]:
        """The project's revisions, newest first."""

    @abstractmethod
    def find_revision(self, project_id: int, name: str) -> Revision | None:
        """The project's revision called ``name``, or None."""

    @abstractmethod
    def archive_hash(self, revision_id: int) -> str | None:
        """The sha256 of the revision's stored archive (without loading it), or None."""

    @abstractmethod
    def page_sessions(self, *, project_id: int | None = None, workflow: str | None = None,
                      last_id: int | None = None, limit: int = 100) -> list[Session]:
        """Sessions with ``id < last_id`` (all when None), newest id first, at most ``limit``."""

    @abstractmethod
    def page_attempts(self, *, project_id: int | None = None, workflow: str | None = None,
                      session_id: int | None = None, include_retried: bool = False,
                      last_id: int | None = None, limit: int = 100) -> list[Attempt]:
        """Attempts with ``id < last_id``, newest id first, at most ``limit``; without
        ``include_retried`` only each session's last attempt."""

    @abstractmethod
    def count_attempts_by_status(self) -> dict[str, int]:
        """How many attempts have each status (statuses with none are left out)."""

    @abstractmethod
    def count_ready_tasks(self) -> int:
        """READY tasks of running attempts: the queue waiting for a worker thread."""

    @abstractmethod
    def task_duration_histogram(self, bounds: Sequence[float]) -> tuple[list[int], int, float]:
        """Finished operator tasks by run time: cumulative counts ``<= bound`` for each of
        the ascending ``bounds`` (seconds), the total count, and the sum of seconds."""


class BackfillRepo(ABC):
    """Sequential backfills (spec §5.5): each slot's attempt starts when the previous one is
    done. Times are aware datetimes (UTC)."""

    @abstractmethod
    def insert_backfill(self, new: NewBackfill) -> StoredBackfill:
        """Store a backfill and its slots (positions 0, 1, ... in ``new.session_times``
        order), none started yet."""

    @abstractmethod
    def list_unfinished(self) -> list[int]:
        """Ids of backfills with a slot left to start, oldest first."""

    @abstractmethod
    def lock_unfinished(self, backfill_id: int) -> StoredBackfill | None:
        """The backfill locked for this transaction, or None when it is finished or (on
        PostgreSQL) locked by another daemon (``FOR UPDATE SKIP LOCKED``)."""

    @abstractmethod
    def list_slots(self, backfill_id: int) -> list[BackfillSlot]:
        """The backfill's slots by position."""

    @abstractmethod
    def set_slot_attempt(self, backfill_id: int, position: int, attempt_id: int) -> bool:
        """Compare-and-set: record the slot's attempt only if it has none yet."""

    @abstractmethod
    def finish_backfill(self, backfill_id: int, *, now: datetime) -> bool:
        """Mark it finished (every slot started); False when it already was."""

    @abstractmethod
    def latest_session_before(self, project_id: int, workflow_name: str,
                              before: datetime) -> datetime | None:
        """The newest session time of the workflow before ``before`` (the first backfilled
        slot's ``last_executed_session_time``), or None."""


class Tx(ABC):
    """One open transaction, with a repository per aggregate."""

    projects: ProjectRepo
    sessions: SessionRepo
    attempts: AttemptRepo
    tasks: TaskRepo
    # The daemon's aggregates: only the SQLAlchemy store implements them (``digpy run``'s
    # stdlib store never schedules).
    schedules: ScheduleRepo
    archives: ArchiveRepo
    retention: RetentionRepo
    leases: LeaseRepo
    backfills: BackfillRepo
    # The REST API's (issue #6 §5): SQLAlchemy store only.
    secrets: SecretRepo
    browse: BrowseRepo


class Store(ABC):
    """A state store. Open one per process and share it; it is not safe to use one store
    from several threads at once (digpy's agent keeps store calls on one thread)."""

    @abstractmethod
    def write(self) -> AbstractContextManager[Tx]:
        """A write transaction: commits on a clean exit, rolls back on an exception.

        :raises StoreLocked: another process kept the database busy for longer than the
            busy timeout."""

    @abstractmethod
    def read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction (a consistent snapshot); never call write methods in it."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and locks. The store is unusable afterwards."""

    @property
    @abstractmethod
    def description(self) -> str:
        """Where the state lives, for messages (a path or a URL without password)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

