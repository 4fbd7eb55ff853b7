"""Tasks, sign-ups, check-in and closing: the core loop's rules, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import col, func, select

from plugins._texts.tasks import task_card
from storage import db
from storage.errors import NotAllowed
from storage.models import OutboxMessage, PointEntry, Priority, Signup, SignupStatus, Task
from storage.services import membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import settings
from tests.places import in_group, volunteer_name
from tests.refusals import refused

ADMIN = ChatAccount("onebot", "10001")
OFFICER = ChatAccount("onebot", "20001", "李警官")
GROUP = "555001"
# Tuesday 2026-11-24 10:00 in Shanghai
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def volunteer(number: int) -> ChatAccount:
    return ChatAccount("onebot", str(30000 + number), volunteer_name(number))


async def make_team(volunteers: int = 0, tags: list[str] | None = None) -> None:
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/历下分局")
    await organisation.bind_group(OFFICER, in_group(GROUP), "夕阳红巡逻队")
    for number in range(1, volunteers + 1):
        caller = volunteer(number)
        application = await membership.apply_to_team(
            caller, in_group(GROUP), volunteer_name(number), f"139{number:08d}", tags or []
        )
        await membership.decide_application(OFFICER, approve=True, number=application.number)


async def post(words: str, now: datetime = NOW) -> tasks.PostedTask:
    spec = tasks.parse_task_words(words.split(), now)
    return await tasks.post_task(OFFICER, in_group(GROUP), spec)


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=settings.timezone)


def test_parsing_one_line_tasks_the_way_officers_write_them() -> None:
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 闫千户片区 10人 5分".split(), NOW)
    assert (spec.kind, spec.place, spec.capacity, spec.points) == ("巡逻", "闫千户片区", 10, 5)
    assert spec.start == shanghai("2026-11-25T19:00")
    assert spec.end == shanghai("2026-11-25T21:00")
    spec = tasks.parse_task_words("护学岗 2026-12-01 07:10-08:00 胜利大街小学 4人 需要:护学".split(), NOW)
    assert spec.start == shanghai("2026-12-01T07:10")
    assert spec.end == shanghai("2026-12-01T08:00")
    assert spec.required_tags == ["护学"]
    spec = tasks.parse_task_words("宣传 周六 8:30 90分钟 万达广场 6人 截止:周五18:00 每周".split(), NOW)
    assert spec.start == shanghai("2026-11-28T08:30")
    assert spec.end == shanghai("2026-11-28T10:00")
    assert spec.deadline == shanghai("2026-11-27T18:00")
    assert spec.repeat_weekly
    spec = tasks.parse_task_words("巡逻 周一 晚上7点 1小时 北区 3人 坐标:36.65,117.12 半径:300米".split(), NOW)
    assert spec.start == shanghai("2026-11-30T19:00")  # the coming Monday, not the one just past
    assert (spec.latitude, spec.longitude, spec.radius_m) == (36.65, 117.12, 300)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("巡逻 今天8:00 2小时 北区 3人", "已经过去"),
        ("巡逻 后天 2小时 北区 3人", "几点"),
        ("巡逻 明天19:00 北区 3人", "时长"),
        ("巡逻 明天19:00 2小时 北区", "人数"),
        ("巡逻 明天19:00 2小时 北区 0人", "人数"),
        ("巡逻 明天19:00 30小时 北区 3人", "24小时"),
        ("巡逻 明天19:00 2小时 北区 3人 截止:后天10:00", "截止"),
    ],
)
def test_unclear_or_past_tasks_are_refused_with_an_example(words: str, message: str) -> None:
    def read_and_check() -> None:
        tasks.check_spec(tasks.parse_task_words(words.split(), NOW))

    with refused(message):
        read_and_check()


async def test_only_officers_post_and_the_card_says_how_to_sign_up(database: str) -> None:
    await make_team(volunteers=1)
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 闫千户片区 10人 5分".split(), NOW)
    with pytest.raises(NotAllowed):
        await tasks.post_task(volunteer(1), in_group(GROUP), spec)
    posted = await tasks.post_task(OFFICER, in_group(GROUP), spec)
    assert posted.groups == [tasks.GroupAddress("onebot", GROUP)]
    card = task_card(posted.view)
    assert card.startswith(f"【任务 {posted.view.task.id}】巡逻")
    assert "11月25日(周三) 19:00-21:00" in card
    assert "名额：10人，已报 0，还剩 10" in card
    assert f"/报名 {posted.view.task.id}" in card


async def test_fifty_at_once_for_ten_places_wait_in_arrival_order(database: str) -> None:
    await make_team(volunteers=50)
    task = (await post("巡逻 明天19:00 2小时 北区 10人")).view.task
    results = await asyncio.gather(*(tasks.signup_for_task(volunteer(n), task.id, NOW) for n in range(1, 51)))
    assert [result.status for result in results] == ["signed"] * 10 + ["waiting"] * 40
    assert [result.position for result in results[10:]] == list(range(1, 41))
    async with db.session() as session:
        rows = (await session.exec(select(Signup).where(Signup.task_id == task.id))).all()
    assert sum(row.status == SignupStatus.signed for row in rows) == 10
    assert sum(row.status == SignupStatus.waiting for row in rows) == 40

    again = await tasks.signup_for_task(volunteer(3), task.id, NOW)
    assert not again.changed
    cancelled = await tasks.cancel_signup(volunteer(3), task.id, NOW)
    assert cancelled.promoted is not None
    assert cancelled.promoted.name == "队员十一"
    waiting_cancel = await tasks.cancel_signup(volunteer(20), task.id, NOW)
    assert waiting_cancel.was_waiting
    assert waiting_cancel.promoted is None
    detail = await tasks.task_detail(OFFICER, task.id)
    assert len(detail.signed) == 10
    assert [line.name for line in detail.waiting][:2] == ["队员十二", "队员十三"]


async def test_sign_ups_from_several_bot_processes_at_once_never_overfill_a_task(database: str) -> None:
    # tasks.signup._signup is /报名 without this process's own queue for the task: as if each came to another process
    await make_team(volunteers=30)
    task = (await post("巡逻 明天19:00 2小时 北区 10人")).view.task
    results = await asyncio.gather(*(tasks.signup._signup(volunteer(n), task.id, NOW) for n in range(1, 31)))
    assert sorted(result.status for result in results) == ["signed"] * 10 + ["waiting"] * 20
    assert sorted(result.position for result in results if result.status == "waiting") == list(range(1, 21))
    assert sorted(result.places_left for result in results if result.status == "signed") == list(range(10))
    async with db.session() as session:
        statuses = (await session.exec(select(Signup.status).where(Signup.task_id == task.id))).all()
    assert sorted(statuses) == ["signed"] * 10 + ["waiting"] * 20

    # one who cancels and signs up again goes to the end of the line
    first = next(n for n, result in enumerate(results, start=1) if result.status == "signed")
    await tasks.cancel_signup(volunteer(first), task.id, NOW)
    again = await tasks.signup_for_task(volunteer(first), task.id, NOW + timedelta(minutes=1))
    assert (again.status, again.changed, again.position) == ("waiting", True, 20)
    assert (again.task.id, again.task.kind, again.task.place) == (task.id, "巡逻", "北区")


async def test_sign_up_rules(database: str) -> None:
    await make_team(volunteers=2)
    outsider = ChatAccount("onebot", "39999")
    first = (await post("巡逻 明天19:00 2小时 北区 5人 截止:明天12:00")).view.task
    tagged = (await post("护学岗 明天7:00 1小时 小学 5人 需要:护学")).view.task
    with refused("还没有加入队伍"):
        await tasks.signup_for_task(outsider, first.id, NOW)
    with refused("需要：护学"):
        await tasks.signup_for_task(volunteer(1), tagged.id, NOW)
    with refused("报名已截止"):
        await tasks.signup_for_task(volunteer(1), first.id, NOW + timedelta(days=1, hours=3))
    await tasks.signup_for_task(volunteer(1), first.id, NOW)
    clash = (await post("宣传 明天20:00 2小时 南区 5人")).view.task
    with refused(f"和你已报名的任务 {first.id}"):
        await tasks.signup_for_task(volunteer(1), clash.id, NOW)
    cancelled = await tasks.cancel_task(OFFICER, clash.id, "下雨")
    assert cancelled.changed
    with refused("已取消"):
        await tasks.signup_for_task(volunteer(2), clash.id, NOW)
    with pytest.raises(NotAllowed):
        await tasks.cancel_task(volunteer(1), first.id, None)


async def test_check_in_location_check_out_and_close_award_once(database: str) -> None:
    await make_team(volunteers=3)
    task = (await post("巡逻 明天19:00 2小时 北区 5人 5分 坐标:36.6500,117.1200 半径:300米")).view.task
    for number in (1, 2, 3):
        await tasks.signup_for_task(volunteer(number), task.id, NOW)
    start = task.start_at
    with refused("签到从"):
        await tasks.check_in(volunteer(1), task.id, start - timedelta(minutes=31))
    with refused("没有可以签到的任务"):
        await tasks.check_in(volunteer(1), None, start - timedelta(minutes=31))
    checked = await tasks.check_in(volunteer(1), None, start - timedelta(minutes=10))
    assert checked.changed
    assert checked.task.id == task.id
    assert not (await tasks.check_in(volunteer(1), task.id, start)).changed
    near = await tasks.attach_location(volunteer(1), 36.6510, 117.1200, start - timedelta(minutes=9, seconds=30))
    assert near is not None
    assert not near.outside
    assert near.distance_m == 111
    # a double click: both answered, one check-in, at the first one's time
    twice = await asyncio.gather(
        tasks.check_in(volunteer(2), task.id, start + timedelta(minutes=30)),
        tasks.check_in(volunteer(2), None, start + timedelta(minutes=30, seconds=1)),
    )
    assert sorted(result.changed for result in twice) == [False, True]
    assert twice[0].at == twice[1].at
    far = await tasks.attach_location(volunteer(2), 36.70, 117.12, start + timedelta(minutes=30, seconds=20))
    assert far.outside
    assert await tasks.attach_location(volunteer(2), 36.70, 117.12, start + timedelta(minutes=35)) is None

    outs = await asyncio.gather(
        tasks.check_out(volunteer(1), None, start + timedelta(hours=1, minutes=30)),
        tasks.check_out(volunteer(1), task.id, start + timedelta(hours=1, minutes=30)),
    )
    assert sorted(out.changed for out in outs) == [False, True]
    assert [out.minutes for out in outs] == [90, 90]  # counted from the start, not from the early check-in
    with refused("还没开始"):
        await tasks.close_task(OFFICER, task.id, start - timedelta(hours=1))
    with pytest.raises(NotAllowed):
        await tasks.close_task(volunteer(1), task.id, start + timedelta(hours=3))

    results = await asyncio.gather(
        tasks.close_task(OFFICER, task.id, start + timedelta(hours=3)),
        tasks.close_task(None, task.id, start + timedelta(hours=3)),
    )
    assert sorted(result.changed for result in results) == [False, True]
    closed = next(result for result in results if result.changed)
    assert sorted(closed.served) == [("队员一", 90), ("队员二", 90)]  # 队员二's open check-in closed at the end
    assert closed.absent == ["队员三"]
    again = await tasks.close_task(OFFICER, task.id, start + timedelta(hours=4))
    assert not again.changed
    async with db.session() as session:
        entries = (await session.exec(select(PointEntry).order_by(PointEntry.member_id))).all()
    assert [(entry.amount, entry.reason) for entry in entries] == [(5, "attendance"), (5, "attendance")]
    assert (await membership.my_profile(volunteer(1))).points == 5
    assert (await membership.my_profile(volunteer(3))).points == 0


async def test_automatic_closing_and_weekly_repeat(database: str) -> None:
    await make_team(volunteers=1)
    task = (await post("巡逻 明天19:00 2小时 北区 5人 每周")).view.task
    await tasks.signup_for_task(volunteer(1), task.id, NOW)
    await tasks.check_in(volunteer(1), task.id, task.start_at)
    assert await tasks.close_open_checkins(task.end_at - timedelta(minutes=1)) == 0
    assert await tasks.close_open_checkins(task.end_at + timedelta(minutes=1)) == 1
    assert await tasks.tasks_due_for_closing(task.end_at + timedelta(minutes=30)) == []
    due = await tasks.tasks_due_for_closing(task.end_at + settings.close_after)
    assert due == [task.id]
    closed = await tasks.close_task(None, task.id, task.end_at + settings.close_after)
    assert closed.served == [("队员一", 120)]
    assert closed.next_task is not None
    assert closed.next_task.task.start_at == task.start_at + timedelta(days=7)
    await tasks.close_task(None, task.id, task.end_at + settings.close_after)
    async with db.session() as session:
        assert (await session.exec(select(func.count()).select_from(Task))).one() == 2


async def test_the_messages_queued_for_others_read_as_posted(database: str) -> None:
    """Cards, a move up from the waiting list, a cancellation and a closing summary, as queued in the outbox."""
    await make_team(volunteers=2)
    await organisation.bind_group(OFFICER, in_group("555002"), "夕阳红巡逻队")
    async with db.session() as session:
        before = (await session.exec(select(func.max(OutboxMessage.id)))).one() or 0
    weekly = (await post("巡逻 明天19:00 2小时 北区 1人 5分 每周")).view.task
    other = (await post("宣传 后天9:00 1小时 南区 5人")).view.task
    await tasks.signup_for_task(volunteer(1), weekly.id, NOW)
    await tasks.signup_for_task(volunteer(2), weekly.id, NOW)
    await tasks.cancel_signup(volunteer(1), weekly.id, NOW)
    await tasks.signup_for_task(volunteer(1), other.id, NOW)
    await tasks.cancel_task(OFFICER, other.id, "下雨", in_group(GROUP))
    await tasks.check_in(volunteer(2), weekly.id, weekly.start_at)
    closed = await tasks.close_task(OFFICER, weekly.id, weekly.start_at + timedelta(hours=3), in_group(GROUP))
    assert closed.next_task is not None
    following = closed.next_task.task.id
    async with db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.id) > before).order_by(col(OutboxMessage.id))
            )
        ).all()

    def card(task_id: int, when: str) -> str:
        return (
            f"【任务 {task_id}】巡逻\n时间：{when}\n地点：北区\n名额：1人，已报 0，还剩 1\n积分：5分\n每周重复\n"
            f"报名：/报名 {task_id}　取消：/取消报名 {task_id}"
        )

    def buttons(task_id: int) -> list[list[str]]:
        return [["报名", f"/signup {task_id}"], ["取消报名", f"/cancel {task_id}"]]

    assert [(row.chat_key, row.text, row.buttons, row.priority) for row in rows] == [
        ("group:555002", card(weekly.id, "11月25日(周三) 19:00-21:00"), buttons(weekly.id), Priority.task_card),
        (
            "group:555002",
            f"【任务 {other.id}】宣传\n时间：11月26日(周四) 09:00-10:00\n地点：南区\n名额：5人，已报 0，还剩 5\n"
            f"报名：/报名 {other.id}　取消：/取消报名 {other.id}",
            buttons(other.id),
            Priority.task_card,
        ),
        (
            "user:30002",
            f"队员二：有人取消，你已从候补转为正式报名任务 {weekly.id}（巡逻，11月25日(周三) 19:00-21:00）。",
            [],
            Priority.personal,
        ),
        (
            "user:30001",
            f"队员一，你报名的任务 {other.id}（宣传，11月26日(周四) 09:00-10:00）已取消，原因：下雨。",
            [],
            Priority.personal,
        ),
        (
            "group:555002",
            f"任务 {other.id}（宣传，11月26日(周四) 09:00-10:00）已取消，原因：下雨。",
            [],
            Priority.task_card,
        ),
        (
            "group:555002",
            f"任务 {weekly.id}（巡逻，11月25日(周三) 19:00-21:00）已结束。\n到岗 1 人，共 2小时：队员二 2小时\n"
            "到岗的每人得 5 分，发送 /我的 查看。",
            [],
            Priority.digest,
        ),
        (f"group:{GROUP}", card(following, "12月2日(周三) 19:00-21:00"), buttons(following), Priority.task_card),
        ("group:555002", card(following, "12月2日(周三) 19:00-21:00"), buttons(following), Priority.task_card),
    ]


@pytest.mark.parametrize(
    ("written", "hours"),
    [("明天19-21点", (19, 21)), ("明天晚上7-9点", (19, 21)), ("12-05 19:00", (19, None)), ("12/5 8:30", (8, None))],
)
def test_hours_and_dates_with_dashes_are_told_apart(written: str, hours: tuple[int, int | None]) -> None:
    """19-21点 is two hours, not a 19th month; 12-05 is a day (the impossible-date check reads both right)."""
    from storage.services.when import local, parse_span

    span = parse_span(written, NOW)
    assert (local(span.start).hour, local(span.end).hour if span.end else None) == hours
