"""Joining and vetting through the command handlers, with Telegram events (nonebug)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import nonebot
from nonebot.adapters.telegram import Adapter, Bot
from nonebot.adapters.telegram.config import BotConfig
from nonebot.adapters.telegram.event import Event as TelegramEvent
from nonebug import App
from sqlmodel import col, select

from storage import db
from storage.models import OutboxMessage
from storage.services import membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import (
    TELEGRAM_SELF_ID,
    TELEGRAM_USERNAME,
    expect_telegram_session_lookups,
    forget_dialogues,
    telegram_message,
    telegram_text,
)
from tests.places import in_group

GROUP = -1001234567
OFFICER = 9001
VOLUNTEER = 9002


async def exchange(app: App, event, reply: str, *, extra=None) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(
            base=Bot,
            adapter=nonebot.get_adapter(Adapter),
            self_id=TELEGRAM_SELF_ID,
            config=BotConfig(token=f"{TELEGRAM_SELF_ID}:TEST"),
        )
        bot.username = TELEGRAM_USERNAME
        ctx.receive_event(bot, event)
        expect_telegram_session_lookups(ctx, bot, event)
        if extra is not None:
            extra(ctx)
        ctx.should_call_send(event, telegram_text(reply), result=None, bot=bot, reply_markup=None)


async def test_join_and_approve_on_telegram(app: App, database: str) -> None:
    # 9001 is a superuser in the tests' configuration: an administrator who grants himself officer rights
    await organisation.grant_officer(
        ChatAccount("telegram", str(OFFICER)), PersonRef(platform="telegram", user_id=str(OFFICER)), "历下分局"
    )
    await exchange(
        app,
        telegram_message(GROUP, OFFICER, "/bindteam 青春飞扬护学队", first_name="Officer"),
        "本群已绑定到“青春飞扬护学队”（历下分局）。\n这是新建的队伍。\n队员请发送：/加入 姓名 特长",
    )
    await exchange(
        app,
        telegram_message(GROUP, VOLUNTEER, f"/join@{TELEGRAM_USERNAME} 李四 13900139000 护学"),
        "李四，请私聊我回答剩下的几个登记问题，完成加入“青春飞扬护学队”的申请。手机号不要发在群里，可以撤回刚才那条消息。",
    )
    from plugins._texts.recruiting import CONSENT_ANSWER, consent_text

    for typed, asked in [  # in the private chat with the bot (a Telegram private chat's id is the user's)
        ("历下区", "已记下区域：历下区。\n（还有4步）你的工作单位？（退休或没有就写 无）"),
        ("无", "（还有3步）你的职业？（例如 教师、司机、退休）"),
        ("退休", "已记下职业：退休。\n（还有2步）紧急联系人：写称呼或姓名和手机号（例如 妻子 王芳 13900139000）"),
        (
            "妻子 王芳 13900139000",
            f"已记下紧急联系人：妻子 王芳 139****9000。\n最后一步：{consent_text()}\n{CONSENT_ANSWER}",
        ),
        ("同意", "已收到李四加入“青春飞扬护学队”的申请，编号 1。\n队长或民警审核后会通知你。队长请发送 /审核 查看。"),
    ]:
        answer = telegram_message(VOLUNTEER, VOLUNTEER, typed)
        # each answer as after a restart: nonebug keeps no dialogue step between two exchanges, and the application
        # goes on from what the database holds; who sent it is asked of Telegram once more, by the rule that takes
        # a text that is not a command as the application's answer
        forget_dialogues()
        await exchange(
            app, answer, asked, extra=lambda ctx, answer=answer: expect_telegram_session_lookups(ctx, None, answer)
        )

    await exchange(app, telegram_message(GROUP, OFFICER, "/approve 1"), "已通过李四加入“青春飞扬护学队”，成员号 2。")
    async with db.session() as session:
        notice = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()))).first()
    assert notice is not None
    assert (notice.platform, notice.chat_key) == ("telegram", f"user:{VOLUNTEER}")
    assert notice.target["private"]
    assert notice.text == "李四，你加入“青春飞扬护学队”的申请已通过，成员号 2。发送 /帮助 看看能做什么。"
    await exchange(
        app,
        telegram_message(VOLUNTEER, VOLUNTEER, "/me"),
        "李四，成员号 2\n手机：139****9000\n特长：护学\n状态：正常\n积分：0\n队伍：青春飞扬护学队（正式队员）\n"
        f"账号：telegram:{VOLUNTEER}",
    )


async def test_same_message_id_in_two_chats_is_two_commands(app: App, database: str) -> None:
    """Telegram numbers messages per chat: equal ids in different chats must not share a parse."""
    from plugins.membership import JOIN_USAGE

    first = telegram_message(-1001, VOLUNTEER, "/join 王五 13700137000")
    second = telegram_message(-1002, VOLUNTEER, "/join")
    second.message_id = first.message_id
    await exchange(app, first, "本群还没有绑定队伍，暂时不能加入。请联系民警先发送 /绑定队伍 队伍名")
    await exchange(app, second, JOIN_USAGE)


async def test_check_in_then_share_a_telegram_location(app: App, database: str) -> None:
    officer = ChatAccount("telegram", str(OFFICER))
    await organisation.grant_officer(officer, PersonRef(platform="telegram", user_id=str(OFFICER)), "历下分局")
    await organisation.bind_group(officer, in_group(GROUP, "telegram"), "青春飞扬护学队")
    application = await membership.apply_to_team(
        ChatAccount("telegram", str(VOLUNTEER)), in_group(GROUP, "telegram"), "李四", "13900139000", []
    )
    await membership.decide_application(officer, approve=True, number=application.number)
    start = datetime.now(timezone.utc) + timedelta(minutes=10)
    spec = tasks.TaskSpec(kind="护学岗", place="小学", start=start, end=start + timedelta(hours=1), capacity=2)
    spec.latitude, spec.longitude, spec.radius_m = 36.65, 117.12, 300
    task = (await tasks.post_task(officer, in_group(GROUP, "telegram"), spec)).view.task
    await tasks.signup_for_task(ChatAccount("telegram", str(VOLUNTEER)), task.id)

    await exchange(
        app,
        telegram_message(VOLUNTEER, VOLUNTEER, "/checkin"),
        f"签到成功：任务 {task.id}（护学岗，小学）。结束时发送 /签退 {task.id}\n"
        "可以在一分钟内发送你的位置，用来核对是否在任务地点。",
    )
    location = TelegramEvent.parse_event(
        {
            "update_id": 1,
            "message": {
                "message_id": 99,
                "date": int(start.timestamp()),
                "chat": {"id": VOLUNTEER, "type": "private", "first_name": "李四"},
                "from": {"id": VOLUNTEER, "is_bot": False, "first_name": "李四"},
                "location": {"latitude": 36.651, "longitude": 117.12},
            },
        }
    )
    await exchange(app, location, f"任务 {task.id}：位置已记录：离任务地点约 111 米，在范围内。")


async def test_help_on_telegram_writes_the_commands_to_tap(app: App, database: str) -> None:
    """Telegram makes only Latin command names links: its /help menu writes the English aliases."""
    await exchange(
        app,
        telegram_message(VOLUNTEER, VOLUNTEER, "/help"),
        "常用命令：\n"
        "/tasks 看近期任务　/signup 编号\n"
        "/checkin 到场发　/checkout 离开发\n"
        "/tip 私聊报线索，可匿名\n"
        "/points 看余额　/leaderboard 看排名\n"
        "/shop 看奖品　/redeem 编号\n"
        "/me 看成员号和队伍\n"
        "更多：/help 任务 签到 线索 积分 排行榜 紧急 队伍 培训",
    )
    await exchange(
        app,
        telegram_message(VOLUNTEER, VOLUNTEER, "/help signup"),
        "/报名（/signup）报名参加任务；满员后排队，有人取消就补上\n写法：/报名 编号\n例如 /报名 12",
    )


async def test_the_start_of_an_invite_link_begins_the_application(app: App, database: str) -> None:
    """t.me/<bot>?start=CODE (an invite's QR code on Telegram) makes Telegram send /start CODE: it is /join CODE."""
    from storage.services import invites

    forget_dialogues()  # the same account applies under both databases
    await organisation.grant_officer(
        ChatAccount("telegram", str(OFFICER)), PersonRef(platform="telegram", user_id=str(OFFICER)), "历下分局"
    )
    await organisation.bind_group(ChatAccount("telegram", str(OFFICER)), in_group(GROUP, "telegram"), "青春飞扬护学队")
    made = await invites.make_invite(ChatAccount("telegram", str(OFFICER)), None, "青春飞扬护学队")
    await exchange(
        app,
        telegram_message(VOLUNTEER, VOLUNTEER, f"/start {made.code}"),
        "你正在申请加入“青春飞扬护学队”，一共几个问题，随时回复“取消”退出（不会保存）。\n"
        "（还有8步）你的姓名？（例如 张三）",
    )
    # later (the dialogue no longer waiting, as after a restart), the bare /start of the bot's chat asks again
    forget_dialogues()
    await exchange(app, telegram_message(VOLUNTEER, VOLUNTEER, "/start"), "（还有8步）你的姓名？（例如 张三）")
    forget_dialogues()


async def test_an_invite_on_telegram_is_a_link_to_the_bot_and_its_qr_code(app: App, database: str, monkeypatch) -> None:
    """On Telegram the QR code holds t.me/<bot>?start=CODE: scanning it opens the bot's chat and sends /start CODE."""
    from nonebot_plugin_alconna import Image, UniMessage

    from plugins._images import qr_image
    from plugins._texts.recruiting import text_for_invite
    from storage.services import invites

    now = datetime(2026, 12, 3, 6, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(invites, "new_code", lambda: "AB3CD5EF")
    monkeypatch.setattr(invites, "utcnow", lambda: now)
    await organisation.grant_officer(
        ChatAccount("telegram", str(OFFICER)), PersonRef(platform="telegram", user_id=str(OFFICER)), "历下分局"
    )
    await organisation.bind_group(ChatAccount("telegram", str(OFFICER)), in_group(GROUP, "telegram"), "青春飞扬护学队")
    event = telegram_message(OFFICER, OFFICER, "/invite 青春飞扬护学队 10人")
    link = f"https://t.me/{TELEGRAM_USERNAME}?start=AB3CD5EF"
    made = invites.InviteFacts(
        code="AB3CD5EF",
        team="青春飞扬护学队",
        unit_path="历下分局",
        expires_at=now + timedelta(days=7),
        places=10,
        used=0,
    )
    text = text_for_invite(made, link)
    assert f"Telegram 上也可以直接点：{link}" in text
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(
            base=Bot,
            adapter=nonebot.get_adapter(Adapter),
            self_id=TELEGRAM_SELF_ID,
            config=BotConfig(token=f"{TELEGRAM_SELF_ID}:TEST"),
        )
        bot.username = TELEGRAM_USERNAME
        expected = await (UniMessage.text(text) + Image(raw=qr_image(link), mimetype="image/png")).export(bot)
        ctx.receive_event(bot, event)
        expect_telegram_session_lookups(ctx, bot, event)
        ctx.should_call_send(event, expected, result=None, bot=bot, reply_markup=None)
