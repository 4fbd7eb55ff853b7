"""Reminders before qualifications run out: the member 30 days before, with the course to retake (once; not when
renewed, not after leaving; a day missed goes the next), and on the first of a month each unit's officers the list
of what their members' qualifications run out next month (not a sibling unit's)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

from sqlmodel import col, select

from plugins._texts import render_notice
from storage import db
from storage.models import Broadcast, Course, Member, MemberStatus, OutboxMessage
from storage.services import membership
from storage.services.training import completions, reminders
from storage.services.training.reminders import CourseExpiring, Expiring, UnitExpiringNotice
from storage.settings import settings
from tests.chat import say
from tests.places import in_group
from tests.test_training import GROUP, LI, OFFICER, SIBLING_OFFICER, ZHANG, ZHAO, account
from tests.test_training import set_up as set_up_units

WANG = 30004


def at_local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=settings.timezone).astimezone(timezone.utc)


async def set_up() -> dict[int, int]:
    """test_training's units, with 王五 in 夕阳红巡逻队 too."""
    numbers = await set_up_units()
    application = await membership.apply_to_team(account(WANG), in_group(GROUP), "王五", "13800138004", [])
    await membership.decide_application(account(OFFICER), approve=True, number=application.number)
    numbers[WANG] = application.number
    return numbers


async def completed(officer: int, course_id: int, number: int, day: date) -> None:
    await completions.complete_by_hand(account(officer), course_id, [number], at_local(day, 8))


async def private_messages_to(user: int) -> list[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user}").order_by(col(OutboxMessage.id))
        )
        return [row.text for row in rows.all()]


async def reminders_to(user: int) -> list[str]:
    return [text for text in await private_messages_to(user) if text.startswith("提醒：你的资质")]


async def lists_to(user: int) -> list[str]:
    return [text for text in await private_messages_to(user) if "还没有复训的资质" in text]


async def leave(number: int) -> None:
    async with db.session() as session:
        member = await session.get(Member, number)
        assert member is not None
        member.status = MemberStatus.left.value
        session.add(member)


async def test_a_member_is_reminded_30_days_before_once_and_not_when_renewed(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, "/课程 新建 护学岗培训 有效期1年 授予:护学")
    await say(SIBLING_OFFICER, "/课程 新建 禁毒宣传 有效期1年 授予:禁毒")
    async with db.session() as session:
        course = await session.get(Course, 2)
        assert course is not None
        course.quiz = [{"text": "吸毒违法。", "kind": "judge", "options": ["对", "错"], "answers": [0]}]
        session.add(course)
    await completed(OFFICER, 1, numbers[ZHANG], date(2026, 7, 1))  # through 2027-6-30
    await completed(OFFICER, 1, numbers[WANG], date(2026, 7, 1))  # and leaves
    await completed(OFFICER, 1, numbers[LI], date(2026, 6, 5))  # through 2027-6-4, renewed on 2027-5-1
    await completed(OFFICER, 1, numbers[LI], date(2027, 5, 1))
    await completed(SIBLING_OFFICER, 2, numbers[ZHAO], date(2026, 6, 10))  # through 2027-6-9
    await leave(numbers[WANG])

    assert await reminders.send_expiry_reminders(at_local(date(2027, 5, 5), 10)) == 0  # 李四 renewed: nothing
    # 赵六's was due on 5-10, when the bot was down: it goes the next day
    assert await reminders.send_expiry_reminders(at_local(date(2027, 5, 11), 10)) == 1
    assert await reminders_to(ZHAO) == [
        "提醒：你的资质“禁毒”有效至2027年6月9日，还有29天。"
        "复训课程：2. 禁毒宣传，发送 /课程 2 看怎么参加，考试私聊发送 /学习 2。"
    ]
    assert await reminders.send_expiry_reminders(at_local(date(2027, 5, 30), 10)) == 0  # 31 days before
    thirty = date(2027, 5, 31)
    assert await reminders.send_expiry_reminders(at_local(thirty, 8)) == 0  # before 09:00
    first, second = await asyncio.gather(
        reminders.send_expiry_reminders(at_local(thirty, 10)), reminders.send_expiry_reminders(at_local(thirty, 10))
    )
    assert first + second == 1  # to 张三, from one of the two processes; not to 王五, who left
    assert await reminders.send_expiry_reminders(at_local(thirty, 11)) == 0  # the day's run is made
    assert await reminders.send_expiry_reminders(at_local(date(2027, 6, 1), 10)) == 0  # sent already
    assert await reminders_to(ZHANG) == [
        "提醒：你的资质“护学”有效至2027年6月30日，还有30天。复训课程：1. 护学岗培训，发送 /课程 1 看怎么参加。"
    ]
    assert await reminders_to(LI) == []
    assert await reminders_to(WANG) == []
    async with db.session() as session:
        runs = (await session.exec(select(Broadcast).where(Broadcast.kind == "training"))).all()
    assert all(run.finished_at is not None for run in runs)


async def test_what_one_course_granted_is_reminded_in_one_message(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, "/课程 新建 山地救援 有效期1年 授予:救援、急救")
    await completed(OFFICER, 1, numbers[ZHANG], date(2026, 7, 1))  # both through 2027-6-30
    assert await reminders.send_expiry_reminders(at_local(date(2027, 5, 31), 10)) == 1
    assert await reminders_to(ZHANG) == [
        "提醒：你的资质“救援、急救”有效至2027年6月30日，还有30天。复训课程：1. 山地救援，发送 /课程 1 看怎么参加。"
    ]


async def test_the_officers_get_next_months_expiries_of_their_own_unit_once_a_month(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, "/课程 新建 护学岗培训 有效期1年 授予:护学")
    await say(SIBLING_OFFICER, "/课程 新建 禁毒宣传 有效期1年 授予:禁毒")
    await say(OFFICER, "/课程 新建 急救 有效期1年 授予:急救")
    zhang, li = numbers[ZHANG], numbers[LI]
    await completed(OFFICER, 1, zhang, date(2026, 7, 1))  # through 2027-6-30: June
    await completed(OFFICER, 1, numbers[WANG], date(2026, 6, 20))  # June too, but 王五 leaves
    await completed(OFFICER, 1, li, date(2026, 6, 5))  # June, renewed on 2027-4-20
    await completed(OFFICER, 1, li, date(2027, 4, 20))
    await completed(OFFICER, 3, li, date(2026, 5, 20))  # through 2027-5-19: this month, not next
    await completed(OFFICER, 3, zhang, date(2026, 8, 1))  # through 2027-7-31: July
    await completed(SIBLING_OFFICER, 2, numbers[ZHAO], date(2026, 6, 10))  # June, of the sibling unit
    await leave(numbers[WANG])

    assert await reminders.send_monthly_lists(at_local(date(2027, 4, 30), 10)) == 0  # not the first
    assert await reminders.send_monthly_lists(at_local(date(2027, 5, 1), 8)) == 0  # before 09:00
    may = at_local(date(2027, 5, 1), 10)
    first, second = await asyncio.gather(reminders.send_monthly_lists(may), reminders.send_monthly_lists(may))
    assert first + second == 2  # one to each unit's officer
    assert await reminders.send_monthly_lists(may + timedelta(hours=2)) == 0
    assert await reminders.send_monthly_lists(at_local(date(2027, 5, 2), 10)) == 0
    assert await lists_to(OFFICER) == [
        "历下分局：2027年6月到期、还没有复训的资质共 1 人次\n"
        "课程 1（护学岗培训）：\n"
        f"· 张三（成员号 {zhang}）护学 有效至2027年6月30日\n"
        "请提醒他们报名复训；发送 /课程 编号 看每门课要复训的人。"
    ]
    assert await lists_to(SIBLING_OFFICER) == [
        "市中分局：2027年6月到期、还没有复训的资质共 1 人次\n"
        "课程 2（禁毒宣传）：\n"
        f"· 赵六（成员号 {numbers[ZHAO]}）禁毒 有效至2027年6月9日\n"
        "请提醒他们报名复训；发送 /课程 编号 看每门课要复训的人。"
    ]

    # June's list names July's: 张三's 急救; the sibling unit has nothing running out and gets nothing
    assert await reminders.send_monthly_lists(at_local(date(2027, 6, 1), 9)) == 1
    june = (await lists_to(OFFICER))[-1]
    assert june.startswith("历下分局：2027年7月到期、还没有复训的资质共 1 人次\n课程 3（急救）：\n· 张三")
    assert len(await lists_to(SIBLING_OFFICER)) == 1
    for user in (ZHANG, LI, ZHAO):  # the lists go to officers only
        assert await lists_to(user) == []


def test_a_long_list_is_cut_with_the_count_left_and_where_to_see_all() -> None:
    people = tuple(Expiring(n, f"队员{n}", date(2027, 6, 30), ("护学",)) for n in range(1, 36))
    text = render_notice(UnitExpiringNotice("历下分局", date(2027, 6, 1), (CourseExpiring(1, "护学岗培训", people),)))
    lines = text.split("\n")
    assert lines[0] == "历下分局：2027年6月到期、还没有复训的资质共 35 人次"
    assert len([line for line in lines if line.startswith("· 队员")]) == 30
    assert "· 另有 5 人，发送 /课程 1 看要复训的人" in lines
