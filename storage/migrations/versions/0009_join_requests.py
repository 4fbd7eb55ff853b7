"""applications begun in a group are finished in private; best-effort outbox messages

Revision ID: 0009
Revises: 0008

/加入 in a team's group no longer asks for the phone number there (everyone in the group reads it): the name and
specialties wait in joinrequest until the applicant sends the number to the bot in private. The bot's prompt
there is sent once, as a best-effort message: a platform that refuses it (the person never opened a private chat
with the bot) drops it instead of retrying and parking it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "joinrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("tags", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "user_id"),
    )
    op.create_index(op.f("ix_joinrequest_team_id"), "joinrequest", ["team_id"], unique=False)
    with op.batch_alter_table("outboxmessage") as table:
        table.add_column(sa.Column("best_effort", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as table:
        table.drop_column("best_effort")
    op.drop_index(op.f("ix_joinrequest_team_id"), table_name="joinrequest")
    op.drop_table("joinrequest")
