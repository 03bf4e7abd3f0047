"""Plan again once per expired plan; checklist sign-offs that belong to one version

Revision ID: 7c2e5a91d4b3
Revises: f956d0207627
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c2e5a91d4b3"
down_revision: str | None = "f956d0207627"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a REFERENCES clause in ADD COLUMN; Alembic would rebuild the table
        # instead, which trips over the foreign keys other tables hold on release_plan.
        op.execute(
            "ALTER TABLE release_plan ADD COLUMN replanned_from INTEGER "
            "CONSTRAINT fk_release_plan_replanned_from REFERENCES release_plan (id)"
        )
    else:
        op.add_column("release_plan", sa.Column("replanned_from", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_release_plan_replanned_from",
            "release_plan",
            "release_plan",
            ["replanned_from"],
            ["id"],
        )
    op.create_index(
        "uq_release_plan_replanned_from", "release_plan", ["replanned_from"], unique=True
    )
    op.add_column(
        "checklist_item",
        sa.Column("per_version", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Items of plans made before this: a pre-deploy sign-off is about the version (the
    # default of the `per_version` config key), a post-release one never is.
    items = sa.table("checklist_item", sa.column("phase"), sa.column("per_version"))
    op.execute(items.update().where(items.c.phase == "pre_deploy").values(per_version=True))


def downgrade() -> None:
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_column("per_version")
    op.drop_index("uq_release_plan_replanned_from", table_name="release_plan")
    if op.get_bind().dialect.name != "sqlite":
        # SQLite reflects the inline REFERENCES without its name; the rebuild drops it anyway.
        op.drop_constraint("fk_release_plan_replanned_from", "release_plan", type_="foreignkey")
    with op.batch_alter_table("release_plan", schema=None) as batch_op:
        batch_op.drop_column("replanned_from")
