"""a new member's first /帮助 in a group shows what volunteers do, once: member.welcomed_at remembers it

Revision ID: 0011
Revises: 0010

Members already there when this runs are not new: they count as welcomed (as of when they were added), so their
next /帮助 is the usual menu.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("member", sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE member SET welcomed_at = created_at")


def downgrade() -> None:
    # in place on both databases (SQLite 3.35 or newer): a batch copy of member would drop the table every other
    # table refers to, which SQLite refuses with foreign keys on
    op.execute("ALTER TABLE member DROP COLUMN welcomed_at")
