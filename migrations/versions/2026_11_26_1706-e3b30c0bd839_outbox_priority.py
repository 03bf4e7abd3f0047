"""Outbox priority: alerts and requests for a decision go before other messages of a channel

Revision ID: e3b30c0bd839
Revises: fd9c53bb4c54
Create Date: 2026-11-26 17:06:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3b30c0bd839"
down_revision: str | None = "fd9c53bb4c54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        # Messages owed before the upgrade keep their order: all of them are normal.
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("priority")
