"""Reminders: derived from tasks, stored, sent once through the outbox, dropped on purpose when too late."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import col, func, select

from storage import db
from storage.models import OutboxMessage, ReminderState, TaskReminder
from storage.services import membership, organisation, reminders, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.places import in_group, volunteer_name

OFFICER = ChatAccount("onebot", "20001", "李警官")
GROUP = "555001"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Shanghai
TASKS = 120


@pytest.fixture(autouse=True)
def clock_at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reminders are scheduled from the clock: these tests post their tasks as of NOW, so the clock reads NOW too
    (otherwise a reminder already past on the real clock, such as 24 hours before tomorrow evening, is dropped)."""
    monkeypatch.setattr(reminders, "utcnow", lambda: NOW)


async def set_up(volunteers: int = 2) -> None:
    await organisation.grant_officer(
        ChatAccount("onebot", "10001"), PersonRef(platform="onebot", user_id="20001"), "历下分局"
    )
    await organisation.bind_group(OFFICER, in_group(GROUP), "夕阳红巡逻队")
    await organisation.bind_group(OFFICER, in_group("555002"), "夕阳红巡逻队")  # a team may have several groups
    for number in range(1, volunteers + 1):
        caller = ChatAccount("onebot", str(30000 + number))
        application = await membership.apply_to_team(
            caller, in_group(GROUP), volunteer_name(number), f"139{number:08d}", []
        )
        await membership.decide_application(OFFICER, approve=True, number=application.number)


async def post(words: str) -> tasks.TaskFacts:
    return (await tasks.post_task(OFFICER, in_group(GROUP), tasks.parse_task_words(words.split(), NOW))).view.task


async def reminder_rows(task_id: int) -> dict[str, tuple[datetime, str]]:
    async with db.session() as session:
        rows = (await session.exec(select(TaskReminder).where(TaskReminder.task_id == task_id))).all()
    return {row.kind: (row.due_at, row.state) for row in rows}


async def reminder_messages() -> list[OutboxMessage]:
    async with db.session() as session:
        return list(
            (
                await session.exec(
                    select(OutboxMessage).where(OutboxMessage.priority == 3).order_by(col(OutboxMessage.id))
                )
            ).all()
        )


async def test_a_task_gets_its_reminders_and_they_follow_the_task(database: str) -> None:
    await set_up()
    task = await post("巡逻 明天19:00 2小时 北区 5人 截止:明天17:00")
    rows = await reminder_rows(task.id)
    assert set(rows) == {"before:1440", "before:60", "checkin", "deadline"}
    assert rows["before:60"][0] == task.start_at - timedelta(hours=1)
    assert rows["checkin"][0] == task.start_at - timedelta(minutes=30)
    assert rows["deadline"][0] == task.signup_deadline - timedelta(hours=2)
    # posted less than a day before: the 24-hour reminder is already past and not created
    assert rows["before:1440"][1] == "pending"
    await tasks.cancel_task(OFFICER, task.id, "下雨")
    assert {state for _, state in (await reminder_rows(task.id)).values()} == {"cancelled"}
    run = await reminders.send_due_reminders(task.start_at)
    assert (run.sent, run.messages) == (0, 0)


async def test_due_reminders_mention_those_signed_up_and_go_once(database: str) -> None:
    await set_up(volunteers=2)
    task = await post("巡逻 后天19:00 2小时 北区 5人")
    await tasks.signup_for_task(ChatAccount("onebot", "30001"), task.id, NOW)
    await tasks.signup_for_task(ChatAccount("onebot", "30002"), task.id, NOW)
    due = task.start_at - timedelta(minutes=30)
    first, second = await asyncio.gather(reminders.send_due_reminders(due), reminders.send_due_reminders(due))
    assert first.sent + second.sent == 3  # 24 h, 1 h and check-in opening are all due half an hour before
    messages = await reminder_messages()
    assert len(messages) == 6  # three reminders, each to the team's two groups
    assert sorted(message.chat_key for message in messages) == [f"group:{GROUP}"] * 3 + ["group:555002"] * 3
    assert all(message.mentions == ["30001", "30002"] for message in messages)
    hour = next(message for message in messages if "1小时后开始" in message.text)
    assert "已报名：队员一、队员二。" in hour.text
    assert f"/签到 {task.id}" in hour.text
    again = await reminders.send_due_reminders(due + timedelta(minutes=5))
    assert (again.sent, again.messages) == (0, 0)
    assert len(await reminder_messages()) == 6


async def test_after_downtime_a_late_reminder_still_goes_while_useful(database: str) -> None:
    await set_up()
    task = await post("巡逻 后天19:00 2小时 北区 5人")
    # the bot was down from before the 24-hour reminder until 10 minutes before the start
    late = await reminders.send_due_reminders(task.start_at - timedelta(minutes=10))
    assert late.sent == 3
    other = await post("宣传 后天9:00 1小时 南区 5人")
    dropped = await reminders.send_due_reminders(other.start_at + timedelta(minutes=1))
    assert dropped.dropped == 3
    assert dropped.sent == 0
    assert {state for _, state in (await reminder_rows(other.id)).values()} == {ReminderState.dropped}


async def test_deadline_reminder_only_when_places_are_left(database: str) -> None:
    await set_up(volunteers=1)
    full = await post("巡逻 后天19:00 2小时 北区 1人 截止:后天12:00")
    await tasks.signup_for_task(ChatAccount("onebot", "30001"), full.id, NOW)
    run = await reminders.send_due_reminders(full.signup_deadline - timedelta(hours=1))
    assert run.sent >= 1
    assert not [m for m in await reminder_messages() if "报名提醒" in m.text]


async def test_many_tasks_several_senders_each_reminder_once(database: str) -> None:
    await set_up(volunteers=0)
    for number in range(TASKS):
        start = NOW + timedelta(days=2, minutes=number)
        spec = tasks.TaskSpec(
            kind="巡逻", place=f"点位{number}", start=start, end=start + timedelta(hours=1), capacity=3
        )
        await tasks.post_task(OFFICER, in_group(GROUP), spec)
    async with db.session() as session:
        await session.exec(update(TaskReminder).values(due_at=NOW))  # all due at once
        total = (await session.exec(select(func.count()).select_from(TaskReminder))).one()
    runs = await asyncio.gather(*(reminders.send_due_reminders(NOW, limit=50) for _ in range(6)))
    while sum(run.sent for run in runs) < total:
        more = await reminders.send_due_reminders(NOW, limit=50)
        if not more.sent:
            break
        runs.append(more)
    assert sum(run.sent for run in runs) == total == TASKS * 3
    messages = await reminder_messages()
    keys = [(m.chat_key, m.text) for m in messages]
    assert len(keys) == len(set(keys)) == total * 2  # each reminder once to each of the team's two groups
