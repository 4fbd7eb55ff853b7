"""Points, leaderboards, awards with caps, the weekly board and honours: on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import col, func, select

from plugins._texts.standings import board_title, reason_name
from storage import db
from storage.errors import NotAllowed
from storage.models import AuditLog, Broadcast, LedgerReason, MemberTotal, OutboxMessage, PointEntry
from storage.services import ledger, membership, organisation, standings, tasks, tips, totals
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import configure, settings
from tests.places import in_group, volunteer_name
from tests.refusals import refused

ADMIN = ChatAccount("onebot", "10001")
OFFICER = ChatAccount("onebot", "20001", "李警官")
OTHER_OFFICER = ChatAccount("onebot", "20002", "王警官")
GROUPS = {"一队": "810001", "二队": "810002", "外队": "810003"}
# Tuesday 2026-11-24 10:00 in Shanghai
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def volunteer(number: int) -> ChatAccount:
    return ChatAccount("onebot", str(30000 + number), volunteer_name(number))


async def set_up(per_team: int = 3) -> dict[str, list[int]]:
    """一队 and 二队 under 闫千户派出所 (李警官), 外队 under another branch (王警官); member numbers per team."""
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id="20001"), "市局/历下分局/闫千户派出所")
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id="20002"), "市局/槐荫分局")
    await organisation.bind_group(OFFICER, in_group(GROUPS["一队"]), "一队")
    await organisation.bind_group(OFFICER, in_group(GROUPS["二队"]), "二队")
    await organisation.bind_group(OTHER_OFFICER, in_group(GROUPS["外队"]), "外队")
    members: dict[str, list[int]] = {}
    number = 0
    for team, group in GROUPS.items():
        decider = OTHER_OFFICER if team == "外队" else OFFICER
        for _ in range(per_team):
            number += 1
            applied = await membership.apply_to_team(
                volunteer(number), in_group(group), volunteer_name(number), f"137{number:08d}", []
            )
            await membership.decide_application(decider, approve=True, number=applied.number)
            members.setdefault(team, []).append(applied.member.id)
    return members


async def give(member_id: int, amount: int, ref: int, at: datetime, monkeypatch, reason=LedgerReason.award) -> None:
    monkeypatch.setattr(ledger, "utcnow", lambda: at)
    async with db.session() as session:
        await ledger.record_points(session, member_id, amount, reason, "test", ref)


async def test_kept_totals_equal_the_ledger_after_a_random_mix(database: str, monkeypatch) -> None:
    members = await set_up(per_team=4)
    everyone = [m for team in members.values() for m in team]
    chance = random.Random(6)
    start = datetime(2025, 12, 20, tzinfo=timezone.utc)
    moments = [start + timedelta(hours=chance.randrange(0, 24 * 400)) for _ in range(40)]
    for ref in range(300):
        at = chance.choice(moments)
        reason = chance.choice(list(LedgerReason))
        amount = chance.choice([-20, -5, -1, 1, 3, 10, 50])
        await give(chance.choice(everyone), amount, ref, at, monkeypatch, reason)
    # the same entries again, and at once from several transactions: nothing counts twice
    monkeypatch.setattr(ledger, "utcnow", lambda: moments[0])

    async def again(ref: int) -> None:
        async with db.session() as session:
            await ledger.record_points(session, everyone[ref % len(everyone)], 7, LedgerReason.award, "again", ref)

    await asyncio.gather(*(again(ref % 5) for ref in range(20)))
    monkeypatch.undo()
    # hours: a check-out, then closing the task recomputes the same sign-up (counted once)
    posted = await tasks.post_task(
        OFFICER, in_group(GROUPS["一队"]), tasks.parse_task_words("巡逻 明天19:00 2小时 北区 5人 3分".split(), NOW)
    )
    task = posted.view.task
    for number in (1, 2):
        await tasks.signup_for_task(volunteer(number), task.id, NOW)
        await tasks.check_in(volunteer(number), task.id, task.start_at + timedelta(minutes=5))
    await tasks.check_out(volunteer(1), task.id, task.start_at + timedelta(minutes=65))
    await tasks.close_task(OFFICER, task.id, task.end_at + timedelta(minutes=1))
    # a named and an anonymous verified tip: only the named one counts on the tips board
    for anonymous in (False, True):
        tip = (await tips.report_tip(volunteer(3), "治安", "路灯坏了", anonymous=anonymous)).tip
        await tips.verify_tip(OFFICER, tip.id, 5, None)

    async with db.session() as session:
        assert await totals.mismatches(session) == []
        by_member = select(PointEntry.member_id, func.sum(PointEntry.amount)).group_by(PointEntry.member_id)
        sums = {member_id: int(total) for member_id, total in (await session.exec(by_member)).all()}
        for member_id in everyone:
            assert await totals.balance_of(session, member_id) == sums.get(member_id, 0)
        kept = (
            await session.exec(
                select(MemberTotal).where(MemberTotal.member_id == members["一队"][0], MemberTotal.period == "all")
            )
        ).one()
        assert kept.minutes == 60  # checked in at +5, out at +65
        assert (await session.exec(select(func.sum(MemberTotal.tips)).where(MemberTotal.period == "all"))).one() == 1
        # and a rebuild from scratch gives the very same rows
        before = sorted(
            (r.member_id, r.period, r.points, r.minutes, r.tips)
            for r in (await session.exec(select(MemberTotal))).all()
        )
        await totals.rebuild(session)
        after = sorted(
            (r.member_id, r.period, r.points, r.minutes, r.tips)
            for r in (await session.exec(select(MemberTotal))).all()
        )
        assert after == before


async def test_leaderboards_by_team_unit_and_city_with_the_callers_place(database: str, monkeypatch) -> None:
    members = await set_up()
    one, two, away = members["一队"], members["二队"], members["外队"]
    for ref, (member_id, amount) in enumerate([(one[0], 30), (one[1], 50), (two[0], 50), (away[0], 80), (one[2], 5)]):
        await give(member_id, amount, ref, NOW - timedelta(days=1), monkeypatch)
    await give(one[2], 100, 99, NOW - timedelta(days=40), monkeypatch)  # last month: not on this month's board
    monkeypatch.undo()

    board = await standings.leaderboard(volunteer(1), in_group(GROUPS["一队"]), "month", "team", "points", now=NOW)
    assert board_title(board) == "一队 2026年11月 积分榜"
    assert [(r.rank, r.name, r.value) for r in board.rows] == [(1, "队员二", 50), (2, "队员一", 30), (3, "队员三", 5)]
    assert (board.own.rank, board.own.value) == (2, 30)

    unit = await standings.leaderboard(volunteer(1), in_group(GROUPS["一队"]), "month", "unit", "points", now=NOW)
    assert unit.scope_name == "闫千户派出所"
    assert [(r.rank, r.name) for r in unit.rows] == [(1, "队员二"), (1, "队员四"), (3, "队员一"), (4, "队员三")]
    assert unit.own.rank == 3

    city = await standings.leaderboard(volunteer(1), None, "month", "city", "points", now=NOW)
    assert [r.name for r in city.rows][:2] == ["队员七", "队员二"]
    every = await standings.leaderboard(volunteer(3), None, "all", "team", "points", now=NOW)
    assert (every.rows[0].name, every.rows[0].value, every.own.rank) == ("队员三", 105, 1)

    with pytest.raises(NotAllowed):
        await standings.leaderboard(
            volunteer(1), in_group(GROUPS["一队"]), "month", "unit", "points", by_team=True, now=NOW
        )
    teams = await standings.leaderboard(
        OFFICER, in_group(GROUPS["一队"]), "month", "unit", "points", by_team=True, now=NOW
    )
    assert [(t.name, t.members, t.total) for t in teams.by_team] == [("一队", 3, 85), ("二队", 3, 50)]
    with refused("全市"):
        await standings.leaderboard(ChatAccount("onebot", "39999"), None, "month", "team", "points", now=NOW)


async def test_points_summary_and_awards_with_caps_audit_and_no_double_send(database: str) -> None:
    members = await set_up()
    configure(daily_cap=20, monthly_cap=0)
    target = PersonRef(member_number=members["一队"][0])
    with pytest.raises(NotAllowed):
        await standings.award_points(volunteer(2), target, 5, "帮忙")
    with refused("不在你管的单位", kind=NotAllowed):
        await standings.award_points(OTHER_OFFICER, target, 5, "帮忙")
    with refused("理由"):
        await standings.award_points(OFFICER, target, 5, "  ")

    async def balance() -> int:
        async with db.session() as session:
            return await totals.balance_of(session, members["一队"][0])

    first = await standings.award_points(OFFICER, target, 15, "协助寻找走失老人")
    assert (first.granted, await balance(), first.changed) == (15, 15, True)
    repeated = await standings.award_points(OFFICER, target, 15, "协助寻找走失老人")
    assert (repeated.changed, await balance()) == (False, 15)
    capped = await standings.award_points(OFFICER, target, 15, "夜间巡逻")
    assert (capped.granted, await balance()) == (5, 20)  # the daily cap of 20
    deducted = await standings.award_points(OFFICER, target, -8, "无故缺勤")
    assert (deducted.granted, await balance()) == (-8, 12)  # deductions are not held by the cap
    async with db.session() as session:
        logs = (await session.exec(select(AuditLog).where(AuditLog.action == "award"))).all()
        notes = (await session.exec(select(PointEntry.note).order_by(col(PointEntry.id)))).all()
        told = (await session.exec(select(OutboxMessage.text).where(OutboxMessage.chat_key == "user:30001"))).all()
    assert len(logs) == 3
    assert "达到积分上限，应得15分" in notes[1]
    assert any("扣 8 分" in text for text in told)
    summary = await standings.my_points(volunteer(1), in_group(GROUPS["一队"]))
    assert (summary.balance, summary.month_points, summary.team_rank.rank) == (12, 12, 1)
    assert [reason_name(line.reason) for line in summary.recent] == ["扣分", "奖励", "奖励"]


async def test_weekly_board_and_monthly_honours_are_posted_once(database: str, monkeypatch) -> None:
    members = await set_up()
    one, two = members["一队"], members["二队"]
    last_month = datetime(2026, 10, 15, 4, 0, tzinfo=timezone.utc)
    # 一队: 队员一 and 队员二 tie on points; 队员二 served longer and is the star
    await give(one[0], 40, 1, last_month, monkeypatch)
    await give(one[1], 40, 2, last_month + timedelta(days=1), monkeypatch)
    await give(two[0], 10, 3, last_month, monkeypatch)
    monkeypatch.undo()
    async with db.session() as session:
        await totals.add_to_totals(session, one[1], minutes=120, at=last_month)
    first_of_month = datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    assert await standings.post_monthly_honours(first_of_month - timedelta(hours=1)) == 0  # 08:30: not yet
    assert await standings.post_monthly_honours(first_of_month) == 2
    assert await standings.post_monthly_honours(first_of_month + timedelta(minutes=1)) == 0
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.image).is_not(None)))).all()
    by_group = {row.chat_key: row for row in rows}
    assert "队员二" in by_group[f"group:{GROUPS['一队']}"].text
    assert by_group[f"group:{GROUPS['一队']}"].image["member"] == "队员二"
    assert by_group[f"group:{GROUPS['二队']}"].image["month"] == "2026年10月"
    assert f"group:{GROUPS['外队']}" not in by_group  # no points last month: no star

    monday = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
    await give(two[1], 7, 4, monday - timedelta(days=3), monkeypatch)
    monkeypatch.undo()
    assert await standings.post_weekly_boards(monday - timedelta(minutes=1)) == 0
    assert await standings.post_weekly_boards(monday) == 1
    assert await standings.post_weekly_boards(monday + timedelta(hours=5)) == 0
    async with db.session() as session:
        weekly = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.text).contains("上周")))).all()
        posts = (await session.exec(select(Broadcast.kind, Broadcast.period))).all()
    assert [m.chat_key for m in weekly] == [f"group:{GROUPS['二队']}"]
    assert "1. 队员五  7分" in weekly[0].text
    assert sorted(posts) == [("honours", "m2026-10"), ("weekly_board", "w2026-47")]


async def test_a_weekly_board_cut_short_goes_on_where_it_stopped_and_no_group_gets_it_twice(
    database: str, monkeypatch
) -> None:
    members = await set_up(per_team=2)
    monday = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
    for ref, member_id in enumerate(m for team in members.values() for m in team):
        await give(member_id, 5 + ref, ref, monday - timedelta(days=3), monkeypatch)
    monkeypatch.undo()
    monkeypatch.setattr(standings, "POST_BATCH", 1)  # one team per transaction
    queue_for_real = standings.enqueue_all
    batches = 0

    async def process_stops_in_the_second_batch(db, messages):
        nonlocal batches
        batches += 1
        if batches == 2:
            raise RuntimeError("the process stopped")
        return await queue_for_real(db, messages)

    monkeypatch.setattr(standings, "enqueue_all", process_stops_in_the_second_batch)
    with pytest.raises(RuntimeError):
        await standings.post_weekly_boards(monday)
    async with db.session() as session:
        posted = (
            await session.exec(select(OutboxMessage.chat_key).where(col(OutboxMessage.text).contains("上周")))
        ).all()
    assert posted == [f"group:{GROUPS['一队']}"]  # the first batch was kept, the second left nothing behind

    assert await standings.post_weekly_boards(monday + timedelta(minutes=1)) == 2  # the next tick: the other two
    assert await standings.post_weekly_boards(monday + timedelta(minutes=2)) == 0
    async with db.session() as session:
        posted = (
            await session.exec(select(OutboxMessage.chat_key).where(col(OutboxMessage.text).contains("上周")))
        ).all()
        post = (await session.exec(select(Broadcast))).one()
    assert sorted(posted) == sorted(f"group:{group}" for group in GROUPS.values())
    assert (post.messages, post.finished_at is not None) == (3, True)


async def test_honours_and_the_weekly_board_can_be_turned_off(database: str) -> None:
    await set_up(per_team=1)
    configure(weekly_board_at=None, honours_at=None)
    try:
        assert await standings.post_weekly_boards(datetime(2026, 11, 23, 3, tzinfo=timezone.utc)) == 0
        assert await standings.post_monthly_honours(datetime(2026, 11, 1, 3, tzinfo=timezone.utc)) == 0
    finally:
        configure(weekly_board_at=(0, 9, 0), honours_at=(9, 0))
    assert settings.weekly_board_at == (0, 9, 0)
