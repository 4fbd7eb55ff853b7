"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from storage import db


def schema_at(connection, revision: str) -> None:
    """Take the schema down to an older `revision`, or up to "head" (in the connection's transaction)."""
    config = db.alembic_config()
    config.attributes["connection"] = connection
    (command.upgrade if revision == "head" else command.downgrade)(config, revision)


async def test_migrated_schema_matches_the_models(database: str) -> None:
    def differences(connection) -> list:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with db.get_engine().connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_start_up_migration_is_idempotent_and_at_head(database: str) -> None:
    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    await db.migrate(db.get_engine())
    async with db.get_engine().connect() as connection:
        versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert versions == [head]


async def test_the_points_migration_counts_the_ledger_that_was_already_there(database: str) -> None:
    """A database at 0005 with ledger entries, a check-out and verified tips: after 0006 the running totals equal
    the ledger and the records, period by period."""
    from storage.services import totals

    def stamp(moment: str):
        """A moment as each database's driver takes it for a plain INSERT (SQLite keeps naive UTC text)."""
        if db.get_engine().dialect.name == "postgresql":
            return datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
        return moment + ".000000"

    async with db.get_engine().begin() as connection:
        await connection.run_sync(schema_at, "0005")
        await connection.execute(
            text("INSERT INTO member (id, name, tags, status, created_at) VALUES (1, '张三', '[]', 'active', :t)"),
            {"t": stamp("2026-01-01 00:00:00")},
        )
        for ref, (amount, moment) in enumerate(
            [
                (5, "2025-12-31 17:00:00"),
                (7, "2026-01-04 15:59:00"),
                (-2, "2026-01-04 16:01:00"),
                (3, "2026-11-24 02:00:00"),
            ]
        ):
            await connection.execute(
                text(
                    "INSERT INTO pointentry (member_id, amount, reason, ref_type, ref_id, note, created_at) "
                    "VALUES (1, :amount, 'award', 'test', :ref, '', :at)"
                ),
                {
                    "amount": amount,
                    "ref": ref,
                    "at": stamp(moment),
                },
            )
        await connection.run_sync(schema_at, "head")
    async with db.session() as session:
        assert await totals.mismatches(session) == []
        assert await totals.balance_of(session, 1) == 13
        rows = {
            row[0]: row[1]
            for row in (await session.exec(text("SELECT period, points FROM membertotal WHERE member_id = 1"))).all()
        }
    # 2025-12-31 17:00 UTC is 2026-01-01 01:00 in Shanghai; 2026-01-04 16:01 UTC is Monday 2026-01-05 00:01
    assert rows["y2026"] == 13
    assert "y2025" not in rows
    assert rows["m2026-01"] == 10
    assert rows["w2026-01"] == 12
    assert rows["w2026-02"] == -2


async def test_a_weekly_board_made_before_posts_went_in_batches_is_not_made_again(database: str, monkeypatch) -> None:
    """A database at 0006 had made last week's board in one transaction: after 0007 that post counts as finished,
    so no group gets the board a second time."""
    from storage.services import standings
    from tests.test_points import give, set_up

    members = await set_up(per_team=1)
    monday = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
    await give(members["一队"][0], 5, 1, monday - timedelta(days=3), monkeypatch)
    monkeypatch.undo()
    made = monday if db.get_engine().dialect.name == "postgresql" else "2026-11-23 01:00:00.000000"
    async with db.get_engine().begin() as connection:
        await connection.run_sync(schema_at, "0006")
        await connection.execute(
            text(
                "INSERT INTO broadcast (kind, period, messages, created_at) VALUES ('weekly_board', 'w2026-47', 1, :at)"
            ),
            {"at": made},
        )
        await connection.run_sync(schema_at, "head")
    assert await standings.post_weekly_boards(monday + timedelta(hours=1)) == 0
    async with db.session() as session:
        boards = (await session.exec(text("SELECT count(*) FROM outboxmessage WHERE text LIKE '%上周%'"))).one()
    assert boards[0] == 0


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_no_plain_json_column_is_left_on_postgresql(database: str) -> None:
    """PostgreSQL's json has no equality: a DISTINCT or GROUP BY over a row holding one fails (the task list did).
    Every JSON column is JSONB there, the ones already holding data included. (SQLite keeps JSON as text.)"""
    async with db.get_engine().begin() as connection:
        await connection.run_sync(schema_at, "0007")
        await connection.execute(
            text("INSERT INTO member (name, tags, status, created_at) VALUES ('张三', '[\"救援\"]', 'active', now())")
        )
        await connection.run_sync(schema_at, "head")
        plain = (
            (
                await connection.execute(
                    text(
                        "SELECT table_name || '.' || column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND data_type = 'json'"
                    )
                )
            )
            .scalars()
            .all()
        )
        tags = (await connection.execute(text("SELECT DISTINCT tags FROM member"))).scalars().all()
    assert plain == []
    assert tags == [["救援"]]


async def test_the_anonymous_rewards_migration_hides_what_anonymous_tips_paid_and_what_was_spent(database: str) -> None:
    """A database at 0009 where an anonymous tip had been rewarded openly and the member had spent points: after
    0010 that reward is private, the boards' points count earnings only, and the member can spend the same."""
    from storage.services import totals

    at = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    moment = at if db.get_engine().dialect.name == "postgresql" else "2026-11-24 02:00:00.000000"
    async with db.get_engine().begin() as connection:
        await connection.run_sync(schema_at, "0009")
        await connection.execute(
            text("INSERT INTO unit (id, name, path, created_at) VALUES (1, '派出所', '派出所', :t)"), {"t": moment}
        )
        await connection.execute(
            text("INSERT INTO member (id, name, tags, status, created_at) VALUES (1, '张三', '[]', 'active', :t)"),
            {"t": moment},
        )
        await connection.execute(
            text(
                "INSERT INTO tip (id, reporter_id, unit_id, category, anonymous, status, points, created_at) "
                "VALUES (1, 1, 1, '赌博', :yes, 'verified', 20, :t)"
            ),
            {"yes": True, "t": moment},
        )
        for ref, (amount, reason, ref_type) in enumerate(
            [(30, "award", "award"), (20, "tip", "tip"), (-25, "redemption", "redemption")], start=1
        ):
            await connection.execute(
                text(
                    "INSERT INTO pointentry (member_id, amount, reason, ref_type, ref_id, note, created_at) "
                    "VALUES (1, :amount, :reason, :ref_type, :ref, '', :t)"
                ),
                {
                    "amount": amount,
                    "reason": reason,
                    "ref_type": ref_type,
                    "ref": 1 if reason == "tip" else ref,
                    "t": moment,
                },
            )
        for period in totals.period_keys(at):  # the totals as 0009 kept them: every entry, spending included
            await connection.execute(
                text(
                    "INSERT INTO membertotal (member_id, period, points, minutes, tips, points_at) "
                    "VALUES (1, :p, 25, 0, 0, :t)"
                ),
                {"p": period, "t": moment},
            )
        await connection.run_sync(schema_at, "head")
    async with db.session() as session:
        assert await totals.mismatches(session) == []
        assert await totals.balance_of(session, 1) == 25  # nothing to spend was lost
        points = dict((await session.exec(text("SELECT period, points FROM membertotal WHERE member_id = 1"))).all())
        hidden = (
            await session.exec(text("SELECT reason FROM pointentry WHERE private = :yes"), params={"yes": True})
        ).all()
        state = (await session.exec(text("SELECT reward_state FROM tip WHERE id = 1"))).one()
    assert points == dict.fromkeys(totals.period_keys(at), 30)  # the award; not the tip, not the cup
    assert [row[0] for row in hidden] == ["tip"]
    assert state[0] == "paid"


async def test_members_there_before_the_welcome_was_remembered_count_as_welcomed(database: str) -> None:
    """A database at 0010 with a member: after 0011 they count as welcomed (their next /帮助 is the menu), and a
    member added afterwards is not."""
    from storage.models import Member

    moment = "2026-11-24 02:00:00.000000"
    if db.get_engine().dialect.name == "postgresql":
        moment = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    async with db.get_engine().begin() as connection:
        await connection.run_sync(schema_at, "0010")
        await connection.execute(
            text("INSERT INTO member (id, name, tags, status, created_at) VALUES (1, '张三', '[]', 'active', :t)"),
            {"t": moment},
        )
        await connection.run_sync(schema_at, "head")
    async with db.session() as session:
        session.add(Member(id=2, name="李四"))
    async with db.session() as session:
        old, new = await session.get(Member, 1), await session.get(Member, 2)
    assert old is not None
    assert old.welcomed_at == datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    assert new is not None
    assert new.welcomed_at is None


async def test_members_there_before_files_existed_keep_everything_and_joined_when_added(database: str) -> None:
    """A database at 0011 with an active and an applying member, a team, an application begun in a group: after
    0012 (the member file) both keep their names, phones and tags, the active one joined when they were added, the
    applicant has not joined yet, nobody has verified tags, a file field or an erasure, and the application is
    still there, brought by no invite."""
    from storage.models import JoinRequest, Member, TeamMembership

    moment = "2026-11-24 02:00:00.000000"
    if db.get_engine().dialect.name == "postgresql":
        moment = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    async with db.get_engine().begin() as connection:
        await connection.run_sync(schema_at, "0011")
        for statement in (
            "INSERT INTO unit (id, name, path, created_at) VALUES (1, '派出所', '派出所', :t)",
            "INSERT INTO team (id, name, unit_id, created_at) VALUES (1, '一队', 1, :t)",
            "INSERT INTO member (id, name, phone, tags, status, created_at, welcomed_at) "
            "VALUES (1, '张三', '13800138000', '[\"驾驶\"]', 'active', :t, :t)",
            "INSERT INTO member (id, name, phone, tags, status, created_at) "
            "VALUES (2, '李四', '13900139000', '[]', 'applied', :t)",
            "INSERT INTO teammembership (id, team_id, member_id, status, applied_at) VALUES (1, 1, 2, 'applied', :t)",
            "INSERT INTO joinrequest (id, platform, user_id, team_id, group_id, name, tags, created_at) "
            "VALUES (1, 'onebot', '30003', 1, '555001', '王五', '[]', :t)",
        ):
            await connection.execute(text(statement), {"t": moment})
        await connection.run_sync(schema_at, "head")
    async with db.session() as session:
        active, applicant = await session.get(Member, 1), await session.get(Member, 2)
        application, begun = await session.get(TeamMembership, 1), await session.get(JoinRequest, 1)
    assert active is not None
    assert applicant is not None
    assert (active.name, active.phone, active.tags, active.status) == ("张三", "13800138000", ["驾驶"], "active")
    assert active.joined_at == datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    assert (applicant.name, applicant.phone, applicant.joined_at) == ("李四", "13900139000", None)
    for member in (active, applicant):
        assert member.verified_tags == []
        assert (member.id_number, member.emergency_contact, member.area, member.erased_at) == (None, None, None, None)
    assert application is not None
    assert (application.status, application.invite_id) == ("applied", None)
    assert begun is not None
    assert (begun.name, begun.answers, begun.invite_id) == ("王五", {}, None)
