"""A handler that fails unexpectedly is answered, so that nobody waits for a reply that will not come."""

from __future__ import annotations

import nonebot
from nonebot import on_message
from nonebot.adapters.onebot.v11 import Adapter, Bot
from nonebot.message import handle_event
from nonebug import App

from bot.app import ERRORS_ANSWERED_AFTER_RUNS, UNEXPECTED_ERROR_REPLY
from tests.chat import ONEBOT_SELF_ID, onebot_private_message, onebot_text

VOLUNTEER = 30001


async def test_a_failing_handler_is_answered_with_the_error_reply(app: App) -> None:
    assert ERRORS_ANSWERED_AFTER_RUNS.applied  # answered when the run fails, without a run post-processor
    failing = on_message(priority=1, block=True)

    @failing.handle()
    async def fail() -> None:
        raise RuntimeError("坏了")

    try:
        async with app.test_api() as ctx:
            bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
            event = onebot_private_message(VOLUNTEER, "你好")
            ctx.should_call_send(event, onebot_text(UNEXPECTED_ERROR_REPLY), result={"message_id": 1}, bot=bot)
            await handle_event(bot, event)
    finally:
        failing.destroy()
