"""the member file (一人一档), invitations, vetting, insurance and erasure

Revision ID: 0012
Revises: 0011

Members get the fields of their file (ID number, emergency contact, area, employer, industry, profession), the tags
an officer verified, when they consented, joined, why they are suspended and whether they were erased. Invitations
(/招募) let people outside every team group apply in private; applications and memberships remember the invite.
Background checks, insurance policies and the list of erased member ids get tables of their own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_MEMBER_COLUMNS = (
    ("id_number", sa.String(length=18)),
    ("emergency_contact", sa.String(length=100)),
    ("area", sa.String(length=64)),
    ("employer", sa.String(length=64)),
    ("industry", sa.String(length=64)),
    ("profession", sa.String(length=64)),
    ("consented_at", sa.DateTime(timezone=True)),
    ("joined_at", sa.DateTime(timezone=True)),
    ("status_reason", sa.String(length=200)),
    ("erased_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # member is altered in place on both databases: a batch copy would drop the table every other table refers to
    for name, kind in _MEMBER_COLUMNS:
        op.add_column("member", sa.Column(name, kind, nullable=True))
    op.add_column("member", sa.Column("verified_tags", _JSON, server_default="[]", nullable=False))
    # members active before files existed joined when they were added
    op.execute("UPDATE member SET joined_at = created_at WHERE status = 'active'")

    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("places", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(op.f("ix_invite_unit_id"), "invite", ["unit_id"], unique=False)
    op.create_index(op.f("ix_invite_team_id"), "invite", ["team_id"], unique=False)

    op.create_table(
        "vetting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_vetting_member_id"), "vetting", ["member_id"], unique=False)

    op.create_table(
        "insurance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("insurer", sa.String(length=64), nullable=False),
        sa.Column("policy_number", sa.String(length=64), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_insurance_member_id"), "insurance", ["member_id"], unique=False)
    op.create_index(op.f("ix_insurance_valid_until"), "insurance", ["valid_until"], unique=False)

    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id"),
    )

    with op.batch_alter_table("joinrequest") as table:
        table.add_column(sa.Column("invite_id", sa.Integer(), nullable=True))
        table.add_column(sa.Column("answers", _JSON, server_default="{}", nullable=False))
        table.create_foreign_key("fk_joinrequest_invite_id_invite", "invite", ["invite_id"], ["id"])
    with op.batch_alter_table("teammembership") as table:
        table.add_column(sa.Column("invite_id", sa.Integer(), nullable=True))
        table.create_foreign_key("fk_teammembership_invite_id_invite", "invite", ["invite_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("teammembership") as table:
        table.drop_constraint("fk_teammembership_invite_id_invite", type_="foreignkey")
        table.drop_column("invite_id")
    with op.batch_alter_table("joinrequest") as table:
        table.drop_constraint("fk_joinrequest_invite_id_invite", type_="foreignkey")
        table.drop_column("answers")
        table.drop_column("invite_id")
    op.drop_table("erasure")
    op.drop_index(op.f("ix_insurance_valid_until"), table_name="insurance")
    op.drop_index(op.f("ix_insurance_member_id"), table_name="insurance")
    op.drop_table("insurance")
    op.drop_index(op.f("ix_vetting_member_id"), table_name="vetting")
    op.drop_table("vetting")
    op.drop_index(op.f("ix_invite_team_id"), table_name="invite")
    op.drop_index(op.f("ix_invite_unit_id"), table_name="invite")
    op.drop_table("invite")
    for name in ("verified_tags", *(name for name, _ in reversed(_MEMBER_COLUMNS))):
        op.execute(f"ALTER TABLE member DROP COLUMN {name}")
