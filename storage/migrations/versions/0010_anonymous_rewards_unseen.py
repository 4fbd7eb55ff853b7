"""anonymous tips' rewards are paid in batches and seen by the reporter alone; boards count earnings

Revision ID: 0010
Revises: 0009

An anonymous tip's reward had gone into the ledger at the moment of verification, with the reporter's name on the
row, and moved their balance, their place on every board and their line in the export the same day: an officer
could tie the tip to a member. From now on such rewards wait (tip.reward_state) for a weekly payout that pays at
least k reporters of a unit at once (anonymouspayout), and their ledger entries are private: they count in what the
member can spend (membertotal.spendable) and in nothing anyone else reads. Boards and sheets count earnings
(membertotal.points no longer goes down when a member spends), so a redemption paid with private points shows
nowhere either.

The data already there is brought in line: ledger entries of anonymous tips become private, and each member's
running totals lose what was spent or refunded and what anonymous tips paid (periods in the configured time zone,
as in 0006); spendable starts as the old all-time balance.
"""

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anonymouspayout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("reporters", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "period"),
    )
    op.create_index(op.f("ix_anonymouspayout_unit_id"), "anonymouspayout", ["unit_id"], unique=False)
    with op.batch_alter_table("pointentry") as table:
        table.add_column(sa.Column("private", sa.Boolean(), server_default="0", nullable=False))
    with op.batch_alter_table("membertotal") as table:
        table.add_column(sa.Column("spendable", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("tip") as table:
        table.add_column(sa.Column("reward_state", sa.String(length=8), nullable=True))
        table.add_column(sa.Column("payout_id", sa.Integer(), nullable=True))
        table.create_index(op.f("ix_tip_reward_state"), ["reward_state"], unique=False)
        table.create_foreign_key("fk_tip_payout_id_anonymouspayout", "anonymouspayout", ["payout_id"], ["id"])
    _bring_existing_data_in_line()


def _bring_existing_data_in_line() -> None:
    from storage.settings import settings

    connection = op.get_bind()
    anonymous = "SELECT id FROM tip WHERE anonymous = :yes"
    connection.execute(
        sa.text(
            "UPDATE pointentry SET private = :yes "
            f"WHERE reason = 'tip' AND ref_type = 'tip' AND ref_id IN ({anonymous})"
        ),
        {"yes": True},
    )
    connection.execute(
        sa.text(
            f"UPDATE tip SET reward_state = 'paid' WHERE id IN ({anonymous}) AND status = 'verified' AND points > 0"
        ),
        {"yes": True},
    )
    connection.execute(sa.text("UPDATE membertotal SET spendable = points WHERE period = 'all'"))

    def keys(moment) -> list[str]:
        if isinstance(moment, str):  # SQLite hands back its text for a plain SELECT
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        local = moment.astimezone(settings.timezone)
        year, week, _ = local.isocalendar()
        return [f"w{year}-{week:02d}", f"m{local.year}-{local.month:02d}", f"y{local.year}", "all"]

    unseen: dict[tuple[int, str], int] = {}
    for member_id, amount, created_at in connection.execute(
        sa.text(
            "SELECT member_id, amount, created_at FROM pointentry "
            "WHERE reason IN ('redemption', 'refund') OR private = :yes"
        ),
        {"yes": True},
    ):
        for key in keys(created_at):
            unseen[(member_id, key)] = unseen.get((member_id, key), 0) + amount
    statement = sa.text(
        "UPDATE membertotal SET points = points - :amount WHERE member_id = :member AND period = :period"
    )
    for (member_id, period), amount in unseen.items():
        if amount:
            connection.execute(statement, {"amount": amount, "member": member_id, "period": period})


def downgrade() -> None:
    with op.batch_alter_table("tip") as table:
        table.drop_constraint("fk_tip_payout_id_anonymouspayout", type_="foreignkey")
        table.drop_index(op.f("ix_tip_reward_state"))
        table.drop_column("payout_id")
        table.drop_column("reward_state")
    with op.batch_alter_table("membertotal") as table:
        table.drop_column("spendable")
    with op.batch_alter_table("pointentry") as table:
        table.drop_column("private")
    op.drop_index(op.f("ix_anonymouspayout_unit_id"), table_name="anonymouspayout")
    op.drop_table("anonymouspayout")
