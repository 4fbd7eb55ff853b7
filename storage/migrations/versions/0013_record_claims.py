"""a claim of a roster record waits for confirmation

Revision ID: 0013
Revises: 0012

An applicant whose phone and name match a member a roster import registered no longer becomes that member at once:
the application's request is kept after the consent, naming the record it claims, until a leader or officer of the
team confirms (/认领). Existing requests claim nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("joinrequest") as table:
        table.add_column(sa.Column("claims_member_id", sa.Integer(), nullable=True))
        table.create_foreign_key("fk_joinrequest_claims_member_id_member", "member", ["claims_member_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("joinrequest") as table:
        table.drop_constraint("fk_joinrequest_claims_member_id_member", type_="foreignkey")
        table.drop_column("claims_member_id")
