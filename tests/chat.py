"""Events and expectations for handler tests with nonebug, on OneBot v11 and Telegram."""

from __future__ import annotations

import itertools
import time
from typing import Any

import nonebot
from nonebot.adapters.onebot.v11 import Adapter as OneBotAdapter
from nonebot.adapters.onebot.v11 import Bot as OneBotBot
from nonebot.adapters.onebot.v11 import Message as OneBotMessage
from nonebot.adapters.onebot.v11 import MessageSegment as OneBotSegment
from nonebot.adapters.onebot.v11.event import GroupMessageEvent, PrivateMessageEvent, Sender
from nonebot.adapters.telegram.event import Event as TelegramEvent
from nonebot.adapters.telegram.message import Entity
from nonebot.adapters.telegram.message import Message as TelegramMessage
from nonebot.message import handle_event

ONEBOT_SELF_ID = "10000"
TELEGRAM_SELF_ID = "777000"
TELEGRAM_USERNAME = "yijing_test_bot"
_ids = itertools.count(1000)


def onebot_group_message(
    group_id: int, user_id: int, message: str | OneBotMessage, nickname: str = "队员", card: str = ""
) -> GroupMessageEvent:
    """A QQ group message; `card` is the sender's name in this group (NapCat sends it with every message)."""
    if isinstance(message, str):
        message = OneBotMessage(OneBotSegment.text(message))
    return GroupMessageEvent(
        time=int(time.time()),
        self_id=int(ONEBOT_SELF_ID),
        post_type="message",
        sub_type="normal",
        user_id=user_id,
        message_type="group",
        message_id=next(_ids),
        message=message,
        original_message=message,
        raw_message=str(message),
        font=0,
        sender=Sender(user_id=user_id, nickname=nickname, card=card, role="member"),
        to_me=False,
        group_id=group_id,
    )


def onebot_private_message(user_id: int, message: str | OneBotMessage, nickname: str = "队员") -> PrivateMessageEvent:
    body = OneBotMessage(OneBotSegment.text(message)) if isinstance(message, str) else message
    return PrivateMessageEvent(
        time=int(time.time()),
        self_id=int(ONEBOT_SELF_ID),
        post_type="message",
        sub_type="friend",
        user_id=user_id,
        message_type="private",
        message_id=next(_ids),
        message=body,
        original_message=body,
        raw_message=str(message),
        font=0,
        sender=Sender(user_id=user_id, nickname=nickname),
        to_me=True,
    )


def onebot_text(text: str) -> OneBotMessage:
    """What the bot sends for a plain-text reply: one text segment, never parsed for CQ codes."""
    return OneBotMessage(OneBotSegment.text(text))


def telegram_message(chat_id: int, user_id: int, text: str, first_name: str = "队员") -> TelegramEvent:
    chat: dict[str, Any]
    if chat_id < 0:
        chat = {"id": chat_id, "type": "supergroup", "title": "队伍群"}
    else:
        chat = {"id": chat_id, "type": "private", "first_name": first_name}
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])})
    update = {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "text": text,
            "entities": entities,
        },
    }
    return TelegramEvent.parse_event(update)


def telegram_text(text: str) -> TelegramMessage:
    return TelegramMessage(Entity.text(text))


def expect_telegram_session_lookups(ctx: Any, bot: Any, event: TelegramEvent) -> None:
    """uninfo asks Telegram for the sender's photos (and, in a group, their membership) before a command."""
    user = {"id": event.from_.id, "is_bot": False, "first_name": event.from_.first_name}
    ctx.should_call_api(
        "get_user_profile_photos",
        {"user_id": event.from_.id, "limit": 1, "offset": None},
        {"total_count": 0, "photos": []},
    )
    if event.chat.type != "private":
        ctx.should_call_api(
            "get_chat_member",
            {"chat_id": event.chat.id, "user_id": event.from_.id},
            {"status": "member", "user": user},
        )


class RecordingBot(OneBotBot):
    """A QQ bot whose API calls are recorded and answered like NapCat would, without a socket."""

    def __init__(self) -> None:
        super().__init__(nonebot.get_adapter(OneBotAdapter), ONEBOT_SELF_ID)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call_api(self, api: str, **data: Any) -> Any:
        self.calls.append((api, data))
        if api in ("get_group_member_info", "get_stranger_info"):
            return {"user_id": data.get("user_id"), "nickname": "某人", "card": "", "role": "member", "sex": "unknown"}
        if api == "get_group_info":
            return {"group_id": data.get("group_id"), "group_name": "队伍群", "member_count": 10}
        return {"message_id": len(self.calls)}

    def replies(self) -> list[OneBotMessage]:
        return [OneBotMessage(data["message"]) for api, data in self.calls if api in ("send_msg", "send_private_msg")]


async def say(user_id: int, text: str | OneBotMessage, group_id: int | None = None) -> str:
    """What the bot answers when `user_id` sends `text` on QQ (in `group_id`, or in private), as one text; the
    answers hold plain text (and pictures), never anything read from what was typed."""
    bot = RecordingBot()
    if group_id is None:
        event = onebot_private_message(user_id, text)
    else:
        event = onebot_group_message(group_id, user_id, text)
    await handle_event(bot, event)
    replies = bot.replies()
    assert all(segment.type in ("text", "image") for reply in replies for segment in reply), replies
    return "\n".join(reply.extract_plain_text() for reply in replies)


def forget_dialogues() -> None:
    """As after a restart: no dialogue waits in memory (NoneBot's waiting matchers and plugins._common's open
    dialogues), whatever an earlier test or step left; what the database keeps stays."""
    from nonebot.matcher import matchers

    from plugins._common import _expiry_tasks, open_dialogues  # plugin code: imported once NoneBot runs

    for waiting in list(matchers.get(0, [])):
        matchers[0].remove(waiting)
    open_dialogues.clear()
    for task in _expiry_tasks.values():
        task.cancel()
    _expiry_tasks.clear()
