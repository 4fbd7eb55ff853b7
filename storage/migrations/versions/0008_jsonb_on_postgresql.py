"""JSON columns become JSONB on PostgreSQL

Revision ID: 0008
Revises: 0007

PostgreSQL's plain `json` has no equality operator, so a SELECT DISTINCT (or GROUP BY, UNION) over a row that holds
one fails there while it works on SQLite: the task list (/任务) failed on every call. JSONB has equality. SQLite
keeps its JSON (text) columns; nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_COLUMNS = {
    "member": ["tags"],
    "auditlog": ["detail"],
    "task": ["required_tags"],
    "outboxmessage": ["target", "buttons", "mentions", "image"],
    "tipentry": ["photos"],
    "alert": ["required_tags"],
}


def _retype(to: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in JSON_COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} TYPE {to} USING {column}::{to}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    _retype("jsonb")


def downgrade() -> None:
    _retype("json")
