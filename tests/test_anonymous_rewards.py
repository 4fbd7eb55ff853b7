"""Anonymous tips' rewards: paid weekly, per unit, only with other reporters, and seen by the reporter alone.

The promise tested here: nothing an officer or a leader reads tells them which member's anonymous tip was rewarded.
The two-world test plays the same weeks twice, once with 队员一 as the reporter and once with 队员二, and reads
everything officers, leaders and other members can read at each step; the two worlds must read the same.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timedelta, timezone

import time_machine
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import SQLModel, col, select

from plugins._texts.export import export_file
from storage import db
from storage.models import AnonymousPayout, OutboxMessage, PointEntry, RewardState, Tip
from storage.services import anonymous_rewards, export, organisation, outbox, shop, standings, stats, tips
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.services.totals import balance_of
from storage.services.when import DateRange
from storage.settings import configure
from tests.places import in_group
from tests.test_points import GROUPS, OFFICER, set_up, volunteer

# Wednesday 2026-11-25 11:00 in Shanghai; the payout is on Mondays from 10:00
WEDNESDAY = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
NEXT_MONDAY_9 = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)
NEXT_MONDAY_11 = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
LEADER = volunteer(4)


async def verified_anonymous_tip(number: int, points: int = 20) -> Tip:
    tip = (await tips.report_tip(volunteer(number), "赌博", f"队员{number}看到有人聚赌")).tip
    await tips.verify_tip(OFFICER, tip.id, points, None)
    return tip


async def private_points(member_id: int) -> int:
    async with db.session() as session:
        entries = await session.exec(
            select(PointEntry.amount).where(PointEntry.member_id == member_id, col(PointEntry.private).is_(True))
        )
        return sum(entries.all())


async def told(number: int, words: str) -> list[str]:
    async with db.session() as session:
        texts = await session.exec(select(OutboxMessage.text).where(OutboxMessage.chat_key == f"user:{30000 + number}"))
        return [line for line in texts.all() if words in line]


async def test_rewards_wait_for_three_reporters_of_the_unit_and_are_paid_once_a_week(database: str) -> None:
    configure(anonymous_payout_at=(0, 10, 0), anonymous_min_reporters=3)
    members = await set_up(per_team=4)
    one, two = members["一队"], members["二队"]
    with time_machine.travel(WEDNESDAY, tick=False):
        for _ in range(3):
            await verified_anonymous_tip(1)  # three tips of one reporter are still one reporter
        await verified_anonymous_tip(5)  # 二队 is in the same unit
        assert await anonymous_rewards.pay_due_rewards(NEXT_MONDAY_11) == []
        assert await private_points(one[0]) == 0
        await verified_anonymous_tip(2, points=10)

    assert await anonymous_rewards.pay_due_rewards(NEXT_MONDAY_9) == []  # before Monday 10:00
    paid = await anonymous_rewards.pay_due_rewards(NEXT_MONDAY_11)
    assert [(payout.reporters, payout.points) for payout in paid] == [(3, 90)]
    assert [await private_points(member) for member in (one[0], one[1], two[0])] == [60, 10, 20]
    assert await told(1, "匿名线索奖励") == [
        "你的匿名线索奖励 60 分已到账（只有你能看到），现在共 60 分。可以发送 /商城 兑换。"
    ]
    assert await anonymous_rewards.pay_due_rewards(NEXT_MONDAY_11 + timedelta(hours=1)) == []  # once

    # three more reporters in the same week wait for the next one: one payout per unit and week
    with time_machine.travel(NEXT_MONDAY_11 + timedelta(hours=2), tick=False):
        for number in (3, 6, 7):
            await verified_anonymous_tip(number)
    assert await anonymous_rewards.pay_due_rewards(NEXT_MONDAY_11 + timedelta(hours=3)) == []
    assert await private_points(one[2]) == 0
    paid = await anonymous_rewards.pay_due_rewards(NEXT_MONDAY_11 + timedelta(days=7))
    assert [(payout.reporters, payout.points) for payout in paid] == [(3, 60)]
    async with db.session() as session:
        states = (await session.exec(select(Tip.reward_state))).all()
        payouts = (await session.exec(select(AnonymousPayout.reporters))).all()
    assert set(states) == {RewardState.paid}
    assert payouts == [3, 3]
    assert await told(3, "匿名线索奖励") == [
        "你的匿名线索奖励 20 分已到账（只有你能看到），现在共 20 分。可以发送 /商城 兑换。"
    ]


async def test_only_the_reporter_sees_the_reward_and_can_spend_it(database: str) -> None:
    configure(anonymous_payout_at=(0, 0, 0), anonymous_min_reporters=3)
    members = await set_up(per_team=4)
    for number in (1, 2, 3):
        await verified_anonymous_tip(number)
    await anonymous_rewards.pay_due_rewards()
    mine = await standings.my_points(volunteer(1), in_group(GROUPS["一队"]))
    assert (mine.balance, mine.unseen, mine.month_points) == (20, 20, 0)
    cup, _ = await shop.add_reward(OFFICER, "保温杯", 15, None, None)
    assert (await shop.redeem(volunteer(1), cup.id)).balance == 5
    async with db.session() as session:
        assert await balance_of(session, members["一队"][0]) == 5


# --- the two worlds -------------------------------------------------------------------------------------------


async def empty_database() -> None:
    """Every table emptied and the numbering restarted: the second world starts as the first did."""
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    async with db.get_engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        for table in tables:
            await connection.execute(text(f'DELETE FROM "{table}"'))
        if (await connection.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"))).first():
            await connection.execute(text("DELETE FROM sqlite_sequence"))


def plain(value):
    """A result as plain data, for comparing what two worlds show."""
    if isinstance(value, SQLModel):
        return plain(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


async def outcome(call):
    try:
        return plain(await call)
    except Exception as refused:  # a refusal reads the same in both worlds, or it tells something
        return f"{type(refused).__name__}: {refused}"


async def workbook(caller: ChatAccount, group_id: str | None, unit: str | None) -> dict[str, list]:
    period = DateRange(WEDNESDAY - timedelta(days=30), WEDNESDAY + timedelta(days=30))
    made = export_file(await export.export_workbook(caller, in_group(group_id), period, unit))
    book = load_workbook(io.BytesIO(made.content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


async def what_others_read() -> dict[str, object]:
    """Everything an officer, the team's leader or another member can read about points, tips and spending."""
    seen: dict[str, object] = {}
    for name, caller, group in (
        ("officer", OFFICER, GROUPS["一队"]),
        ("officer in private", OFFICER, None),
        ("leader", LEADER, GROUPS["一队"]),
        ("队员三", volunteer(3), GROUPS["一队"]),
        ("二队的队员六", volunteer(6), GROUPS["二队"]),
    ):
        for period in ("week", "month", "year", "all"):
            for scope in ("team", "unit", "city"):
                for metric in ("points", "minutes", "tips"):
                    seen[f"{name} /排行榜 {period} {scope} {metric}"] = await outcome(
                        standings.leaderboard(caller, in_group(group), period, scope, metric)
                    )
                seen[f"{name} /排行榜 {period} {scope} 分队"] = await outcome(
                    standings.leaderboard(caller, in_group(group), period, scope, "points", by_team=True)
                )
        for scope in ("team", "unit"):
            seen[f"{name} /统计 {scope}"] = await outcome(
                stats.report(caller, in_group(group), DateRange(WEDNESDAY, WEDNESDAY + timedelta(days=14)), scope)
            )
        seen[f"{name} /导出"] = await outcome(workbook(caller, group, None))
        seen[f"{name} /发放"] = await outcome(shop.pending_redemptions(caller))
        seen[f"{name} /商城"] = await outcome(shop.list_rewards(caller))
    seen["officer /导出 单位"] = await outcome(workbook(OFFICER, None, "闫千户派出所"))
    for number in (3, 4, 5, 6):  # every other member's own /积分, with their places
        seen[f"队员{number} /积分"] = await outcome(standings.my_points(volunteer(number), None))
    summary = await outbox.summary()
    seen["/发件箱"] = (summary.counts, [plain(message) for message in summary.parked])
    return seen


async def one_world(reporter: int) -> list[dict[str, object]]:
    """Two weeks of a unit where `reporter` sends one of three anonymous tips and later redeems a reward; what
    others read after each step."""
    configure(anonymous_payout_at=(0, 10, 0), anonymous_min_reporters=3)
    reads = []
    with time_machine.travel(WEDNESDAY - timedelta(days=1), tick=False):
        one = (await set_up(per_team=4))["一队"]
        await organisation.set_leader(OFFICER, PersonRef(member_number=one[3]), in_group(GROUPS["一队"]), None)
        for member in one[:2]:  # both suspects have points anyone can see, and the same
            await standings.award_points(OFFICER, PersonRef(member_number=member), 30, "夜间巡逻")
        cup, _ = await shop.add_reward(OFFICER, "保温杯", 25, None, None)
        await verified_anonymous_tip(5)
        await verified_anonymous_tip(6)
    with time_machine.travel(WEDNESDAY, tick=False):
        tip = (await tips.report_tip(volunteer(reporter), "赌博", "三号楼地下室聚赌")).tip
        reads.append(await what_others_read())
        await tips.verify_tip(OFFICER, tip.id, 20, "已查处")
        reads.append(await what_others_read())
    with time_machine.travel(NEXT_MONDAY_11, tick=False):
        assert len(await anonymous_rewards.pay_due_rewards()) == 1
        reads.append(await what_others_read())
    with time_machine.travel(NEXT_MONDAY_11 + timedelta(days=1), tick=False):
        for number in (1, 2):  # both redeem, within what anyone could have seen them earn
            assert (await shop.redeem(volunteer(number), cup.id)).changed
        reads.append(await what_others_read())
        reads.append(await outcome(standings.my_points(volunteer(reporter), None)))
    return reads


async def test_nothing_others_read_tells_who_sent_the_rewarded_anonymous_tip(database: str) -> None:
    first = await one_world(reporter=1)
    await empty_database()
    second = await one_world(reporter=2)

    *others_first, own_first = first
    *others_second, own_second = second
    for step, (one, two) in enumerate(zip(others_first, others_second, strict=True)):
        differing = [view for view in one if one[view] != two[view]]
        assert differing == [], f"step {step}: these views tell the reporter apart"
    # and the worlds did differ where they should: the reporter, alone, sees the reward
    assert own_first["unseen"] == own_second["unseen"] == 20
    assert (own_first["member"]["name"], own_second["member"]["name"]) == ("队员一", "队员二")
    # the officer read real figures, not refusals
    assert others_first[2]["officer /排行榜 all team points"]["rows"]
    assert "积分流水" in others_first[2]["officer /导出"]
