"""Sequential backfills: the slots of each backfill and the attempt each one started.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen copies of the schema's column types: a migration must not change when schema.py does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Millis = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "backfills",
        sa.Column("id", Id, primary_key=True),
        sa.Column("schedule_id", Id, nullable=False),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("workflow_name", sa.String(255), nullable=False),
        sa.Column("workflow_definition_id", Id, nullable=False),
        sa.Column("attempt_name", sa.String(255), nullable=False),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("finished_at", Millis, nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_backfills_project_id_projects"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_definition_id"], ["workflow_definitions.id"],
            name="fk_backfills_workflow_definition_id_workflow_definitions",
        ),
    )
    op.create_index("ix_backfills_finished_at", "backfills", ["finished_at"])
    op.create_table(
        "backfill_slots",
        sa.Column("backfill_id", Id, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("session_time", Millis, nullable=False),
        sa.Column("attempt_id", Id, nullable=True),
        sa.PrimaryKeyConstraint("backfill_id", "position", name="pk_backfill_slots"),
        sa.ForeignKeyConstraint(
            ["backfill_id"], ["backfills.id"], name="fk_backfill_slots_backfill_id_backfills"
        ),
    )


def downgrade() -> None:
    op.drop_table("backfill_slots")
    op.drop_index("ix_backfills_finished_at", table_name="backfills")
    op.drop_table("backfills")
