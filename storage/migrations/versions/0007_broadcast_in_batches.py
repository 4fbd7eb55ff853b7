"""periodic posts made a batch of teams at a time

Revision ID: 0007
Revises: 0006

A broadcast records the last team it has posted to and when it finished, so that a city's weekly board goes out
in short transactions and a post cut short goes on where it stopped. Posts made before this were made whole:
they count as finished.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast") as table:
        table.add_column(sa.Column("through_team", sa.Integer(), server_default="0", nullable=False))
        table.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE broadcast SET finished_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("broadcast") as table:
        table.drop_column("finished_at")
        table.drop_column("through_team")
