"""Secrets set through the REST API (encrypted values, one row per project and key) and
soft-deleted projects (``DELETE /api/projects/{id}`` keeps their sessions).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen copies of the schema's column types: a migration must not change when schema.py does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Millis = sa.BigInteger


def upgrade() -> None:
    op.add_column("projects", sa.Column("deleted_at", Millis, nullable=True))
    op.create_table(
        "secrets",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_secrets_project_id_projects"
        ),
        sa.UniqueConstraint("project_id", "key", name="uq_secrets_project_id_key"),
    )


def downgrade() -> None:
    op.drop_table("secrets")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("deleted_at")
