"""Lease owners on plans and owed messages; the health check's write probe

Revision ID: da1114f54aec
Revises: e3b30c0bd839
Create Date: 2026-11-26 17:08:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.store.db

revision: str = "da1114f54aec"
down_revision: str | None = "e3b30c0bd839"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "write_probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probed_at", bot.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("lease_owner")
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.drop_column("lease_owner")
    op.drop_table("write_probe")
