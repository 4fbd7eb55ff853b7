"""The outbox's sending side: a dispatcher in every bot process, and /发件箱 for administrators."""

import asyncio
import json
import os
import socket
from datetime import timedelta
from functools import lru_cache
from typing import Any

from nonebot import get_bots, get_driver, get_plugin_config, require
from nonebot.log import logger
from nonebot.plugin import PluginMetadata
from pydantic import BaseModel, Field

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Image, Match, MultiVar, Target

from plugins._arguments import as_number
from plugins._common import CurrentPlace, command, finish, platform_of, with_buttons
from plugins._images import image_for
from plugins._outbox.dispatcher import Dispatcher, Outgoing, SendFailed, retry_after_in
from plugins._outbox.journal import SentJournal
from plugins._outbox.limits import Limits, RateLimiter
from plugins._texts.when import describe
from storage import db
from storage.services import outbox
from storage.services.organisation import get_rights
from storage.settings import settings

OUTBOX_USAGE = "发件箱（管理员用）：/发件箱 看待发和发送失败的消息；/发件箱 重发 全部|编号… 把发送失败的放回队列"

__plugin_meta__ = PluginMetadata(
    name="发件箱",
    description="把提醒、通知、任务卡片按各平台的发送限制可靠地发出去",
    usage=OUTBOX_USAGE,
)


class OutboxConfig(BaseModel):
    yijing_outbox: dict[str, Any] = Field(default_factory=dict)
    yijing_limits: dict[str, dict[str, float]] = Field(default_factory=dict)


RISK_CONTROL_RETCODE = 1200
"""NapCat's answer when QQ's risk control blocks sending: stop sending on that account for a while."""
RISK_CONTROL_PAUSE = 300.0


class BotSender:
    """Sends through the bots connected to this process, with alconna's UniMessage and Target."""

    def platforms(self) -> list[str]:
        return sorted({platform_of(bot) for bot in get_bots().values()})

    def account(self, platform: str) -> str | None:
        for self_id, bot in get_bots().items():
            if platform_of(bot) == platform:
                return self_id
        return None

    async def send(self, message: Outgoing, account: str) -> None:
        bot = get_bots().get(account)
        if bot is None:
            raise SendFailed(f"bot {account} is not connected", retry_after=5)
        target = Target.load(dict(message.target))
        content = with_buttons(message.text, message.platform, message.buttons, message.mentions)
        if message.image:
            try:
                content += Image(raw=await _draw(message.image), mimetype="image/png")
            except Exception as error:  # the words still go out; a picture that cannot be drawn is logged
                logger.opt(exception=error).error(f"could not draw {message.image.get('kind')}; sending the text")
        try:
            await content.send(target=target, bot=bot)
        except Exception as error:
            text = f"{type(error).__name__}: {error}"
            if getattr(error, "retcode", None) == RISK_CONTROL_RETCODE:
                raise SendFailed(text, hold_account=RISK_CONTROL_PAUSE) from error
            if "429" in text or "Too Many Requests" in text:
                raise SendFailed(text, retry_after=retry_after_in(text) or 5.0) from error
            raise SendFailed(text) from error


@lru_cache(maxsize=64)
def _drawn(spec: str) -> bytes:
    return image_for(json.loads(spec))


async def _draw(spec: dict) -> bytes:
    """Drawn off the event loop, once per picture: a team's certificate goes to each of its groups."""
    return await asyncio.to_thread(_drawn, json.dumps(spec, sort_keys=True, ensure_ascii=False))


def _limits(config: dict[str, dict[str, float]]) -> dict[str, Limits]:
    return {
        platform: Limits(
            per_second=float(values.get("per_second", 1)),
            group_per_minute=int(values.get("group_per_minute", 20)),
            private_per_second=float(values.get("private_per_second", 1)),
            jitter=float(values.get("jitter_ms", 0)) / 1000,
        )
        for platform, values in config.items()
    }


config = get_plugin_config(OutboxConfig)
dispatcher = Dispatcher(
    BotSender(),
    owner=f"{socket.gethostname()}:{os.getpid()}",
    limiter=RateLimiter(_limits(config.yijing_limits)),
    batch=int(config.yijing_outbox.get("batch_size", 100)),
    lookahead=float(config.yijing_outbox.get("lookahead_seconds", 10)),
    lease=timedelta(seconds=float(config.yijing_outbox.get("lease_seconds", 60))),
)
IDLE_POLL = float(config.yijing_outbox.get("poll_seconds", 1.0))
_loop_task: asyncio.Task[None] | None = None


async def dispatch_forever() -> None:
    await db.wait_until_open()  # the database is opened by another start-up hook, maybe after this one
    # in [bot] data_dir, known once the settings are applied (before the database is opened)
    dispatcher.journal = SentJournal.in_folder(settings.data_dir)
    while True:
        try:
            handled = await dispatcher.run_once()
        except Exception as error:  # the database may be briefly away: keep going
            logger.opt(exception=error).error("outbox dispatch failed; retrying shortly")
            handled = 0
        if not handled:
            await asyncio.sleep(IDLE_POLL)


@get_driver().on_startup
async def start_dispatcher() -> None:
    global _loop_task
    _loop_task = asyncio.get_running_loop().create_task(dispatch_forever())


@get_driver().on_shutdown
async def stop_dispatcher() -> None:
    if _loop_task is not None:
        _loop_task.cancel()


outbox_command = command("发件箱", "outbox", Args["action?", str]["ids", MultiVar(str, "*")])

STATE_NAMES = {
    "pending": "待发",
    "sending": "发送中",
    "sent": "已发",
    "parked": "发送失败",
    "dropped": "对方收不到私信而未送达",
}


@outbox_command.handle()
async def show_outbox(place: CurrentPlace, action: Match[str], ids: Match[tuple[str, ...]]) -> None:
    if not (await get_rights(place.caller)).is_admin:
        await finish("只有管理员可以查看发件箱。")
    if action.available and action.result in ("重发", "retry"):
        numbers = (as_number(value) for value in (ids.result if ids.available else ()))
        wanted = [number for number in numbers if number is not None]
        if not wanted and not (ids.available and "全部" in ids.result):
            await finish(OUTBOX_USAGE)
        count = await outbox.retry_parked(wanted or None)
        await finish(f"已把 {count} 条发送失败的消息放回队列。")
    if action.available:
        await finish(OUTBOX_USAGE)
    summary = await outbox.summary()
    counts = "，".join(f"{STATE_NAMES.get(state, state)} {count}" for state, count in sorted(summary.counts.items()))
    lines = [f"发件箱：{counts or '空'}"]
    if summary.oldest_pending is not None:
        lines.append(f"最早一条待发的应发时间：{describe(summary.oldest_pending)}")
    for message in summary.parked:
        lines.append(f"失败 {message.id}｜{message.platform} {message.chat_key}｜{message.last_error or ''}"[:200])
    if summary.parked:
        lines.append("重发：/发件箱 重发 全部 或 /发件箱 重发 编号")
    await finish("\n".join(lines))
