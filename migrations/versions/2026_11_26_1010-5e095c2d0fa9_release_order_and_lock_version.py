"""When each plan's rollout started, and which version a rollback lock holds back

Revision ID: 5e095c2d0fa9
Revises: 7c2e5a91d4b3
Create Date: 2026-11-26 10:10:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.store.db

revision: str = "5e095c2d0fa9"
down_revision: str | None = "7c2e5a91d4b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How bot/release/freezes.py words a lock's reason: "R-12 (1.4.2) was rolled back: …".
_LOCK_REASON = re.compile(r"^R-\d+ \((?P<version>.+?)\) was rolled back")


def upgrade() -> None:
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deployed_at", bot.store.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("freeze", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
    # Plans deployed before this column existed: their first rollout stage says when.
    op.execute(
        "UPDATE release_plan SET deployed_at = (SELECT MIN(s.created_at) FROM deployment_stage s"
        " WHERE s.plan_id = release_plan.id AND s.phase = 'rollout')"
    )
    # `freeze` is a reserved word in PostgreSQL: table constructs quote it.
    freeze = sa.table(
        "freeze",
        sa.column("id", sa.Integer),
        sa.column("kind"),
        sa.column("reason"),
        sa.column("version"),
    )
    connection = op.get_bind()
    locks = connection.execute(
        sa.select(freeze.c.id, freeze.c.reason).where(freeze.c.kind == "rollback_lock")
    ).all()
    for lock_id, reason in locks:
        found = _LOCK_REASON.match(reason or "")
        if found is not None:
            connection.execute(
                freeze.update()
                .where(freeze.c.id == lock_id)
                .values(version=found.group("version")[:128])
            )


def downgrade() -> None:
    with op.batch_alter_table("freeze", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.drop_column("deployed_at")
