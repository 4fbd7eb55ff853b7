"""Joining a team through its group over the socket, as an applicant does: /加入 in the group, the rest of the
member file answered in private, and the consent."""

from __future__ import annotations

import fake_telegram
import onebot_peer
from fake_telegram import FakeTelegram
from onebot_peer import OneBotPeer

from tests.chat import PLAIN_FILE_ANSWERS


async def join_through_the_group(
    peer: OneBotPeer | FakeTelegram, group: int, user: int, name: str, phone: str, typed: str | None = None
) -> onebot_peer.SentMessage | fake_telegram.SentMessage:
    """`/加入 姓名 手机号` (or `typed`) in the group, where the phone is kept but not said back; plain answers to the
    questions the bot then asks in private; and 同意. The bot's answer to the consent."""
    since = peer.mark()
    begun = await peer.ask_group(group, user, typed or f"/加入 {name} {phone}")
    assert begun.text.startswith(f"{name}，请私聊我回答剩下的几个登记问题"), begun.text
    assert phone not in begun.text
    if isinstance(peer, OneBotPeer):
        question = await peer.expect_private(user, "在这里回答几个问题", since=since)
    else:
        question = await peer.expect_chat(user, "在这里回答几个问题", since=since)
    assert "已记下手机号" in question.text, question.text
    for _ in range(len(PLAIN_FILE_ANSWERS) + 1):
        asked = question.text.splitlines()[-1]
        if asked.startswith("同意请回复"):
            applied = await peer.ask_private(user, "同意")
            assert applied.text.startswith(f"已收到{name}加入"), applied.text
            return applied
        answer = next((answer for words, answer in PLAIN_FILE_ANSWERS.items() if words in asked), None)
        assert answer is not None, f"an application question the test does not know: {question.text}"
        question = await peer.ask_private(user, answer)
    raise AssertionError(f"the application does not end: {question.text}")
