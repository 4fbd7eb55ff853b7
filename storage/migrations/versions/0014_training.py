"""training: courses, their completions, the qualifications they grant, quiz attempts; a task can be a course's session

Revision ID: 0014
Revises: 0013

Courses belong to a unit (/课程). A completion (a session attended, an online quiz passed, or /结业) grants the
course's qualifications, each valid until the completion's last day; a task's 需要: accepts them. Quiz attempts are
kept for the figures and the retry wait. Existing tasks are no course's session.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=True),
        sa.Column("grants", _JSON, nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("quiz", _JSON, nullable=False),
        sa.Column("material_text", sa.Text(), nullable=False),
        sa.Column("material_link", sa.String(length=500), nullable=False),
        sa.Column("material_photos", _JSON, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "name"),
    )
    op.create_index(op.f("ix_course_unit_id"), "course", ["unit_id"], unique=False)

    op.create_table(
        "coursecompletion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("course_id", "member_id", "completed_on"),
    )
    op.create_index(op.f("ix_coursecompletion_course_id"), "coursecompletion", ["course_id"], unique=False)
    op.create_index(op.f("ix_coursecompletion_member_id"), "coursecompletion", ["member_id"], unique=False)

    op.create_table(
        "qualification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=20), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["completion_id"], ["coursecompletion.id"]),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("completion_id", "tag"),
    )
    op.create_index(op.f("ix_qualification_course_id"), "qualification", ["course_id"], unique=False)
    op.create_index(op.f("ix_qualification_valid_until"), "qualification", ["valid_until"], unique=False)
    op.create_index("ix_qualification_member_tag", "qualification", ["member_id", "tag"], unique=False)

    op.create_table(
        "quizattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_quizattempt_course_id"), "quizattempt", ["course_id"], unique=False)
    op.create_index(op.f("ix_quizattempt_member_id"), "quizattempt", ["member_id"], unique=False)
    op.create_index(op.f("ix_quizattempt_created_at"), "quizattempt", ["created_at"], unique=False)

    # task is altered in place on both databases (a batch copy would drop a table others refer to); SQLite adds a
    # reference only with its column, in its own words
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE task ADD COLUMN course_id INTEGER REFERENCES course (id)")
    else:
        op.add_column("task", sa.Column("course_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_task_course_id_course", "task", "course", ["course_id"], ["id"])
    op.create_index(op.f("ix_task_course_id"), "task", ["course_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_course_id"), table_name="task")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("task") as table:  # SQLite drops a referencing column only by copying
            table.drop_column("course_id")
    else:
        op.drop_constraint("fk_task_course_id_course", "task", type_="foreignkey")
        op.drop_column("task", "course_id")
    op.drop_table("quizattempt")
    op.drop_table("qualification")
    op.drop_table("coursecompletion")
    op.drop_table("course")
