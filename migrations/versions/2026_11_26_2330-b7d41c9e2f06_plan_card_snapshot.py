"""Rendered cards kept with their plans for `/release show`; a lane's live release by index

Revision ID: b7d41c9e2f06
Revises: da1114f54aec
Create Date: 2026-11-26 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "b7d41c9e2f06"
down_revision: str | None = "da1114f54aec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_card",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["release_plan.id"]),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.create_index(
            "ix_release_plan_lane_deployed",
            ["service", "environment", "state", "deployed_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.drop_index("ix_release_plan_lane_deployed")
    op.drop_table("plan_card")
