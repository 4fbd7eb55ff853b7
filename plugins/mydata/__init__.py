"""The right to one's data: /我的数据 sends a member everything the bot holds about them; /删除我的信息 erases them,
after a confirmation. Both only in private."""

import asyncio
import shutil
import uuid

from nonebot import require
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.typing import T_State

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, File, Match, MultiVar, UniMessage

from plugins._common import (
    CurrentPlace,
    answer_or_leave,
    close_dialogue,
    command,
    confirmation_lapsed,
    finish,
    is_confirm,
    open_confirmation,
    platform_of,
    refuse_on_error,
)
from plugins._outbox.journal import SentJournal
from plugins._texts import own_data as texts
from storage.services import erasure
from storage.services.own_data import own_data
from storage.settings import settings

MYDATA_USAGE = "我的数据（私聊）：/我的数据 —— 把机器人记着的关于你的全部信息发给你（一个表格文件，一小时一次）"
FORGETME_USAGE = "删除我的信息（私聊）：/删除我的信息 —— 确认后删除你的个人信息和账号，积分等数字不再属于任何人"

__plugin_meta__ = PluginMetadata(
    name="我的数据",
    description="查看和删除自己的个人信息（个人信息保护法）",
    usage="\n\n".join([MYDATA_USAGE, FORGETME_USAGE]),
)

mydata_command = command("我的数据", "mydata", Args["words", MultiVar(str, "*")])
forgetme_command = command("删除我的信息", "forgetme", Args["words", MultiVar(str, "*")])

CONFIRM_SECONDS = 60


@mydata_command.handle()
async def send_own_data(bot: Bot, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    if place.in_group:
        await finish(texts.MYDATA_IN_GROUP)
    if words.available and words.result:  # it takes nothing: what follows is not understood, and nothing is sent
        await finish(texts.MYDATA_USAGE)
    data = await refuse_on_error(own_data(place.caller))
    file = await asyncio.to_thread(texts.own_data_file, data)
    folder = settings.data_dir / "exports" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file.file_name
    path.write_bytes(file.content)
    if platform_of(bot) == "console":  # the console is this machine: the file stays where it is
        await finish(texts.text_for_own_data(file, path.resolve()))
    try:
        await UniMessage.text(texts.text_for_own_data(file)).send()
        await UniMessage(File(path=path, name=file.file_name)).send()
    except Exception as error:
        logger.opt(exception=error).error("sending a member their data failed")
        await finish(texts.SEND_FAILED)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # personal data is not kept once sent


@forgetme_command.handle()
async def ask_to_forget(
    bot: Bot, event: Event, state: T_State, place: CurrentPlace, words: Match[tuple[str, ...]]
) -> None:
    if place.in_group:
        await finish(texts.FORGETME_IN_GROUP)
    if words.available and words.result:
        await finish(texts.FORGETME_USAGE)
    await refuse_on_error(erasure.check_erasable(place.caller))
    state["confirm_until"] = open_confirmation(bot, event, CONFIRM_SECONDS, texts.FORGET_TOO_LATE)
    await forgetme_command.pause(UniMessage.text(texts.FORGET_QUESTION))


@forgetme_command.handle()
async def forget(matcher: Matcher, event: Event, state: T_State, place: CurrentPlace) -> None:
    """The answer: 确认 erases, anything else (a cancel word included) changes nothing."""
    text = await answer_or_leave(matcher, event, cancelled=texts.FORGET_NOT_DONE, left=texts.FORGET_LEFT)
    close_dialogue(event)
    if confirmation_lapsed(state["confirm_until"]):
        await finish(texts.FORGET_TOO_LATE)
    if not is_confirm(text):
        await finish(texts.FORGET_NOT_DONE)
    erased = await refuse_on_error(erasure.erase_me(place.caller))
    if erased.outbox_deleted:
        journal = SentJournal.in_folder(settings.data_dir)
        await asyncio.to_thread(journal.forget_messages, erased.outbox_deleted)
    await finish(texts.FORGOTTEN)
