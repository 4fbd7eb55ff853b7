"""Insurance (/保险): an officer of the member's unit records a policy and sees it, the member sees their own
(number masked), nobody else gets anything; reminders 30 and 7 days before the end go once each; with
`[members] require_insurance` an uninsured member cannot sign up until a policy is recorded."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import col, select

from storage import db
from storage.models import AuditLog, Broadcast, Insurance, OutboxMessage
from storage.services import insurance, membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef, member_of
from storage.settings import settings
from tests.chat import say
from tests.places import in_group

ADMIN, OFFICER, SIBLING_OFFICER = 10001, 20001, 20002
ZHANG, LI, LEADER = 30001, 30002, 30003
GROUP = 555001


async def set_up() -> dict[int, int]:
    """夕阳红巡逻队 of 历下分局 with 张三, 李四 and its leader 王五; an officer of 市中分局 beside it. Returns each
    account's member number."""
    admin = ChatAccount("onebot", str(ADMIN))
    await organisation.grant_officer(admin, PersonRef(platform="onebot", user_id=str(OFFICER)), "济南市公安局/历下分局")
    await organisation.grant_officer(
        admin, PersonRef(platform="onebot", user_id=str(SIBLING_OFFICER)), "济南市公安局/市中分局"
    )
    officer = ChatAccount("onebot", str(OFFICER))
    await organisation.bind_group(officer, in_group(GROUP), "夕阳红巡逻队")
    for user, name, phone in (
        (ZHANG, "张三", "13800138001"),
        (LI, "李四", "13800138002"),
        (LEADER, "王五", "13800138003"),
    ):
        application = await membership.apply_to_team(ChatAccount("onebot", str(user)), in_group(GROUP), name, phone, [])
        await membership.decide_application(officer, approve=True, number=application.number)
    numbers = {}
    async with db.session() as session:
        for user in (OFFICER, SIBLING_OFFICER, ZHANG, LI, LEADER):
            member = await member_of(session, "onebot", str(user))
            assert member is not None
            assert member.id is not None
            numbers[user] = member.id
    await organisation.set_leader(officer, PersonRef(member_number=numbers[LEADER]), in_group(GROUP), None)
    return numbers


def written(day: date, chinese: bool = False) -> str:
    """A date as people type it: 2027-6-30, or 2027年6月30日."""
    return f"{day.year}年{day.month}月{day.day}日" if chinese else f"{day.year}-{day.month}-{day.day}"


def shown(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def local_today() -> date:
    return datetime.now(timezone.utc).astimezone(settings.timezone).date()


async def private_messages_to(user: int) -> list[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user}").order_by(col(OutboxMessage.id))
        )
        return [row.text for row in rows.all()]


async def test_an_officer_records_a_policy_and_the_member_sees_it_masked(database: str) -> None:
    numbers = await set_up()
    zhang = numbers[ZHANG]
    until = local_today() + timedelta(days=200)
    recorded = await say(OFFICER, f"/保险 {zhang} 中国人寿 PICC20270001 {written(until, chinese=True)}")
    assert recorded == (
        f"已为张三（成员号 {zhang}）登记保险：中国人寿，保单号 PICC20270001，有效期至{shown(until)}（有效）。"
        "已私信告知本人。"
    )
    told = await private_messages_to(ZHANG)
    assert told[-1] == (
        f"民警已为你登记保险：中国人寿，保单号 PICC****0001，有效期至{shown(until)}。发送 /保险 可以随时查看。"
    )
    # the same policy sent again is recorded once
    again = await say(OFFICER, f"/insurance {zhang} 中国人寿 PICC20270001 {written(until)}")
    assert again.startswith(f"张三（成员号 {zhang}）的这份保险已经登记过")
    async with db.session() as session:
        assert len((await session.exec(select(Insurance))).all()) == 1
        (entry,) = (await session.exec(select(AuditLog).where(AuditLog.action == "record_insurance"))).all()
    assert entry.target == f"member:{zhang}"
    assert entry.detail["policy_number"] == "PICC****0001"

    line = f"中国人寿，保单号 PICC20270001，有效期至{shown(until)}（有效）"
    assert await say(OFFICER, f"/保险 {zhang}") == f"张三（成员号 {zhang}）的保险：{line}。"
    in_group_view = await say(OFFICER, f"/保险 {zhang}", GROUP)
    assert "PICC20270001" not in in_group_view
    assert "PICC****0001" in in_group_view
    assert (
        await say(ZHANG, "/保险") == f"张三，你的保险：中国人寿，保单号 PICC****0001，有效期至{shown(until)}（有效）。"
    )
    assert await say(LI, "/保险") == "李四，你还没有登记保险。请联系民警登记（保险公司、保单号、有效期）。"
    assert await say(OFFICER, "/保险") == (  # an officer without a policy of their own is shown how to record one
        f"onebot:{OFFICER}，你还没有登记保险。请联系民警登记（保险公司、保单号、有效期）。\n"
        "登记队员的保险：/保险 成员号 保险公司 保单号 有效期至，例如 /保险 12 中国人寿 PICC20270001 2027-6-30；"
        "查看：/保险 成员号"
    )
    assert await say(OFFICER, f"/保险 {numbers[LI]}") == (
        f"成员号 {numbers[LI]} 还没有登记保险。登记：/保险 {numbers[LI]} 保险公司 保单号 有效期至"
    )

    # a renewal recorded later is the policy that counts
    renewed = until + timedelta(days=365)
    await say(OFFICER, f"/保险 {zhang} 平安保险 PA-88 {written(renewed)}")
    assert (await say(ZHANG, "/保险")).startswith("张三，你的保险：平安保险，保单号 ***88，")


async def test_nobody_outside_the_members_unit_records_or_sees_a_policy(database: str) -> None:
    numbers = await set_up()
    zhang = numbers[ZHANG]
    until = written(local_today() + timedelta(days=100))
    await say(OFFICER, f"/保险 {zhang} 中国人寿 PICC20270001 {until}")
    unknown = "你管的单位里没有成员号 {} 的队员：请检查成员号。"
    # an officer of a sibling unit: answered as for a member who does not exist
    assert await say(SIBLING_OFFICER, f"/保险 {zhang}") == unknown.format(zhang)
    assert await say(SIBLING_OFFICER, f"/保险 {zhang} 平安保险 X1 {until}") == unknown.format(zhang)
    assert await say(SIBLING_OFFICER, "/保险 999") == unknown.format(999)
    # the team's leader and another member: officers only
    only_officers = "只有民警可以登记和查看队员的保险。看自己的保险请发送 /保险"
    assert await say(LEADER, f"/保险 {zhang}") == only_officers
    assert await say(LEADER, f"/保险 {zhang} 平安保险 X1 {until}", GROUP) == only_officers
    assert await say(LI, f"/保险 {zhang}") == only_officers
    async with db.session() as session:
        (policy,) = (await session.exec(select(Insurance))).all()
    assert policy.insurer == "中国人寿"


async def test_a_policy_written_wrongly_is_refused_with_what_to_type(database: str) -> None:
    numbers = await set_up()
    zhang = numbers[ZHANG]
    usage = await say(OFFICER, f"/保险 {zhang} 中国人寿")
    assert "/保险 成员号 保险公司 保单号 有效期至" in usage
    assert await say(OFFICER, f"/保险 {zhang} 中国人寿 PICC1 2027-2-30") == (
        "看不懂日期“2027-2-30”：请写有效期至哪天，例如 2027-6-30 或 2027年6月30日。"
    )
    past = local_today() - timedelta(days=400)
    assert await say(OFFICER, f"/保险 {zhang} 中国人寿 PICC1 {written(past)}") == (
        f"有效期至{shown(past)}已经过了：请写新保单的有效期，例如 2027-6-30。"
    )
    assert "保单号只写字母、数字和横线" in await say(
        OFFICER, f"/保险 {zhang} 中国人寿 保单一号 {written(local_today())}"
    )
    async with db.session() as session:
        assert (await session.exec(select(Insurance))).all() == []


def at_local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=settings.timezone).astimezone(timezone.utc)


async def test_reminders_go_30_and_7_days_before_the_end_once_each(database: str) -> None:
    numbers = await set_up()
    until = date(2027, 6, 30)
    recorded_on = at_local(until - timedelta(days=60), 10)
    await insurance.record_policy(
        ChatAccount("onebot", str(OFFICER)),
        PersonRef(member_number=numbers[ZHANG]),
        "中国人寿",
        "PICC20270001",
        "2027年6月30日",
        recorded_on,
    )
    before = len(await private_messages_to(ZHANG))

    assert await insurance.send_expiry_reminders(at_local(until - timedelta(days=31), 10)) == 0
    assert await insurance.send_expiry_reminders(at_local(until - timedelta(days=30), 8)) == 0  # before 09:00
    thirty = at_local(until - timedelta(days=30), 10)
    first, second = await asyncio.gather(
        insurance.send_expiry_reminders(thirty), insurance.send_expiry_reminders(thirty)
    )
    assert first + second == 2  # to 张三 and to the team's leader, from one of the two processes
    assert await insurance.send_expiry_reminders(thirty + timedelta(hours=1)) == 0  # the day's run is done
    assert await insurance.send_expiry_reminders(at_local(until - timedelta(days=29), 10)) == 0  # sent already

    member_texts = (await private_messages_to(ZHANG))[before:]
    assert member_texts == [
        "提醒：你的保险（中国人寿，保单号 PICC****0001）有效期至2027年6月30日，还有30天。"
        "续保后请联系民警登记新保单，过期后参加任务没有保险保障。"
    ]
    leader_texts = [text for text in await private_messages_to(LEADER) if text.startswith("提醒")]
    assert leader_texts == [
        f"提醒：队员张三（成员号 {numbers[ZHANG]}）的保险有效期至2027年6月30日，还有30天。"
        "请提醒续保，续保后由民警登记新保单。"
    ]
    assert not any("保险" in text for text in await private_messages_to(LI))

    seven = at_local(until - timedelta(days=7), 9)
    assert await insurance.send_expiry_reminders(seven) == 2
    assert await insurance.send_expiry_reminders(seven + timedelta(minutes=5)) == 0
    assert await insurance.send_expiry_reminders(at_local(until - timedelta(days=6), 10)) == 0
    assert "还有7天" in (await private_messages_to(ZHANG))[-1]
    assert "还有7天" in (await private_messages_to(LEADER))[-1]
    async with db.session() as session:
        reminders = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).is_not(None)))).all()
        runs = (await session.exec(select(Broadcast).where(Broadcast.kind == "insurance"))).all()
    assert len([row for row in reminders if row.dedupe_key and row.dedupe_key.startswith("insurance:")]) == 4
    assert all(run.finished_at is not None for run in runs)


async def test_a_renewed_policy_is_not_reminded_of(database: str) -> None:
    numbers = await set_up()
    officer, zhang = ChatAccount("onebot", str(OFFICER)), PersonRef(member_number=numbers[ZHANG])
    until = date(2027, 6, 30)
    recorded_on = at_local(until - timedelta(days=60), 10)
    await insurance.record_policy(officer, zhang, "中国人寿", "PICC20270001", "2027-6-30", recorded_on)
    await insurance.record_policy(officer, zhang, "中国人寿", "PICC20280001", "2028-6-30", recorded_on)
    before = len(await private_messages_to(ZHANG))
    assert await insurance.send_expiry_reminders(at_local(until - timedelta(days=7), 10)) == 0
    assert len(await private_messages_to(ZHANG)) == before


async def test_with_require_insurance_an_uninsured_member_cannot_sign_up(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "require_insurance", True)
    numbers = await set_up()
    assert (await say(OFFICER, "/发布任务 巡逻 明天19:00 2小时 北区 5人", GROUP)).startswith("已发布任务 1")
    refused = (
        "任务 1 要求参加的人在{day}有有效的保险，你还没有登记保险或已过期，暂时不能报名。"
        "请联系“历下分局”的民警登记保险（发送 /保险 可以看你的保险）。"
    )
    tomorrow = local_today() + timedelta(days=1)
    assert await say(ZHANG, "/报名 1", GROUP) == refused.format(day=shown(tomorrow))
    # a policy that ends before the task's day does not cover it
    await say(OFFICER, f"/保险 {numbers[ZHANG]} 中国人寿 PICC20270001 {written(local_today())}")
    assert await say(ZHANG, "/报名 1", GROUP) == refused.format(day=shown(tomorrow))
    await say(OFFICER, f"/保险 {numbers[ZHANG]} 中国人寿 PICC20270002 {written(tomorrow)}")
    assert (await say(ZHANG, "/报名 1", GROUP)).startswith("队员：报名成功！任务 1")
    monkeypatch.setattr(settings, "require_insurance", False)
    assert (await say(LI, "/报名 1", GROUP)).startswith("队员：报名成功！任务 1")  # off: no policy needed
