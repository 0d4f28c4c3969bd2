"""Schedules (one per project and workflow name) and revision archives (pushed tar.gz).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of the schema's column types: a migration must not change when schema.py does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Millis = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("workflow_name", sa.String(255), nullable=False),
        sa.Column("workflow_definition_id", Id, nullable=False),
        sa.Column("next_run_time", Millis, nullable=False),
        sa.Column("next_schedule_time", Millis, nullable=False),
        sa.Column("last_session_time", Millis, nullable=True),
        sa.Column("disabled_at", Millis, nullable=True),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_schedules_project_id_projects"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_definition_id"],
            ["workflow_definitions.id"],
            name="fk_schedules_workflow_definition_id_workflow_definitions",
        ),
        sa.UniqueConstraint(
            "project_id", "workflow_name", name="uq_schedules_project_id_workflow_name"
        ),
    )
    op.create_index("ix_schedules_next_run_time", "schedules", ["next_run_time"])
    op.create_table(
        "revision_archives",
        sa.Column("revision_id", Id, primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revisions.id"], name="fk_revision_archives_revision_id_revisions"
        ),
    )


def downgrade() -> None:
    op.drop_table("revision_archives")
    op.drop_index("ix_schedules_next_run_time", table_name="schedules")
    op.drop_table("schedules")
