"""The application dialogue in private, one question at a time (storage/services/applications.py decides what is
asked and checks each answer): one dialogue whichever way it began, /加入 邀请码 in private or /加入 姓名 in a
team's group.

Each answer is saved before the next question is asked, so the dialogue is only a convenience: NoneBot's waiting
matcher takes the next answer while it waits, and after a restart or a long pause the private-answer matcher
(plugins/membership) finds the saved application and goes on from where it stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NoReturn

from nonebot.adapters import Bot, Event
from nonebot.matcher import Matcher
from nonebot_plugin_alconna import UniMessage

from plugins._common import (
    Place,
    answer_or_leave,
    close_dialogue,
    command_starts,
    finish,
    is_cancel,
    open_dialogue,
)
from plugins._texts import refusal
from plugins._texts.claims import text_for_claim_waiting
from plugins._texts.membership import text_for_application
from plugins._texts.recruiting import (
    APPLICATION_PAUSED,
    CANCELLED_APPLICATION,
    LEFT_APPLICATION,
    text_for_declined,
    text_for_question,
)
from storage.errors import DomainError
from storage.services import applications, claims

Again = Callable[[], Awaitable[NoReturn]]
"""The matcher's pause (from the handler that began the dialogue) or reject (from the step handler): either way
the step handler takes the next message. What to say is sent before, as a UniMessage: plain text, never markup."""
JOIN_WORDS = ("加入", "join")
ENDING_CODES = ("membership.nothing_begun",)
"""Refusals after which no question waits any more (the application is gone): the dialogue closes."""


async def ask(matcher: type[Matcher], bot: Bot, event: Event, question: applications.Question) -> NoReturn:
    await _say_and_wait(bot, event, text_for_question(question), matcher.pause)


async def _say_and_wait(bot: Bot, event: Event, text: str, again: Again) -> NoReturn:
    open_dialogue(bot, event, expired=APPLICATION_PAUSED)
    await UniMessage.text(text).send()
    await again()
    raise AssertionError("unreachable: pause and reject end the handler")


async def advance(
    matcher: type[Matcher] | Matcher, bot: Bot, event: Event, place: Place, text: str, again: Again
) -> NoReturn:
    """Give the answer to the application; ask the next question (or the same one again, saying what is wrong), or
    end with the application sent or declined."""
    try:
        result = await applications.answer(place.caller, text)
    except DomainError as error:
        if error.code in ENDING_CODES or error.code.startswith("invites."):
            close_dialogue(event)
            await finish(refusal(error))
        await _say_and_wait(bot, event, refusal(error), again)
    if isinstance(result, applications.Question):
        await _say_and_wait(bot, event, text_for_question(result), again)
    close_dialogue(event)
    if isinstance(result, applications.Declined):
        await finish(text_for_declined(result))
    if isinstance(result, claims.ClaimWaiting):
        await finish(text_for_claim_waiting(result))
    await finish(text_for_application(result))


def _is_join(text: str) -> bool:
    words = text.split(maxsplit=1)
    starts = command_starts()
    return bool(words) and words[0].startswith(starts) and words[0][1:] in JOIN_WORDS


async def answer_step(matcher: Matcher, bot: Bot, event: Event, place: Place) -> None:
    """The next message while the dialogue waits: an answer; a cancel word or another command ends the application
    and deletes what was typed (/加入 itself goes to the command, which asks the question again)."""
    text = event.get_plaintext().strip()
    if _is_join(text):
        close_dialogue(event)
        matcher.block = False  # NoneBot goes on to the commands: /加入 takes it
        await matcher.finish()
    if is_cancel(text) or text.startswith(command_starts()):
        await applications.drop(place.caller)
    text = await answer_or_leave(matcher, event, cancelled=CANCELLED_APPLICATION, left=LEFT_APPLICATION)
    await advance(matcher, bot, event, place, text, again=matcher.reject)
