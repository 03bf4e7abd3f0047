"""The command journal: writes recorded before the ack, carried out once, answered

Revision ID: fd9c53bb4c54
Revises: 5e095c2d0fa9
Create Date: 2026-11-26 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.store.db

revision: str = "fd9c53bb4c54"
down_revision: str | None = "5e095c2d0fa9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "command_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("received_at", bot.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("lease_until", bot.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", bot.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("answered_at", bot.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_key"),
    )
    with op.batch_alter_table("command_journal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_command_journal_open", ["answered_at", "lease_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("command_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_command_journal_open")

    op.drop_table("command_journal")
