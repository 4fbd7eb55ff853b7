"""Points, leaderboard, shop, statistics and export through the handlers (nonebug, OneBot v11)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import nonebot
from nonebot.adapters.onebot.v11 import Adapter, Bot, Message, MessageSegment
from nonebug import App
from sqlmodel import select

from storage import db
from storage.models import Member, PointEntry, utcnow
from storage.services import membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.services.totals import period_of
from storage.settings import settings
from tests.chat import (
    ONEBOT_SELF_ID,
    onebot_group_message,
    onebot_private_message,
    onebot_text,
    say,
)
from tests.places import in_group

GROUP = 556001
OFFICER = 20001
VOLUNTEER = 30001
FAKE_PNG = b"\x89PNG fake picture"


async def set_up() -> None:
    await organisation.grant_officer(
        ChatAccount("onebot", "10001"), PersonRef(platform="onebot", user_id=str(OFFICER)), "历下分局"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "夕阳红巡逻队")
    for number, name in ((VOLUNTEER, "张三"), (VOLUNTEER + 1, "李四")):
        application = await membership.apply_to_team(
            ChatAccount("onebot", str(number)), in_group(GROUP), name, f"1380013800{number % 10}", []
        )
        await membership.decide_application(
            ChatAccount("onebot", str(OFFICER)), approve=True, number=application.number
        )
    async with db.session() as session:  # a name as a platform may give it (a QQ nickname can hold anything)
        member = await session.get(Member, application.member.id)
        member.name = "[CQ:at,qq=all]"
        session.add(member)


def ask(ctx, bot, event, reply) -> None:
    ctx.receive_event(bot, event)
    if reply is not None:
        ctx.should_call_send(event, reply, result={"message_id": 1}, bot=bot)


async def test_award_points_and_the_leaderboard_with_its_picture(app: App, database: str, monkeypatch) -> None:
    await set_up()
    monkeypatch.setattr("plugins.points.board_image", lambda board: FAKE_PNG)
    async with app.test_matcher() as ctx:
        adapter = nonebot.get_adapter(Adapter)
        bot = ctx.create_bot(base=Bot, adapter=adapter, self_id=ONEBOT_SELF_ID)
        ask(ctx, bot, onebot_group_message(GROUP, VOLUNTEER, "/奖励 2 5 帮忙"), onebot_text("只有民警可以奖励或扣分。"))
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/奖励"),
            onebot_text(
                "奖励或扣分（民警）：/奖励 @某人 或 成员号 分数 理由，例如 /奖励 12 5 协助寻找走失老人；扣分写负数"
            ),
        )
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/奖励 2 15 协助寻找走失老人"),
            onebot_text("已给张三（成员号 2）奖励 15 分，理由：协助寻找走失老人。已私信告知。"),
        )
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/award 3 9 夜间巡逻"),
            onebot_text("已给[CQ:at,qq=all]（成员号 3）奖励 9 分，理由：夜间巡逻。已私信告知。"),
        )
        board = settings_month_label()
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, VOLUNTEER + 1, "/排行榜"),
            Message(
                [
                    MessageSegment.text(
                        f"夕阳红巡逻队 {board} 积分榜\n1. 张三  15分\n2. [CQ:at,qq=all]  9分\n你：第 2 名，9分"
                    ),
                    MessageSegment.image(FAKE_PNG),
                ]
            ),
        )
        ask(ctx, bot, onebot_group_message(GROUP, VOLUNTEER, "/排行榜 昨天"), onebot_text(NOT_A_BOARD_PERIOD))
        ask(ctx, bot, onebot_group_message(GROUP, VOLUNTEER, "/排行榜 哈哈"), onebot_text(board_usage()))
    async with db.session() as session:
        assert len((await session.exec(select(PointEntry))).all()) == 2


async def test_a_name_with_an_emoji_is_drawn_without_a_missing_glyph_box(app: App, database: str, monkeypatch) -> None:
    """/排行榜's picture: the text keeps the name as given, the picture draws it without the 🚓 its font lacks."""
    from fontTools.ttLib import TTFont
    from PIL import ImageDraw

    import plugins._images

    with TTFont(str(plugins._images.font_path()), lazy=True) as face:
        assert ord("🚓") not in face.getBestCmap()  # drawn as is, it would be the font's empty box
    await set_up()
    async with db.session() as session:  # a QQ nickname can hold emoji
        member = await session.get(Member, 3)
        assert member is not None
        member.name = "小李🚓"
        session.add(member)
    drawn: list[str] = []
    draw_text = ImageDraw.ImageDraw.text
    monkeypatch.setattr(
        ImageDraw.ImageDraw,
        "text",
        lambda self, xy, text, *a, **k: drawn.append(text) or draw_text(self, xy, text, *a, **k),
    )
    real_board_image = plugins._images.board_image
    monkeypatch.setattr("plugins.points.board_image", lambda board: real_board_image(board) and FAKE_PNG)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/奖励 3 9 夜间巡逻"),
            onebot_text("已给小李🚓（成员号 3）奖励 9 分，理由：夜间巡逻。已私信告知。"),
        )
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, VOLUNTEER + 1, "/排行榜"),
            Message(
                [
                    MessageSegment.text(
                        f"夕阳红巡逻队 {settings_month_label()} 积分榜\n1. 小李🚓  9分\n你：第 1 名，9分"
                    ),
                    MessageSegment.image(FAKE_PNG),
                ]
            ),
        )
    assert "小李" in drawn
    assert not [text for text in drawn if "🚓" in text]


def settings_month_label() -> str:
    from storage.models import utcnow

    local = utcnow().astimezone(settings.timezone)
    return f"{local.year}年{local.month}月"


def board_usage() -> str:
    from plugins.points import BOARD_USAGE

    return BOARD_USAGE


async def test_points_shop_and_redeeming_in_chat(app: App, database: str) -> None:
    await set_up()
    async with app.test_matcher() as ctx:
        adapter = nonebot.get_adapter(Adapter)
        bot = ctx.create_bot(base=Bot, adapter=adapter, self_id=ONEBOT_SELF_ID)
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/奖励 2 250 年度表彰"),
            onebot_text("已给张三（成员号 2）奖励 250 分，理由：年度表彰。已私信告知。"),
        )
        ask(
            ctx,
            bot,
            onebot_private_message(OFFICER, "/商城 上架 保温杯 积分200 库存1 每人1"),
            onebot_text("已上架 1. 保温杯：200 分，库存 1，历下分局及下级队伍可兑换。"),
        )
        ask(
            ctx,
            bot,
            onebot_private_message(VOLUNTEER, "/商城"),
            onebot_text("积分商城\n1. 保温杯　200 分　库存 1，每人限 1（历下分局）\n你有 250 分。兑换：/兑换 编号"),
        )
        ask(
            ctx,
            bot,
            onebot_private_message(VOLUNTEER, "/兑换 1"),
            onebot_text(
                "已兑换“保温杯”，兑换单号 1，用去 200 分，还剩 50 分。\n"
                "请凭兑换单号找民警领取；不想要了可以发 /兑换 取消 1"
            ),
        )
        ask(
            ctx,
            bot,
            onebot_private_message(VOLUNTEER + 1, "/兑换 1"),
            onebot_text("积分不够：“保温杯”要 200 分，你现在有 0 分。"),
        )
        ask(ctx, bot, onebot_private_message(VOLUNTEER, "/兑换 一个杯子"), onebot_text(redeem_usage()))
        ask(
            ctx,
            bot,
            onebot_private_message(OFFICER, "/发放 1"),
            onebot_text("兑换单 1（张三：保温杯）已标记为已发放。"),
        )
        ask(ctx, bot, onebot_private_message(VOLUNTEER, "/积分"), onebot_text(points_text()))


def redeem_usage() -> str:
    from plugins.shop import REDEEM_USAGE

    return REDEEM_USAGE


def points_text() -> str:
    from storage.models import utcnow
    from storage.services.when import local

    today = f"{local(utcnow()):%m-%d}"
    month = settings_month_label()
    return (
        f"张三（成员号 2）积分余额 50 分\n{month}获得 250 分\n本月队内（夕阳红巡逻队）第 1 名\n"
        f"本月单位（历下分局）第 1 名\n最近记录：\n· {today} -200 兑换 保温杯\n· {today} +250 奖励 年度表彰\n"
        "排行榜：/排行榜　兑换奖品：/商城"
    )


async def test_export_is_refused_in_a_group_and_sent_privately_as_a_file(
    app: App, database: str, tmp_path: Path, monkeypatch
) -> None:
    await set_up()
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    async with app.test_matcher() as ctx:
        adapter = nonebot.get_adapter(Adapter)
        bot = ctx.create_bot(base=Bot, adapter=adapter, self_id=ONEBOT_SELF_ID)
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/导出"),
            onebot_text("导出的表格里有队员的个人信息，只能私聊发给你：请私聊我发送 /导出"),
        )
        ask(ctx, bot, onebot_private_message(VOLUNTEER, "/导出"), onebot_text("导出只有队长和民警可以使用。"))
        private = onebot_private_message(OFFICER, "/导出 本月")
        ask(ctx, bot, private, None)
        ctx.should_call_send(
            private,
            onebot_text(
                f"已导出 历下分局 {settings_month_label()}：成员 2 行，任务 0 行，出勤明细 0 行，积分流水 0 行，"
                "线索 0 行，培训 0 行，资质 0 行。文件随后发来，请妥善保管。"
            ),
            result={"message_id": 1},
            bot=bot,
        )
        month_start = period_of("month", utcnow()).start
        name = f"义警数据_历下分局_{month_start:%Y%m%d}.xlsx"
        ctx.should_call_api(
            "upload_private_file",
            {"user_id": OFFICER, "file": _AnyPathNamed(name), "name": name},
            None,
        )
    assert not list((tmp_path / "exports").iterdir())  # nothing personal is kept once sent


class _AnyPathNamed(str):
    """Matches the file path the bot hands to the QQ client, wherever the temporary folder is."""

    def __new__(cls, name: str):
        return super().__new__(cls, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.endswith("/" + str.__str__(self)) and Path(other).is_absolute()

    __hash__ = str.__hash__


async def test_an_honour_from_the_outbox_goes_out_with_its_certificate(app: App, monkeypatch) -> None:
    from plugins._outbox.dispatcher import Outgoing
    from plugins.outbox import BotSender, _drawn
    from storage.services.outbox import Destination

    drawn: list[dict] = []

    def draw(spec: dict) -> bytes:
        drawn.append(spec)
        return FAKE_PNG

    monkeypatch.setattr("plugins.outbox.image_for", draw)
    _drawn.cache_clear()  # pictures are drawn once per description; this test must see the drawing
    spec = {"kind": "honour", "team": "一队", "member": "张三", "month": "2026年10月", "points": 40, "hours": "2小时"}
    destination = Destination("onebot", str(GROUP))
    message = Outgoing(
        ids=[1],
        platform="onebot",
        chat_key=destination.chat_key,
        target=destination.target(),
        text="一队 2026年10月「义警之星」：张三！",
        priority=4,
        image=spec,
    )
    async with app.test_api() as ctx:
        adapter = nonebot.get_adapter(Adapter)
        bot = ctx.create_bot(base=Bot, adapter=adapter, self_id=ONEBOT_SELF_ID)
        ctx.should_call_api(
            "send_msg",
            {
                "message_type": "group",
                "group_id": GROUP,
                "message": Message([MessageSegment.text(message.text), MessageSegment.image(FAKE_PNG)]),
            },
            {"message_id": 7},
        )
        await BotSender().send(message, bot.self_id)
    assert drawn == [spec]


async def balance_of_member(member_id: int) -> int:
    from storage.services.totals import balance_of

    async with db.session() as session:
        return await balance_of(session, member_id)


async def test_a_penalty_larger_than_the_balance_asks_and_takes_only_what_there_is(
    app: App, database: str, monkeypatch
) -> None:
    await set_up()
    short = "张三（成员号 2）的积分不够扣 100 分。回复“确认”扣到 0 分为止；回复别的不扣。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/奖励 2 10 值班"),
            onebot_text("已给张三（成员号 2）奖励 10 分，理由：值班。已私信告知。"),
        )
        ask(ctx, bot, onebot_group_message(GROUP, OFFICER, "/奖励 2 -100 迟到"), onebot_text(short))
        ask(ctx, bot, onebot_group_message(GROUP, OFFICER, "好"), onebot_text("没有扣分。需要时重新发送 /奖励"))
        ask(ctx, bot, onebot_group_message(GROUP, OFFICER, "/奖励 2 -100 迟到"), onebot_text(short))
        ask(ctx, bot, onebot_group_message(GROUP, OFFICER, "透支"), onebot_text("没有扣分。需要时重新发送 /奖励"))
        ask(ctx, bot, onebot_group_message(GROUP, OFFICER, "/奖励 2 -100 迟到"), onebot_text(short))
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "确认"),
            onebot_text("已扣张三（成员号 2）的积分，扣到 0 分为止（不够扣 100 分），理由：迟到。已私信告知。"),
        )
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/奖励 2 -3 早退"),
            onebot_text("张三（成员号 2）的积分不够扣 3 分。回复“确认”扣到 0 分为止；回复别的不扣。"),
        )
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "确认"),
            onebot_text("张三（成员号 2）已经没有积分可扣，没有扣。"),
        )
    assert await balance_of_member(2) == 0

    monkeypatch.setattr(settings, "allow_overdraft", True)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "/奖励 2 -5 早退"),
            onebot_text(
                "张三（成员号 2）的积分不够扣 5 分。回复“确认”扣到 0 分为止；回复“透支”扣满 5 分（余额会是负数）；"
                "回复别的不扣。"
            ),
        )
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, OFFICER, "透支"),
            onebot_text("已扣张三（成员号 2） 5 分，理由：早退。已私信告知。"),
        )
    assert await balance_of_member(2) == -5


NOT_A_BOARD_PERIOD = "排行榜按周、月、年排：例如 /排行榜 上周、/排行榜 上月、/排行榜 10月、/排行榜 去年"


async def test_the_board_of_a_past_month_or_year_as_stats_takes_it(app: App, database: str, monkeypatch) -> None:
    from plugins._texts.standings import board_title
    from plugins._texts.when import period_text
    from storage.services import standings

    await set_up()
    officer = ChatAccount("onebot", str(OFFICER))
    last_month = period_of("month", utcnow(), back=1)
    assert last_month.start is not None
    with monkeypatch.context() as then:
        then.setattr("storage.services.ledger.utcnow", lambda: last_month.start + timedelta(days=2))
        await standings.award_points(officer, PersonRef(member_number=2), 7, "上月值班")
    await standings.award_points(officer, PersonRef(member_number=3), 3, "本月值班")
    titles: list[str] = []
    monkeypatch.setattr("plugins.points.board_image", lambda board: titles.append(board_title(board)) or FAKE_PNG)
    now = utcnow().astimezone(settings.timezone)
    past = last_month.start.astimezone(settings.timezone)
    past_board = f"夕阳红巡逻队 {past.year}年{past.month}月 积分榜\n1. 张三  7分\n你：第 1 名，7分"
    this_board = f"夕阳红巡逻队 {now.year}年{now.month}月 积分榜\n1. [CQ:at,qq=all]  3分"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        for words, board in (
            ("上月", past_board),
            (f"{past.year}年{past.month}月", past_board),
            (f"{now.month}月 积分", this_board),
        ):
            ask(
                ctx,
                bot,
                onebot_group_message(GROUP, VOLUNTEER, f"/排行榜 {words}"),
                Message([MessageSegment.text(board), MessageSegment.image(FAKE_PNG)]),
            )
        for words, board in (  # nobody on the board: the text says so, and no card is drawn to say it again
            ("去年", f"夕阳红巡逻队 {now.year - 1}年 积分榜\n还没有人有积分记录。"),
            ("上周", f"夕阳红巡逻队 {period_text(period_of('week', utcnow(), back=1))} 积分榜\n还没有人有积分记录。"),
        ):
            ask(ctx, bot, onebot_group_message(GROUP, VOLUNTEER, f"/排行榜 {words}"), onebot_text(board))
        ask(
            ctx,
            bot,
            onebot_group_message(GROUP, VOLUNTEER, "/排行榜 11月1日至11月20日"),
            onebot_text(NOT_A_BOARD_PERIOD),
        )
    assert titles[0] == titles[1] == f"夕阳红巡逻队 {past.year}年{past.month}月 积分榜"  # the picture names it too
    assert len(titles) == 3  # no card for the empty boards


async def test_stats_take_a_month_without_its_year(database: str, monkeypatch) -> None:
    await set_up()
    monkeypatch.setattr("plugins.stats.stats_chart", lambda report: FAKE_PNG)
    now = utcnow().astimezone(settings.timezone)
    earlier = 12 if now.month == 1 else now.month - 1
    year = now.year - 1 if now.month == 1 else now.year
    answer = await say(OFFICER, f"/统计 {earlier}月 队伍", GROUP)
    assert answer.startswith(f"夕阳红巡逻队 {year}年{earlier}月 统计\n"), answer
