"""Leases: which daemon drives a running attempt, until when, under which fencing token;
and a ``daemons`` row per live daemon (its heartbeat, for observability).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of the schema's column types: a migration must not change when schema.py does.
Millis = sa.BigInteger


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): nullable or constant-default columns work on both.
    op.add_column("attempts", sa.Column("locked_by", sa.String(255), nullable=True))
    op.add_column("attempts", sa.Column("lock_expires_at", Millis, nullable=True))
    op.add_column(
        "attempts",
        sa.Column("lease_epoch", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.create_table(
        "daemons",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", Millis, nullable=False),
        sa.Column("heartbeat_at", Millis, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daemons")
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("lease_epoch")
        batch.drop_column("lock_expires_at")
        batch.drop_column("locked_by")
