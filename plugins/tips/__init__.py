"""Tips (线索): reported in private, step by step or in one message; reviewed by officers in private."""

import asyncio
from typing import Union

from nonebot import get_driver, require
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.typing import T_State

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_alconna import Args, Image, Match, MultiVar, UniMessage, UniMsg, image_fetch
from nonebot_plugin_apscheduler import scheduler

from plugins._arguments import Number, as_number
from plugins._common import (
    CurrentPlace,
    Place,
    answer_or_leave,
    close_dialogue,
    command,
    finish,
    location_in,
    open_dialogue,
    refuse_on_error,
)
from plugins._texts import refusal
from plugins._texts.tips import (
    text_for_addition,
    text_for_dismissed,
    text_for_my_tips,
    text_for_police_group,
    text_for_receipt,
    text_for_reply,
    text_for_tip_list,
    text_for_tip_view,
    text_for_verified,
)
from storage.errors import DomainError
from storage.services import anonymous_rewards, tips
from storage.services.photos import cleaned, without_metadata

PRIVATE_ONLY = "线索请私聊我发送 /线索（/tip），不要在群里发线索内容。"
TIP_USAGE = (
    "报线索（只在私聊）：发送 /线索 按提示一步步来；\n"
    "也可以一句话：/线索 赌博 某小区3号楼地下室每晚有人聚赌\n"
    f"类别：{'、'.join(tips.CATEGORIES)}。默认匿名，写“实名”则民警能看到你的姓名。"
)
ADD_USAGE = "补充线索：/补充 线索编号 内容（可以附照片），例如 /补充 12 今晚又来了五六个人"
VERIFY_USAGE = "核实线索（民警，私聊）：/核实 编号 [积分] [备注]，例如 /核实 12 20 已查处"
DISMISS_USAGE = "驳回线索（民警，私聊）：/驳回 编号 理由；重复的：/驳回 编号 重复 原编号"
REPLY_USAGE = "回复举报人（民警，私聊）：/回复线索 编号 内容，不会显示你的名字"
POLICE_GROUP_USAGE = "设为警务群（民警，在只有民警的群里发）：/设为警务群 [单位]"

__plugin_meta__ = PluginMetadata(
    name="线索",
    description="私聊报线索、匿名、民警核查和回复、核实奖励",
    usage="\n\n".join([TIP_USAGE, ADD_USAGE, VERIFY_USAGE, DISMISS_USAGE, REPLY_USAGE, POLICE_GROUP_USAGE]),
)

tip_command = command("线索", "tip", Args["words", MultiVar(Union[str, Image], "*")])  # noqa: UP007
tipview_command = command("查看线索", "tipview", Args["number?", Number])
mytips_command = command("我的线索", "mytips")
tipadd_command = command("补充", "tipadd", Args["number?", Number]["words", MultiVar(Union[str, Image], "*")])  # noqa: UP007
tips_command = command("线索列表", "tips", Args["words", MultiVar(str, "*")])
verify_command = command("核实", "verify", Args["number?", Number]["points?", Number]["note", MultiVar(str, "*")])
dismiss_command = command("驳回", "dismiss", Args["number?", Number]["words", MultiVar(str, "*")])
tipreply_command = command("回复线索", "tipreply", Args["number?", Number]["words", MultiVar(str, "*")])
police_group_command = command("设为警务群", "setpolicegroup", Args["words", MultiVar(str, "*")])

STATUS_WORDS = {"新": "new", "新线索": "new", "核查中": "reviewing", "已核实": "verified", "已驳回": "rejected"}
STATUS_WORDS |= {"重复": "duplicate", **{status: status for status in tips.STATUS_NAMES}}


async def _photos(bot: Bot, event: Event, state: T_State, message: UniMessage) -> list[tips.Photo]:
    """The pictures in a message, fetched now: platform links expire, so the bot keeps the files."""
    photos = []
    for image in message[Image]:
        try:
            data = await image_fetch(event, bot, state, image)
        except Exception as error:  # a picture that cannot be fetched is reported, not silently kept as a link
            logger.warning(f"a tip photo could not be fetched: {type(error).__name__}")
            data = None
        if not data:
            raise DomainError("tips.photo_not_received")
        picture = await asyncio.to_thread(without_metadata, data if isinstance(data, bytes) else bytes(data))
        if picture is None:
            raise DomainError("tips.photo_unreadable")
        suffix = "." + (image.mimetype or "image/jpeg").split("/")[-1].replace("jpeg", "jpg")
        photos.append(tips.Photo(data=picture, suffix=suffix))
    return photos


def _without_flags(words: list[str]) -> tuple[list[str], bool]:
    anonymous = True
    kept = []
    for word in words:
        if word == "实名":
            anonymous = False
        elif word == "匿名":
            anonymous = True
        else:
            kept.append(word)
    return kept, anonymous


@tip_command.handle()
async def tip(
    bot: Bot,
    event: Event,
    state: T_State,
    place: CurrentPlace,
    words: Match[tuple[str | Image, ...]],
    message: UniMsg,
) -> None:
    if place.in_group:
        await finish(PRIVATE_ONLY)  # nothing of what was typed is said back in the group
    # the words typed; pictures sent in the same message are the tip's photos (read from the message below)
    given = [word for word in words.result if isinstance(word, str)] if words.available else []
    if len(given) == 1 and (shown := as_number(given[0])) is not None:
        await _show(place, shown)
    if given:
        given, anonymous = _without_flags(given)
        if not given or given[0] not in tips.CATEGORIES:
            await finish(TIP_USAGE)
        photos = await refuse_on_error(_photos(bot, event, state, message))
        receipt = await refuse_on_error(
            tips.report_tip(
                place.caller,
                given[0],
                " ".join(given[1:]),
                photos=photos,
                location=location_in(message),
                anonymous=anonymous,
            )
        )
        await finish(text_for_receipt(receipt))
    state["tip"] = {"photos": []}
    open_dialogue(bot, event)
    await tip_command.pause(UniMessage.text(WIZARD[0][1]))


WIZARD = [
    ("category", f"报线索，随时回复“取消”退出，不会保存。\n1/5 哪一类？{'、'.join(tips.CATEGORIES)}"),
    ("text", "2/5 发生了什么？请写时间、地点、人和事。"),
    ("photos", "3/5 有照片就发过来（可以发几张），发完或没有照片回复“好了”。"),
    ("location", "4/5 地点：可以发送位置，或写下地址；不需要回复“跳过”。"),
    ("anonymous", "5/5 匿名还是实名？回复“匿名”或“实名”（匿名时民警看不到你是谁）。"),
    ("confirm", ""),
]


@tip_command.handle()
async def tip_step(matcher: Matcher, bot: Bot, event: Event, state: T_State, place: CurrentPlace) -> None:
    message = UniMessage.of(event.get_message(), bot=bot)  # this answer, not the command that began it
    text = await answer_or_leave(
        matcher, event, cancelled="已取消，线索没有保存。", left="已退出报线索，线索没有保存。"
    )
    draft = state["tip"]
    step = state.setdefault("step", 0)
    key = WIZARD[step][0]
    try:
        if key == "category":
            draft["category"] = tips.check_category(text)
        elif key == "text":
            draft["text"] = tips.check_text(text)
        elif key == "photos":
            draft["photos"] += await _photos(bot, event, state, message)
            if text not in ("好了", "没有", "无", "跳过", "完成"):
                await tip_command.reject(
                    UniMessage.text(f"已收到 {len(draft['photos'])} 张照片。还有就继续发，发完回复“好了”。")
                )
        elif key == "location":
            draft["location"] = location_in(message)
            draft["location_text"] = None if text in ("跳过", "没有", "无") or draft["location"] else text
        elif key == "anonymous":
            if text not in ("匿名", "实名"):
                raise DomainError("tips.anonymous_or_named")
            draft["anonymous"] = text == "匿名"
        elif key == "confirm":
            if text not in ("确认", "确定", "是", "好"):
                raise DomainError("tips.confirm_or_cancel")
            close_dialogue(event)
            receipt = await refuse_on_error(
                tips.report_tip(
                    place.caller,
                    draft["category"],
                    draft["text"],
                    photos=draft["photos"],
                    location=draft.get("location"),
                    location_text=draft.get("location_text"),
                    anonymous=draft["anonymous"],
                )
            )
            await finish(text_for_receipt(receipt))
    except DomainError as error:
        await tip_command.reject(UniMessage.text(f"{refusal(error)}\n（回复“取消”退出）"))
    state["step"] = step + 1
    if WIZARD[step + 1][0] == "confirm":
        await tip_command.reject(UniMessage.text(_draft_text(draft)))
    await tip_command.reject(UniMessage.text(WIZARD[step + 1][1]))


def _draft_text(draft: dict) -> str:
    lines = ["请确认：", f"类别：{draft['category']}", f"内容：{draft['text']}"]
    if draft["photos"]:
        lines.append(f"照片：{len(draft['photos'])} 张")
    if draft.get("location"):
        lines.append("位置：已发送")
    elif draft.get("location_text"):
        lines.append(f"地点：{draft['location_text']}")
    lines.append("匿名" if draft["anonymous"] else "实名")
    lines.append("回复“确认”提交，回复“取消”放弃。")
    return "\n".join(lines)


def _photo_as_shown(photo: str) -> bytes | None:
    return cleaned(tips.photo_path(photo).read_bytes())


async def _show(place: Place, number: int) -> None:
    view = await refuse_on_error(tips.view_tip(place.caller, number))
    message = UniMessage.text(text_for_tip_view(view))
    for line in view.history:
        for photo in line.photos:
            # the bytes themselves: a QQ client on another machine could not open a path on this one; a photo
            # kept before photos were stored without EXIF loses it here
            picture = await asyncio.to_thread(_photo_as_shown, photo)
            if picture is not None:
                message += Image(raw=picture)
    await message.finish()


async def _private_only(place: Place) -> None:
    if place.in_group:
        await finish("线索只在私聊处理：请私聊我。")


@tipview_command.handle()
async def view(place: CurrentPlace, number: Match[int]) -> None:
    await _private_only(place)
    if not number.available:
        await finish("查看线索：/线索 编号 或 /tipview 编号")
    await _show(place, number.result)


@mytips_command.handle()
async def my_tips(place: CurrentPlace) -> None:
    await _private_only(place)
    await finish(text_for_my_tips(await tips.my_tips(place.caller)))


@tipadd_command.handle()
async def add(
    bot: Bot,
    event: Event,
    state: T_State,
    place: CurrentPlace,
    number: Match[int],
    words: Match[tuple[str | Image, ...]],
    message: UniMsg,
) -> None:
    if place.in_group:
        await finish(PRIVATE_ONLY)
    if not number.available:
        await finish(ADD_USAGE)
    photos = await refuse_on_error(_photos(bot, event, state, message))
    text = " ".join(word for word in words.result if isinstance(word, str)) if words.available else ""
    tip = await refuse_on_error(tips.add_to_tip(place.caller, number.result, text, photos))
    await finish(text_for_addition(tip))


@tips_command.handle()
async def list_tips(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    await _private_only(place)
    given = list(words.result) if words.available else []
    wanted = STATUS_WORDS.get(given[0]) if len(given) == 1 else None
    if given and wanted is None:
        await finish("状态写：新线索、核查中、已核实、已驳回、重复；不写则列出全部。")
    listed = await refuse_on_error(tips.list_tips(place.caller, wanted))
    await finish(text_for_tip_list(listed))


@verify_command.handle()
async def verify(place: CurrentPlace, number: Match[int], points: Match[int], note: Match[tuple[str, ...]]) -> None:
    await _private_only(place)
    if not number.available:
        await finish(VERIFY_USAGE)
    remark = " ".join(note.result) if note.available else None
    amount = points.result if points.available else None
    decision = await refuse_on_error(tips.verify_tip(place.caller, number.result, amount, remark))
    await finish(text_for_verified(decision))


@dismiss_command.handle()
async def dismiss(place: CurrentPlace, number: Match[int], words: Match[tuple[str, ...]]) -> None:
    await _private_only(place)
    if not number.available:
        await finish(DISMISS_USAGE)
    given = list(words.result) if words.available else []
    duplicate_of = as_number(given[1]) if len(given) == 2 and given[0] == "重复" else None
    reason = "" if duplicate_of is not None else " ".join(given)
    decision = await refuse_on_error(tips.dismiss_tip(place.caller, number.result, reason, duplicate_of))
    await finish(text_for_dismissed(decision, duplicate_of))


@tipreply_command.handle()
async def reply(place: CurrentPlace, number: Match[int], words: Match[tuple[str, ...]]) -> None:
    await _private_only(place)
    if not number.available or not words.available:
        await finish(REPLY_USAGE)
    replied = await refuse_on_error(tips.reply_to_tip(place.caller, number.result, " ".join(words.result)))
    await finish(text_for_reply(replied))


@police_group_command.handle()
async def police_group(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    if place.group is None or len(given) > 1:
        await finish(POLICE_GROUP_USAGE)
    chosen = await refuse_on_error(tips.set_police_group(place.caller, place.group, given[0] if given else None))
    await finish(text_for_police_group(chosen))


async def pay_anonymous_rewards() -> None:
    """Each tick: the week's anonymous tip rewards, for the units where enough reporters are due (see
    storage.services.anonymous_rewards). The log says how many units, never who."""
    try:
        if paid := await anonymous_rewards.pay_due_rewards():
            logger.info(f"anonymous tip rewards paid in {len(paid)} unit(s)")
    except Exception as error:
        logger.opt(exception=error).error("paying anonymous tip rewards failed; will try again")


PAYOUT_TICK = int(getattr(get_driver().config, "yijing_payout_tick_seconds", 60))
scheduler.add_job(
    pay_anonymous_rewards,
    "interval",
    seconds=PAYOUT_TICK,
    id="yijing_anonymous_rewards",
    replace_existing=True,
    misfire_grace_time=None,
)
