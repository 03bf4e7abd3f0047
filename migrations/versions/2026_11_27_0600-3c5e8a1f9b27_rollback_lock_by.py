"""A rollback lock names who rolled back in created_by, not as `<@U…>` inside its reason

The reason is shown escaped, as typed text, so a mention written into it showed as the literal
`<@U0…>`. Locks written before this keep the bot (`releasebot`) in created_by and the mention
or "(automatically)" in the reason: both are moved out here. Data only; no schema change.

Revision ID: 3c5e8a1f9b27
Revises: b7d41c9e2f06
Create Date: 2026-11-27 06:00:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c5e8a1f9b27"
down_revision: str | None = "b7d41c9e2f06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOT = "releasebot"
# "… was rolled back: <why> (by <@U1>)" or "… (automatically)", maybe then "; the rollback failed".
_AFTER_WHY = re.compile(r" \((?:by <@(?P<user>[UWB][A-Z0-9]+)>|automatically)\)")
# "… was rolled back: rolled back by <@U1>" when the rollback was given no reason.
_NO_WHY = re.compile(r": rolled back (?:by <@(?P<user>[UWB][A-Z0-9]+)>|automatically)(?:; |$)")

_freeze = sa.table(
    "freeze",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("reason", sa.Text),
    sa.column("created_by", sa.String),
)


def moved_out(reason: str) -> tuple[str, str] | None:
    """The reason without who rolled back, and who did (the bot when it did); None when the
    reason names nobody (a lock written by this revision or later)."""
    found = _NO_WHY.search(reason)
    if found is not None:
        rest = reason[found.end() :]
        return reason[: found.start()] + (f": {rest}" if rest else ""), found["user"] or BOT
    found = _AFTER_WHY.search(reason)
    if found is not None:
        return reason[: found.start()] + reason[found.end() :], found["user"] or BOT
    return None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_freeze.c.id, _freeze.c.reason).where(
            _freeze.c.kind == "rollback_lock", _freeze.c.created_by == BOT
        )
    ).all()
    for row_id, reason in rows:
        moved = moved_out(reason)
        if moved is not None:
            connection.execute(
                _freeze.update()
                .where(_freeze.c.id == row_id)
                .values(reason=moved[0], created_by=moved[1])
            )


def downgrade() -> None:
    # The mention goes back into the reason, where the code before this revision looks for it.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_freeze.c.id, _freeze.c.reason, _freeze.c.created_by).where(
            _freeze.c.kind == "rollback_lock"
        )
    ).all()
    for row_id, reason, created_by in rows:
        by = "automatically" if created_by == BOT else f"by <@{created_by}>"
        head, failed, tail = reason.partition("; the rollback failed")
        connection.execute(
            _freeze.update()
            .where(_freeze.c.id == row_id)
            .values(reason=f"{head} ({by}){failed}{tail}", created_by=BOT)
        )
