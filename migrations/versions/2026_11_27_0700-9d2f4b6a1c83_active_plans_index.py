"""A partial index of the plans still moving, for `/release list`

Revision ID: 9d2f4b6a1c83
Revises: 3c5e8a1f9b27
Create Date: 2026-11-27 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d2f4b6a1c83"
down_revision: str | None = "3c5e8a1f9b27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# bot/store/models.py ACTIVE_CONDITION as of this revision, word for word.
ACTIVE = (
    "state IN ('approved', 'awaiting_approval', 'deploying', 'paused', 'rolling_back', 'verifying')"
)


def upgrade() -> None:
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.create_index(
            "ix_release_plan_active",
            ["id"],
            unique=False,
            postgresql_where=sa.text(ACTIVE),
            sqlite_where=sa.text(ACTIVE),
        )


def downgrade() -> None:
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.drop_index("ix_release_plan_active")
