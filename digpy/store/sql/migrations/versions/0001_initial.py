"""Initial schema: projects, revisions, workflow definitions, sessions, attempts, tasks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the schema's column types: a migration must not change when schema.py does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Millis = sa.BigInteger


def _json(*, nullable: bool = False) -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=nullable).with_variant(JSONB(none_as_null=nullable), "postgresql")


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", Id, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("created_at", Millis, nullable=False),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "revisions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("default_params", _json(), nullable=False),
        sa.Column("created_at", Millis, nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_revisions_project_id_name"),
    )
    op.create_index("ix_revisions_project_id_hash", "revisions", ["project_id", "hash"])
    op.create_table(
        "workflow_definitions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("revision_id", Id, sa.ForeignKey("revisions.id"), nullable=False),
        sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("definition", _json(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint(
            "revision_id", "name", name="uq_workflow_definitions_revision_id_name"
        ),
    )
    op.create_table(
        "sessions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("workflow_name", sa.String(255), nullable=False),
        sa.Column("session_time", Millis, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("last_attempt_id", Id, nullable=True),
        sa.Column("created_at", Millis, nullable=False),
        sa.UniqueConstraint(
            "project_id",
            "workflow_name",
            "session_time",
            name="uq_sessions_project_id_workflow_name_session_time",
        ),
    )
    op.create_table(
        "attempts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("session_id", Id, sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("who", sa.String(255), nullable=False),
        sa.Column(
            "workflow_definition_id",
            Id,
            sa.ForeignKey("workflow_definitions.id"),
            nullable=False,
        ),
        sa.Column("revision_name", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("finished_at", Millis, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("task_limit", sa.Integer, nullable=False),
        sa.Column("result", _json(nullable=True), nullable=True),
        sa.Column("error", _json(nullable=True), nullable=True),
        sa.UniqueConstraint("session_id", "name", name="uq_attempts_session_id_name"),
    )
    op.create_index("ix_attempts_status", "attempts", ["status"])
    op.create_table(
        "tasks",
        sa.Column("id", Id, primary_key=True),
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
    )
    op.create_index("ix_tasks_attempt_id_state", "tasks", ["attempt_id", "state"])
    op.create_index("ix_tasks_attempt_id_full_name", "tasks", ["attempt_id", "full_name"])
    op.create_index("ix_tasks_parent_id", "tasks", ["parent_id"])
    op.create_table(
        "resuming_tasks",
        sa.Column("id", Id, primary_key=True),
        sa.Column("attempt_id", Id, sa.ForeignKey("attempts.id"), nullable=False),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("parent_full_name", sa.Text, nullable=False),
        sa.Column("upstream_full_names", _json(), nullable=False),
        sa.Column("is_group", sa.Boolean, nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("config", _json(), nullable=False),
        sa.Column("output", _json(), nullable=False),
    )
    op.create_index("ix_resuming_tasks_attempt_id", "resuming_tasks", ["attempt_id"])


def downgrade() -> None:
    for table in (
        "resuming_tasks",
        "tasks",
        "attempts",
        "sessions",
        "workflow_definitions",
        "revisions",
        "projects",
    ):
        op.drop_table(table)
