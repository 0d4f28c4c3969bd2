"""SQLAlchemy Core tables: the one description of the database.

The Alembic migrations under ``migrations/versions`` create exactly this schema (a test
compares them); ``HEAD`` names the newest migration so a store can skip Alembic (and its
import time) when the database is current.

Times are stored as integer milliseconds since the epoch (UTC): portable between SQLite
and PostgreSQL, cheap to convert, and ordered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

HEAD = "0006"

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json(*, nullable: bool = False) -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=nullable).with_variant(JSONB(none_as_null=nullable), "postgresql")


class Millis(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime`` stored as epoch milliseconds."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC time")
        return round(value.timestamp() * 1000)

    def process_result_value(self, value: int | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value / 1000, UTC)


projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("deleted_at", Millis, nullable=True),  # soft delete (API, migration 0004)
)

revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("default_params", _json(), nullable=False),
    sa.Column("created_at", Millis, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
    sa.Index(None, "project_id", "hash"),
)

workflow_definitions = sa.Table(
    "workflow_definitions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("revision_id", Id, sa.ForeignKey("revisions.id"), nullable=False),
    sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("definition", _json(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("revision_id", "name"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("workflow_name", sa.String(255), nullable=False),
    sa.Column("session_time", Millis, nullable=False),
    sa.Column("uuid", sa.String(36), nullable=False),
    sa.Column("last_attempt_id", Id, nullable=True),  # no FK: attempts point back here
    sa.Column("created_at", Millis, nullable=False),
    sa.UniqueConstraint("project_id", "workflow_name", "session_time"),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("session_id", Id, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("index", sa.Integer, nullable=False),
    sa.Column("params", _json(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("who", sa.String(255), nullable=False),
    sa.Column(
        "workflow_definition_id", Id, sa.ForeignKey("workflow_definitions.id"), nullable=False
    ),
    sa.Column("revision_name", sa.String(255), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("finished_at", Millis, nullable=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("task_limit", sa.Integer, nullable=False),
    sa.Column("result", _json(nullable=True), nullable=True),
    sa.Column("error", _json(nullable=True), nullable=True),
    # Leases (migration 0003): the daemon driving the attempt, until when (database clock),
    # and the fencing token that daemon's writes must still match.
    sa.Column("locked_by", sa.String(255), nullable=True),
    sa.Column("lock_expires_at", Millis, nullable=True),
    sa.Column("lease_epoch", sa.Integer, nullable=False, server_default=sa.text("0")),
    # The client's Idempotency-Key of the PUT /api/attempts that created it (migration
    # 0006): a repeated request finds the attempt instead of starting another (C6).
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    sa.UniqueConstraint("session_id", "name"),
    sa.Index(None, "status"),
    sa.Index(None, "idempotency_key", unique=True),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", Id, primary_key=True),  # allocated in batches (store.sql.tasks)
    sa.Column("attempt_id", Id, sa.ForeignKey("attempts.id"), nullable=False),
    sa.Column("parent_id", Id, nullable=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("is_group", sa.Boolean, nullable=False),
    sa.Column("operator", sa.String(64), nullable=True),
    sa.Column("state", sa.SmallInteger, nullable=False),
    sa.Column("flags", sa.Integer, nullable=False),
    sa.Column("upstream_ids", _json(), nullable=False),
    sa.Column("config", _json(), nullable=False),
    sa.Column("export_params", _json(), nullable=False),
    sa.Column("store_params", _json(), nullable=False),
    sa.Column("reset_keys", _json(), nullable=False),
    sa.Column("state_params", _json(), nullable=False),
    sa.Column("subtask_config", _json(nullable=True), nullable=True),
    sa.Column("report", _json(), nullable=False),
    sa.Column("error", _json(nullable=True), nullable=True),
    sa.Column("retry_count", sa.Integer, nullable=False),
    sa.Column("retry_at", Millis, nullable=True),
    sa.Column("started_at", Millis, nullable=True),
    sa.Column("finished_at", Millis, nullable=True),
    sa.Column("log_path", sa.Text, nullable=True),
    sa.Index(None, "attempt_id", "state"),
    sa.Index(None, "attempt_id", "full_name"),
    sa.Index(None, "parent_id"),
)

resuming_tasks = sa.Table(
    "resuming_tasks",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("attempt_id", Id, sa.ForeignKey("attempts.id"), nullable=False),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("parent_full_name", sa.Text, nullable=False),
    sa.Column("upstream_full_names", _json(), nullable=False),
    sa.Column("is_group", sa.Boolean, nullable=False),
    sa.Column("operator", sa.String(64), nullable=True),
    sa.Column("config", _json(), nullable=False),
    sa.Column("output", _json(), nullable=False),
    sa.Index(None, "attempt_id"),
)

# -- issue 6: the scheduler daemon (migration 0002) --------------------------------------------

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("workflow_name", sa.String(255), nullable=False),
    sa.Column(
        "workflow_definition_id", Id, sa.ForeignKey("workflow_definitions.id"), nullable=False
    ),
    sa.Column("next_run_time", Millis, nullable=False),
    sa.Column("next_schedule_time", Millis, nullable=False),
    sa.Column("last_session_time", Millis, nullable=True),
    sa.Column("disabled_at", Millis, nullable=True),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("updated_at", Millis, nullable=False),
    sa.UniqueConstraint("project_id", "workflow_name"),
    sa.Index(None, "next_run_time"),
)

revision_archives = sa.Table(
    "revision_archives",
    metadata,
    sa.Column("revision_id", Id, sa.ForeignKey("revisions.id"), primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),  # sha256 of the tar.gz bytes
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# -- issue 6 §3: leases (migration 0003) --------------------------------------------------------

daemons = sa.Table(
    "daemons",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),  # host:pid:random
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", Millis, nullable=False),
    sa.Column("heartbeat_at", Millis, nullable=False),
)

# -- issue 6 §5: secrets of the REST API (migration 0004) ---------------------------------------

secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("value", sa.LargeBinary, nullable=False),  # AES-GCM record, never plaintext
    sa.Column("updated_at", Millis, nullable=False),
    sa.UniqueConstraint("project_id", "key"),
)

# -- issue 6 §2: sequential backfills (migration 0005) ------------------------------------------
# No foreign key to schedules (a push that drops the workflow deletes its schedule) nor to
# attempts (``digpy gc`` deletes old attempts); a missing attempt counts as done.

backfills = sa.Table(
    "backfills",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("schedule_id", Id, nullable=False),
    sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("workflow_name", sa.String(255), nullable=False),
    sa.Column(
        "workflow_definition_id", Id, sa.ForeignKey("workflow_definitions.id"), nullable=False
    ),
    sa.Column("attempt_name", sa.String(255), nullable=False),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("finished_at", Millis, nullable=True),
    sa.Index(None, "finished_at"),
)

backfill_slots = sa.Table(
    "backfill_slots",
    metadata,
    sa.Column("backfill_id", Id, sa.ForeignKey("backfills.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("session_time", Millis, nullable=False),
    sa.Column("attempt_id", Id, nullable=True),
)
