"""Emergency call-outs: fan-out, responses once, the officer's update, escalation on a simulated clock, points once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import Adapter, Bot
from nonebug import App
from sqlmodel import col, select

from storage import db
from storage.errors import NotAllowed
from storage.models import OutboxMessage, PointEntry
from storage.services import emergency, membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import ONEBOT_SELF_ID, onebot_group_message, onebot_private_message, onebot_text
from tests.places import in_group, volunteer_name
from tests.refusals import refused

ADMIN = ChatAccount("onebot", "10001")
OFFICER = ChatAccount("onebot", "20001", "李警官")
GROUPS = ("710001", "710002")


def volunteer(number: int) -> ChatAccount:
    return ChatAccount("onebot", str(30000 + number), volunteer_name(number))


async def set_up() -> None:
    person = PersonRef(platform="onebot", user_id=OFFICER.user_id, display_name="李警官")
    await organisation.grant_officer(ADMIN, person, "市局/历下分局/闫千户派出所")
    await organisation.bind_group(OFFICER, in_group(GROUPS[0]), "一队")
    await organisation.bind_group(OFFICER, in_group(GROUPS[1]), "二队")
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id="20009"), "市局/历下分局")
    await organisation.bind_group(ChatAccount("onebot", "20009"), in_group("710009"), "分局直属队")
    for number in range(1, 5):
        application = await membership.apply_to_team(
            volunteer(number),
            in_group(GROUPS[number % 2]),
            volunteer_name(number),
            f"137{number:08d}",
            ["救援"] if number < 3 else [],
        )
        await membership.decide_application(OFFICER, approve=True, number=application.number)


async def sent_to() -> list[tuple[str, int, str]]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return [(row.chat_key, row.priority, row.text) for row in rows if "紧急" in row.text or "人数已够" in row.text]


async def test_a_call_out_reaches_the_units_groups_and_the_right_people(database: str) -> None:
    await set_up()
    with pytest.raises(NotAllowed):
        await emergency.raise_alert(volunteer(1), "走失老人", 3, [], None)
    raised = await emergency.raise_alert(OFFICER, "走失老人，男，75岁，蓝色外套", 3, ["救援"], None)
    assert (raised.groups, raised.people) == (2, 2)
    messages = await sent_to()
    assert sorted(chat for chat, _, _ in messages) == ["group:710001", "group:710002", "user:30001", "user:30002"]
    assert {priority for _, priority, _ in messages} == {0}  # emergency goes first
    assert all(f"/响应 {raised.alert.id}" in text for _, _, text in messages)


async def test_responses_count_once_and_the_officer_hears_when_enough(database: str) -> None:
    await set_up()
    alert = (await emergency.raise_alert(OFFICER, "走失儿童", 3, [], None)).alert
    start = alert.created_at
    first = await emergency.respond(volunteer(1), None, 5, start + timedelta(minutes=1))
    assert (first.changed, first.state.count) == (True, 1)
    assert not (await emergency.respond(volunteer(1), alert.id, 3, start + timedelta(minutes=2))).changed
    await emergency.respond(volunteer(2), alert.id, None, start + timedelta(minutes=2))
    assert not [m for m in await sent_to() if m[0] == "user:20001"]
    third = await emergency.respond(volunteer(3), alert.id, 10, start + timedelta(minutes=3))
    assert third.state.count == 3
    update = [text for chat, _, text in await sent_to() if chat == "user:20001"]
    assert len(update) == 1
    assert "人数已够" in update[0]
    assert "响应 3/3 人" in update[0]
    # 队员一's second answer (at minute 2: "3 minutes") replaced the first estimate: 4 minutes after answering
    assert "队员一：呼叫后 1.0 分钟响应，预计 4 分钟到" in update[0]
    await emergency.respond(volunteer(4), alert.id, None, start + timedelta(minutes=4))
    assert len([m for m in await sent_to() if m[0] == "user:20001"]) == 1  # told once
    state = await emergency.alert_state(OFFICER, alert.id)
    assert [r.name for r in state.responders] == ["队员一", "队员二", "队员三", "队员四"]
    with refused("不是队员"):
        await emergency.respond(ChatAccount("onebot", "39999"), alert.id, None)


async def test_too_few_answers_escalate_once_to_the_parent_units_groups(database: str) -> None:
    await set_up()
    branch = ChatAccount("onebot", "30099")
    application = await membership.apply_to_team(branch, in_group("710009"), "分局队员", "13600000099", [])
    await membership.decide_application(ChatAccount("onebot", "20009"), approve=True, number=application.number)
    alert = (await emergency.raise_alert(OFFICER, "山中失联驴友", 5, [], None)).alert
    with refused("没有发给你的"):
        await emergency.respond(branch, None, 8)  # not the station's volunteer: not called yet
    await emergency.respond(volunteer(1), alert.id, 5, alert.created_at + timedelta(minutes=1))
    assert await emergency.escalate_due(alert.created_at + timedelta(minutes=4)) == []
    escalated = await emergency.escalate_due(alert.created_at + timedelta(minutes=5, seconds=1))
    assert [(e.alert.id, e.groups) for e in escalated] == [(alert.id, 3)]
    assert await emergency.escalate_due(alert.created_at + timedelta(minutes=10)) == []
    wider = [chat for chat, _, text in await sent_to() if text.startswith("【紧急·升级】")]
    assert sorted(wider) == ["group:710001", "group:710002", "group:710009"]
    assert (await emergency.respond(branch, None, 8)).changed  # the parent unit's volunteers are called now


async def test_closing_awards_responders_once(database: str) -> None:
    await set_up()
    alert = (await emergency.raise_alert(OFFICER, "火情", 2, [], None)).alert
    await emergency.respond(volunteer(1), alert.id, 3)
    await emergency.respond(volunteer(2), alert.id, 6)
    closed = await emergency.close_alert(OFFICER, alert.id, "已找到", 10)
    assert (closed.changed, closed.awarded) == (True, 2)
    again = await emergency.close_alert(OFFICER, alert.id, "已找到", 10)
    assert (again.changed, again.awarded) == (False, 0)
    async with db.session() as session:
        entries = (await session.exec(select(PointEntry))).all()
    assert sorted((e.member_id, e.amount) for e in entries) == [(3, 10), (4, 10)]  # 队员一 and 队员二
    with refused("已经结束"):
        await emergency.respond(volunteer(3), alert.id, None)


async def test_members_checked_in_elsewhere_are_not_called_privately(database: str) -> None:
    await set_up()
    start = datetime.now(timezone.utc) + timedelta(minutes=10)
    spec = tasks.TaskSpec(kind="巡逻", place="北区", start=start, end=start + timedelta(hours=1), capacity=5)
    task = (await tasks.post_task(OFFICER, in_group(GROUPS[1]), spec)).view.task
    await tasks.signup_for_task(volunteer(1), task.id)
    await tasks.check_in(volunteer(1), task.id)
    raised = await emergency.raise_alert(OFFICER, "需要救援", 2, ["救援"], None)
    assert raised.people == 1
    assert [chat for chat, _, _ in await sent_to() if chat.startswith("user:")] == ["user:30002"]


async def test_a_second_answer_updates_the_arrival_estimate_the_officer_sees(app: App, database: str) -> None:
    await set_up()
    alert = (await emergency.raise_alert(OFFICER, "走失老人", 3, [], None)).alert
    group = int(GROUPS[1])  # 队员一's team
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        for event, reply in (
            (onebot_group_message(group, 30001, "/响应"), f"已响应紧急呼叫 {alert.id}。现在 1/3 人。请注意安全！"),
            (
                onebot_group_message(group, 30001, "/响应"),
                f"你已经响应了紧急呼叫 {alert.id}，谢谢！要更新预计时间：/响应 {alert.id} 预计N分钟",
            ),
            (
                onebot_group_message(group, 30001, "/响应 预计10分钟"),
                f"已更新：紧急呼叫 {alert.id}，你预计 10 分钟到。民警查看响应时能看到。请注意安全！",
            ),
            (
                onebot_private_message(20001, f"/紧急 {alert.id}"),
                f"紧急呼叫 {alert.id}（市局/历下分局/闫千户派出所）：进行中\n响应 1/3 人\n"
                "队员一：呼叫后 0.0 分钟响应，预计 10 分钟到",
            ),
        ):
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, onebot_text(reply), result={"message_id": 1}, bot=bot)


async def test_a_later_estimate_counts_from_when_it_is_given(database: str) -> None:
    await set_up()
    alert = (await emergency.raise_alert(OFFICER, "走失儿童", 3, [], None)).alert
    start = alert.created_at
    await emergency.respond(volunteer(1), None, 5, start + timedelta(minutes=1))
    later = await emergency.respond(volunteer(1), alert.id, 10, start + timedelta(minutes=4))
    assert (later.changed, later.eta_updated, later.state.count) == (False, True, 1)
    # answered a minute after the call; 3 minutes later "10 more minutes": 13 minutes after the answer
    assert later.state.responders[0].eta_minutes == 13
