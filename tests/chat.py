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


PLAIN_FILE_ANSWERS = {
    "你的姓名": "张三",
    "你的身份证号": "370102195001011233",
    "你住在哪个区域": "历下区",
    "你的工作单位": "无",
    "你的职业": "退休",
    "你有什么特长": "无",
    "紧急联系人": "妻子 王芳 13900139000",
}
"""What a plain applicant answers to each question of the application, by the words that begin the question."""


async def finish_the_file_in_private(user_id: int, phone: str = "13800138000") -> str:
    """After /加入 in a team's group: the applicant answers the application's remaining questions in private (plain
    answers, `phone` if it is asked) and agrees to the consent text; the bot's last answer."""
    answers = {**PLAIN_FILE_ANSWERS, "你的手机号": phone}
    question = await say(user_id, "/加入")
    for _ in range(len(answers) + 1):
        asked = question.splitlines()[-1]
        if asked.startswith("同意请回复"):
            return await say(user_id, "同意")
        typed = next((answer for words, answer in answers.items() if words in asked), None)
        assert typed is not None, f"an application question the test does not know: {question}"
        question = await say(user_id, typed)
    raise AssertionError(f"the application does not end: {question}")
