"""What QQ clients send besides messages: heartbeats, lifecycle, notices and requests pass through in silence.

Every OneBot v11 implementation sends these through the same socket as the messages (a heartbeat every ~30 s, a
member joining, a recall, a poke). Each event type below goes through the handlers: nothing is answered, nothing
is written to the log above INFO, and no handler fails.
"""

from __future__ import annotations

import time

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import Adapter, Bot
from nonebot.log import logger
from nonebug import App

from tests.chat import ONEBOT_SELF_ID

GROUP, MEMBER, OPERATOR = 555001, 30001, 20001


def _base(post_type: str, **fields) -> dict:
    return {"time": int(time.time()), "self_id": int(ONEBOT_SELF_ID), "post_type": post_type, **fields}


def _notice(notice_type: str, **fields) -> dict:
    return _base("notice", notice_type=notice_type, **fields)


EVENTS = {
    "heartbeat": _base(
        "meta_event", meta_event_type="heartbeat", status={"online": True, "good": True}, interval=30000
    ),
    "lifecycle": _base("meta_event", meta_event_type="lifecycle", sub_type="connect"),
    "member joins": _notice("group_increase", sub_type="approve", group_id=GROUP, user_id=MEMBER, operator_id=OPERATOR),
    "member leaves": _notice("group_decrease", sub_type="leave", group_id=GROUP, user_id=MEMBER, operator_id=0),
    "group recall": _notice("group_recall", group_id=GROUP, user_id=MEMBER, operator_id=MEMBER, message_id=123),
    "friend recall": _notice("friend_recall", user_id=MEMBER, message_id=124),
    "poke": _notice("notify", sub_type="poke", group_id=GROUP, user_id=MEMBER, target_id=int(ONEBOT_SELF_ID)),
    "lucky king": _notice("notify", sub_type="lucky_king", group_id=GROUP, user_id=MEMBER, target_id=MEMBER),
    "honour": _notice("notify", sub_type="honor", group_id=GROUP, user_id=MEMBER, honor_type="talkative"),
    "admin set": _notice("group_admin", sub_type="set", group_id=GROUP, user_id=MEMBER),
    "ban": _notice("group_ban", sub_type="ban", group_id=GROUP, user_id=MEMBER, operator_id=OPERATOR, duration=60),
    "upload": _notice(
        "group_upload", group_id=GROUP, user_id=MEMBER, file={"id": "f", "name": "a.txt", "size": 1, "busid": 1}
    ),
    "friend added": _notice("friend_add", user_id=MEMBER),
    "friend request": _base("request", request_type="friend", user_id=MEMBER, comment="你好", flag="f1"),
    "group invite": _base(
        "request", request_type="group", sub_type="invite", group_id=GROUP, user_id=MEMBER, comment="", flag="f2"
    ),
    "unknown notice": _notice("group_card", group_id=GROUP, user_id=MEMBER, card_new="新名片", card_old=""),
}


@pytest.fixture
def problems():
    """What the bot logs at WARNING or above while a test runs."""
    found: list[str] = []
    sink = logger.add(lambda message: found.append(str(message)), level="WARNING")
    yield found
    logger.remove(sink)


@pytest.mark.parametrize("raw", EVENTS.values(), ids=EVENTS.keys())
async def test_a_non_message_event_passes_in_silence(app: App, database: str, problems: list[str], raw) -> None:
    event = Adapter.json_to_event(raw)
    assert event is not None
    assert event.get_type() != "message"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ctx.receive_event(bot, event)  # nonebug fails the test on any reply or API call not expected here
    assert problems == []
