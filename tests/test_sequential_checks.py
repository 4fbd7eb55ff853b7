"""Parameters and rules checked in turn (bot/sequential_checks.py) behave as NoneBot's own for what the bot uses."""

from __future__ import annotations

from typing import Annotated

import pytest
from nonebot import on_message
from nonebot.adapters.onebot.v11 import GroupMessageEvent, PrivateMessageEvent
from nonebot.adapters.onebot.v11.event import Sender
from nonebot.matcher import Matcher, matchers
from nonebot.message import handle_event
from nonebot.params import Depends
from nonebot.rule import Rule
from nonebug import App

from bot import sequential_checks
from tests.chat import RecordingBot


def group_message(text: str) -> GroupMessageEvent:
    from nonebot.adapters.onebot.v11 import Message

    return GroupMessageEvent(
        time=0, self_id=1, post_type="message", sub_type="normal", user_id=30001, message_type="group",
        message_id=1, message=Message(text), original_message=Message(text), raw_message=text, font=0,
        sender=Sender(user_id=30001), to_me=False, group_id=40001,
    )  # fmt: skip


calls: list[str] = []


async def shared(event: GroupMessageEvent) -> str:
    calls.append("shared")
    return event.get_plaintext()


async def upper(text: Annotated[str, Depends(shared)]) -> str:
    return text.upper()


async def private_only(event: PrivateMessageEvent) -> bool:
    return True


async def deliver(app: App, text: str) -> None:
    """A QQ group message through NoneBot's whole handling: preprocessors, every matcher's rules, handlers (and a
    "没有这个命令" from the bot when no matcher took it, which this bot records and drops)."""
    await handle_event(RecordingBot(), group_message(text))


@pytest.fixture
def made() -> list[type[Matcher]]:
    made: list[type[Matcher]] = []
    yield made
    for matcher in made:
        matcher.destroy()


def test_installed_for_this_nonebot() -> None:
    assert sequential_checks.PATCH.differences() == []
    from nonebot.dependencies import Dependent

    assert Dependent.solve is sequential_checks.solve_in_turn


async def test_handlers_get_their_values_and_a_shared_dependency_is_solved_once(
    app: App, made: list[type[Matcher]]
) -> None:
    calls.clear()
    seen: list[tuple[str, str, str]] = []
    matcher = on_message(rule=Rule(lambda event: event.get_plaintext().startswith("/probe")), priority=1, block=True)
    made.append(matcher)

    @matcher.handle()
    async def record(
        text: Annotated[str, Depends(shared)], shouted: Annotated[str, Depends(upper)], event: GroupMessageEvent
    ) -> None:
        seen.append((text, shouted, event.get_session_id()))

    await deliver(app, "/probe one")
    assert seen == [("/probe one", "/PROBE ONE", "group_40001_30001")]
    assert calls == ["shared"]


async def test_a_parameter_that_does_not_fit_skips_that_handler_only(app: App, made: list[type[Matcher]]) -> None:
    ran: list[str] = []
    matcher = on_message(rule=Rule(lambda event: event.get_plaintext() == "/probe"), priority=1, block=True)
    made.append(matcher)

    @matcher.handle()
    async def in_private(event: PrivateMessageEvent) -> None:
        ran.append("private")

    @matcher.handle()
    async def any_chat() -> None:
        ran.append("any")

    await deliver(app, "/probe")
    assert ran == ["any"]


async def test_a_rule_passes_only_when_every_checker_passes(app: App, made: list[type[Matcher]]) -> None:
    ran: list[str] = []

    def starts(word: str) -> Rule:
        return Rule(lambda event: event.get_plaintext().startswith(word))

    both = on_message(rule=starts("/probe") & starts("/probe two"), priority=1, block=False)
    wrong_kind = on_message(rule=starts("/probe") & Rule(private_only), priority=1, block=False)
    made.extend([both, wrong_kind])

    @both.handle()
    async def record_both() -> None:
        ran.append("both")

    @wrong_kind.handle()
    async def record_wrong_kind() -> None:
        ran.append("private")

    await deliver(app, "/probe one")
    assert ran == []
    await deliver(app, "/probe two")
    assert ran == ["both"]
    assert both in matchers[1]
    assert wrong_kind in matchers[1]
