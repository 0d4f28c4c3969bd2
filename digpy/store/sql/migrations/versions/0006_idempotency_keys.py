"""Idempotent attempt starts: the client's key of the ``PUT /api/attempts`` that created an
attempt, unique, so a repeated request returns that attempt (reliability C6).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column is a plain ADD COLUMN on both SQLite and PostgreSQL; NULL keys
    # (every older attempt, every scheduled one) never clash in the unique index.
    op.add_column("attempts", sa.Column("idempotency_key", sa.String(255), nullable=True))
    op.create_index("ix_attempts_idempotency_key", "attempts", ["idempotency_key"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ix_attempts_idempotency_key", table_name="attempts")
    with op.batch_alter_table("attempts") as batch:  # SQLite: DROP COLUMN via a copy
        batch.drop_column("idempotency_key")
