"""Tasks through the handlers (nonebug, OneBot v11): posting in one line and step by step, sign-up, check-in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import Adapter, Bot, Message, MessageSegment
from nonebug import App
from sqlmodel import func, select

from plugins._texts.when import describe
from storage import db
from storage.models import Signup, Task
from storage.services import membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import (
    ONEBOT_SELF_ID,
    onebot_group_message,
    onebot_private_message,
    onebot_text,
)
from tests.places import in_group
from tests.refusals import refused

GROUP = 555001
OFFICER = 20001
VOLUNTEER = 30001


async def set_up() -> None:
    await organisation.grant_officer(
        ChatAccount("onebot", "10001"), PersonRef(platform="onebot", user_id=str(OFFICER)), "历下分局"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "夕阳红巡逻队")
    application = await membership.apply_to_team(
        ChatAccount("onebot", str(VOLUNTEER)), in_group(GROUP), "张三", "13800138000", []
    )
    await membership.decide_application(ChatAccount("onebot", str(OFFICER)), approve=True, number=application.number)


def conversation(ctx, bot, *steps) -> None:
    """Each step: an event, then what the bot sends back (exactly, as plain text)."""
    for event, reply in steps:
        ctx.receive_event(bot, event)
        if reply is not None:
            ctx.should_call_send(event, onebot_text(reply), result={"message_id": 1}, bot=bot)


async def count(model) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def test_post_sign_up_and_check_in_through_commands(app: App, database: str) -> None:
    await set_up()
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 闫千户片区 1人 5分".split())
    when = describe(spec.start, spec.end)
    card = (
        f"【任务 1】巡逻\n时间：{when}\n地点：闫千户片区\n名额：1人，已报 0，还剩 1\n积分：5分\n"
        "报名：/报名 1　取消：/取消报名 1"
    )
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (
                onebot_group_message(GROUP, VOLUNTEER, "/发布任务 巡逻 明天19:00 2小时 闫千户片区 1人 5分"),
                "只有民警可以发布任务。",
            ),
            (
                onebot_group_message(GROUP, OFFICER, "/发布任务 巡逻 明天 2小时 闫千户片区 1人"),
                "“明天”请写上几点，例如 明天 19:00",
            ),
            (
                onebot_group_message(GROUP, OFFICER, "/发布任务 巡逻 明天19:00 2小时 闫千户片区 1人 5分"),
                f"已发布任务 1：巡逻，{when}。\n\n{card}",
            ),
            (onebot_group_message(GROUP, VOLUNTEER, "/报名"), "报名：/报名 任务编号，例如 /报名 12\n任务编号见 /任务"),
            (
                onebot_group_message(GROUP, VOLUNTEER, "/报名 1", nickname="张三"),
                f"张三：报名成功！任务 1（巡逻，{when}，闫千户片区），还剩 0 个名额。\n开始前半小时起可以 /签到 1",
            ),
            (
                # the name in this group (the group card) comes with the message: no question to the QQ client
                onebot_group_message(GROUP, VOLUNTEER, "/signup 1", nickname="zs", card="巡逻队张三"),
                f"巡逻队张三：你已经报名了任务 1（巡逻，{when}），不用重复报名。",
            ),
            (
                onebot_group_message(GROUP, VOLUNTEER, "/签到 1"),
                f"任务 1 的签到从 {describe(spec.start - timedelta(minutes=30))} 开始。",
            ),
            (
                onebot_group_message(GROUP, VOLUNTEER, "/任务"),
                f"近期任务：\n1｜巡逻｜{when}｜闫千户片区｜还剩0个名额\n报名：/报名 编号　查看名单：/任务 编号",
            ),
        )
    assert await count(Signup) == 1


async def test_posting_step_by_step_and_cancelling_midway(app: App, database: str) -> None:
    await set_up()
    first = "发布任务，随时回复“取消”退出。\n1/6 什么任务？例如 巡逻、宣传、护学岗、安保"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (onebot_group_message(GROUP, OFFICER, "/发布任务"), first),
            (
                onebot_group_message(GROUP, OFFICER, "宣传"),
                "2/6 什么时候开始？例如 明天19:00、下周六 8:30、明天 07:10-08:00",
            ),
            (
                onebot_group_message(GROUP, OFFICER, "昨天"),
                "看不懂时间“昨天”：例如 明天19:00、周六 8:30、下周六 8:30、后天晚上7点、明天 07:10-08:00\n"
                "请重新回复，或回复“取消”退出。",
            ),
            (onebot_group_message(GROUP, OFFICER, "取消"), "已取消，什么也没有改。"),
        )
    assert await count(Task) == 0

    last_answer = onebot_group_message(GROUP, OFFICER, "3分")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (onebot_group_message(GROUP, OFFICER, "/newtask"), first),
            (
                onebot_group_message(GROUP, OFFICER, "宣传"),
                "2/6 什么时候开始？例如 明天19:00、下周六 8:30、明天 07:10-08:00",
            ),
            (onebot_group_message(GROUP, OFFICER, "周六 8:30"), "3/6 多长时间？例如 2小时、一个半小时、90分钟"),
            (onebot_group_message(GROUP, OFFICER, "90分钟"), "4/6 在哪里？例如 闫千户片区"),
            (onebot_group_message(GROUP, OFFICER, "万达广场"), "5/6 要几个人？例如 10 或 十人"),
            (
                onebot_group_message(GROUP, OFFICER, "很多"),
                "人数写1到1000之间的数字，例如 10\n请重新回复，或回复“取消”退出。",
            ),
            (
                onebot_group_message(GROUP, OFFICER, "6"),
                "6/6 积分和要求：例如 5分 需要:护学 截止:明天18:00；没有就回复“无”",
            ),
            (last_answer, None),
        )
        spec = tasks.parse_task_words("宣传 周六 8:30 90分钟 万达广场 6人 3分".split())
        when = describe(spec.start, spec.end)
        card = (
            f"【任务 1】宣传\n时间：{when}\n地点：万达广场\n名额：6人，已报 0，还剩 6\n积分：3分\n"
            "报名：/报名 1　取消：/取消报名 1"
        )
        ctx.should_call_send(last_answer, onebot_text(f"已发布任务 1：宣传，{when}。\n\n{card}"), result=None)
    assert await count(Task) == 1


def card_of(number: int, words: str) -> tuple[str, str]:
    """The time as shown, and the card, of the task these words post (as the first task in the test)."""
    spec = tasks.parse_task_words(words.split())
    when = describe(spec.start, spec.end)
    points = f"积分：{spec.points}分\n" if spec.points else ""
    card = (
        f"【任务 {number}】{spec.kind}\n时间：{when}\n地点：{spec.place}\n"
        f"名额：{spec.capacity}人，已报 0，还剩 {spec.capacity}\n{points}"
        f"报名：/报名 {number}　取消：/取消报名 {number}"
    )
    return when, card


async def test_times_and_numbers_the_way_people_write_them(app: App, database: str) -> None:
    """An impossible time is refused naming the part that does not exist (never rolled into another day, never
    called past); counts and durations in Chinese numerals are read, in one line and step by step."""
    await set_up()
    said = lambda text: onebot_group_message(GROUP, OFFICER, text)  # noqa: E731
    again = "\n请重新回复，或回复“取消”退出。"
    examples = "例如 明天19:00、周六 8:30、下周六 8:30、后天晚上7点、明天 07:10-08:00"
    one_line = "巡逻 明天19:00 两小时 闫千户片区 十人"
    when, card = card_of(1, one_line)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (said("/发布任务 巡逻 明天25点 2小时 闫千户片区 10人"), f"没有25点：小时写0到23，{examples}"),
            (said("/发布任务 巡逻 明天19:61 2小时 闫千户片区 10人"), "没有61分：分钟写0到59，例如 明天19:30"),
            (said("/发布任务 巡逻 13月5日19:00 2小时 闫千户片区 10人"), f"没有13月：月份写1到12，{examples}"),
            (said("/发布任务 巡逻 2月30日 19:00 2小时 闫千户片区 10人"), "没有2月30日：2月只有29天。"),
            (said(f"/发布任务 {one_line}"), f"已发布任务 1：巡逻，{when}。\n\n{card}"),
        )
    async with db.session() as session:
        (task,) = (await session.exec(select(Task))).all()
    assert (task.capacity, task.end_at - task.start_at) == (10, timedelta(hours=2))

    last_answer = said("无")
    when, card = card_of(2, "宣传 明天19:00 一个半小时 万达广场 二十人")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (said("/发布任务"), "发布任务，随时回复“取消”退出。\n1/6 什么任务？例如 巡逻、宣传、护学岗、安保"),
            (said("宣传"), "2/6 什么时候开始？例如 明天19:00、下周六 8:30、明天 07:10-08:00"),
            (said("明天25点"), f"没有25点：小时写0到23，{examples}{again}"),
            (said("十三月五日 19:00"), f"没有13月：月份写1到12，{examples}{again}"),
            (said("明天19:00"), "3/6 多长时间？例如 2小时、一个半小时、90分钟"),
            (said("一个半小时"), "4/6 在哪里？例如 闫千户片区"),
            (said("万达广场"), "5/6 要几个人？例如 10 或 十人"),
            (said("二十人"), "6/6 积分和要求：例如 5分 需要:护学 截止:明天18:00；没有就回复“无”"),
            (last_answer, None),
        )
        ctx.should_call_send(last_answer, onebot_text(f"已发布任务 2：宣传，{when}。\n\n{card}"), result=None)
    async with db.session() as session:
        task = await session.get(Task, 2)
    assert task is not None
    assert (task.capacity, task.end_at - task.start_at) == (20, timedelta(minutes=90))


async def test_a_kind_and_a_place_follow_the_same_rule_in_one_line_and_step_by_step(app: App, database: str) -> None:
    """Too long a kind or place is refused (not cut short and posted), with the words the wizard uses."""
    await set_up()
    said = lambda text: onebot_group_message(GROUP, OFFICER, text)  # noqa: E731
    kind_rule, place_rule = "任务类型写1到20个字，例如 巡逻。", "地点写1到100个字，例如 闫千户片区。"
    again = "\n请重新回复，或回复“取消”退出。"
    long_kind, long_place = "巡" * 21, "闫" * 101
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (said(f"/发布任务 {long_kind} 明天19:00 2小时 闫千户片区 10人"), kind_rule),
            (said(f"/发布任务 巡逻 明天19:00 2小时 {long_place} 10人"), place_rule),
            (said("/发布任务"), "发布任务，随时回复“取消”退出。\n1/6 什么任务？例如 巡逻、宣传、护学岗、安保"),
            (said(long_kind), kind_rule + again),
            (said("巡逻"), "2/6 什么时候开始？例如 明天19:00、下周六 8:30、明天 07:10-08:00"),
            (said("明天19:00"), "3/6 多长时间？例如 2小时、一个半小时、90分钟"),
            (said("2小时"), "4/6 在哪里？例如 闫千户片区"),
            (said(long_place), place_rule + again),
            (said("取消"), "已取消，什么也没有改。"),
        )
    assert await count(Task) == 0


async def test_private_tasks_list_needs_membership(app: App, database: str) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(ctx, bot, (onebot_private_message(39999, "/任务"), "你还没有加入队伍：在队伍群里发送 /加入 姓名"))


async def post_soon(minutes: int = 20) -> tasks.PostedTask:
    start = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    spec = tasks.TaskSpec(
        kind="巡逻",
        place="北区",
        start=start,
        end=start + timedelta(hours=2),
        capacity=5,
        latitude=36.65,
        longitude=117.12,
    )
    spec.radius_m = 300
    return await tasks.post_task(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), spec)


NAPCAT_MAP_CARD = json.dumps(
    {"app": "com.tencent.map", "view": "LocationShare", "meta": {"Location.Search": {"lat": "36.651", "lng": "117.12"}}}
)


@pytest.mark.parametrize(
    ("location", "distance"),
    [
        (MessageSegment("location", {"lat": "36.651", "lon": "117.12"}), "约 111 米，在范围内"),
        (MessageSegment.json(NAPCAT_MAP_CARD), "约 111 米，在范围内"),
        (MessageSegment("location", {"lat": "36.70", "lon": "117.12"}), "约 5560 米，超出范围，已标记给民警核对"),
    ],
    ids=["onebot-location", "napcat-card", "far-away"],
)
async def test_location_shared_after_check_in_is_checked(app: App, database: str, location, distance: str) -> None:
    await set_up()
    task = (await post_soon()).view.task
    await tasks.signup_for_task(ChatAccount("onebot", str(VOLUNTEER)), task.id)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (
                onebot_group_message(GROUP, VOLUNTEER, "/签到"),
                f"签到成功：任务 {task.id}（巡逻，北区）。结束时发送 /签退 {task.id}\n"
                "可以在一分钟内发送你的位置，用来核对是否在任务地点。",
            ),
            (
                onebot_group_message(GROUP, VOLUNTEER, Message(location)),
                f"任务 {task.id}：位置已记录：离任务地点{distance}。",
            ),
        )
    detail = await tasks.task_detail(ChatAccount("onebot", str(OFFICER)), task.id)
    assert detail.signed[0].checked_in
    assert detail.signed[0].outside_radius == ("超出" in distance)


async def test_a_location_without_a_fresh_check_in_is_ignored(app: App, database: str) -> None:
    await set_up()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        event = onebot_group_message(
            GROUP, VOLUNTEER, Message(MessageSegment("location", {"lat": "36.6", "lon": "117"}))
        )
        ctx.receive_event(bot, event)


async def test_the_same_task_sent_twice_within_a_minute_waits_for_a_confirmation(app: App, database: str) -> None:
    await set_up()
    line = "/发布任务 巡逻 明天19:00 2小时 闫千户片区 1人 5分"
    spec = tasks.parse_task_words(line.split()[1:])
    when = describe(spec.start, spec.end)

    def posted(number: int) -> str:
        card = (
            f"【任务 {number}】巡逻\n时间：{when}\n地点：闫千户片区\n名额：1人，已报 0，还剩 1\n积分：5分\n"
            f"报名：/报名 {number}　取消：/取消报名 {number}"
        )
        return f"已发布任务 {number}：巡逻，{when}。\n\n{card}"

    asked = "一分钟前刚发布过一样的任务（编号1）。确实要再发一个，请在一分钟内回复“确认”。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (onebot_group_message(GROUP, OFFICER, line), posted(1)),
            (onebot_group_message(GROUP, OFFICER, line), asked),
            (onebot_group_message(GROUP, OFFICER, "好的"), "没有发布。需要时重新发送 /发布任务"),
            (onebot_group_message(GROUP, OFFICER, line), asked),
            (onebot_group_message(GROUP, OFFICER, "取消"), "已取消，什么也没有改。"),
        )
    assert await count(Task) == 1
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (onebot_group_message(GROUP, OFFICER, line), asked),
            (onebot_group_message(GROUP, OFFICER, "确认"), posted(2)),
        )
    assert await count(Task) == 2

    # the same task again, step by step: asked after the last answer
    asked = asked.replace("编号1", "编号2")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (
                onebot_group_message(GROUP, OFFICER, "/发布任务"),
                "发布任务，随时回复“取消”退出。\n1/6 什么任务？例如 巡逻、宣传、护学岗、安保",
            ),
            (
                onebot_group_message(GROUP, OFFICER, "巡逻"),
                "2/6 什么时候开始？例如 明天19:00、下周六 8:30、明天 07:10-08:00",
            ),
            (onebot_group_message(GROUP, OFFICER, "明天19:00"), "3/6 多长时间？例如 2小时、一个半小时、90分钟"),
            (onebot_group_message(GROUP, OFFICER, "2小时"), "4/6 在哪里？例如 闫千户片区"),
            (onebot_group_message(GROUP, OFFICER, "闫千户片区"), "5/6 要几个人？例如 10 或 十人"),
            (
                onebot_group_message(GROUP, OFFICER, "1"),
                "6/6 积分和要求：例如 5分 需要:护学 截止:明天18:00；没有就回复“无”",
            ),
            (onebot_group_message(GROUP, OFFICER, "5分"), asked),
            (onebot_group_message(GROUP, OFFICER, "确认"), posted(3)),
        )
    assert await count(Task) == 3


async def test_a_task_like_one_posted_over_a_minute_ago_is_posted_at_once(database: str) -> None:
    await set_up()
    officer = ChatAccount("onebot", str(OFFICER))
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 闫千户片区 1人".split())
    first = await tasks.post_task(officer, in_group(GROUP), spec)
    with refused("一分钟前刚发布过一样的任务（编号1）"):
        await tasks.post_task(officer, in_group(GROUP), spec)
    other_place = tasks.parse_task_words("巡逻 明天19:00 2小时 北区 1人".split())
    assert (await tasks.post_task(officer, in_group(GROUP), other_place)).view.task.id == 2
    async with db.session() as session:
        task = await session.get(Task, first.view.task.id)
        assert task is not None
        task.created_at -= timedelta(minutes=2)
        session.add(task)
    assert (await tasks.post_task(officer, in_group(GROUP), spec)).view.task.id == 3


async def test_time_served_under_an_hour_is_said_in_minutes_and_apart_from_the_name(app: App, database: str) -> None:
    await set_up()
    task = (await post_soon()).view.task
    volunteer = ChatAccount("onebot", str(VOLUNTEER))
    await tasks.signup_for_task(volunteer, task.id)
    await tasks.check_in(volunteer, task.id)
    began = datetime.now(timezone.utc) - timedelta(minutes=12, seconds=20)
    async with db.session() as session:  # the task began, and 张三 checked in, twelve minutes ago
        saved = await session.get(Task, task.id)
        assert saved is not None
        saved.start_at = began
        session.add(saved)
        signup = (await session.exec(select(Signup).where(Signup.task_id == task.id))).one()
        signup.checked_in_at = began
        session.add(signup)
    when = describe(began, task.end_at)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        conversation(
            ctx,
            bot,
            (
                onebot_group_message(GROUP, VOLUNTEER, "/签退"),
                f"签退成功：任务 {task.id}，本次服务 12分钟。辛苦了！",
            ),
            (
                onebot_group_message(GROUP, OFFICER, f"/结束任务 {task.id}"),
                f"任务 {task.id}（巡逻，{when}）已结束。\n到岗 1 人，共 12分钟：张三 12分钟",
            ),
        )


def test_time_served_reads_as_hours_and_minutes() -> None:
    from plugins._texts.when import duration_text

    assert [duration_text(m) for m in (0, 12, 60, 65, 150, 600)] == [
        "0分钟",
        "12分钟",
        "1小时",
        "1小时5分钟",
        "2小时30分钟",
        "10小时",
    ]
