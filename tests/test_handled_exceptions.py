"""Exceptions NoneBot has handled leave no reference cycles (bot/handled_exceptions.py); errors keep tracebacks."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import nonebot
import pytest
from exceptiongroup import BaseExceptionGroup, catch
from nonebot.adapters.onebot.v11 import Adapter, Bot
from nonebot.exception import FinishedException
from nonebot.matcher import Matcher
from nonebug import App

from tests.chat import ONEBOT_SELF_ID, onebot_group_message, onebot_text

GROUP = 555001
VOLUNTEER = 30001


@pytest.fixture
def left_in_cycles() -> Iterator[Callable[[type], list[object]]]:
    """What a garbage collection would have to free, of a kind: gc.garbage keeps it to be looked at."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)

    def of_kind(kind: type) -> list[object]:
        gc.collect()
        return [thing for thing in gc.garbage if isinstance(thing, kind)]

    try:
        yield of_kind
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def run_like_a_matcher() -> FinishedException | None:
    """What NoneBot's Matcher.run does with a handler's finish(): catch it and keep it in its own frame."""
    kept: FinishedException | None = None

    def handle(group: BaseExceptionGroup) -> None:
        nonlocal kept
        signal = group.exceptions[0]
        assert isinstance(signal, FinishedException)
        kept = signal

    with catch({FinishedException: handle}):
        raise FinishedException
    return kept


def test_a_finished_handler_leaves_no_cycle(left_in_cycles: Callable[[type], list[object]]) -> None:
    assert isinstance(run_like_a_matcher(), FinishedException)

    assert left_in_cycles(FinishedException) == []
    assert left_in_cycles(BaseExceptionGroup) == []


async def test_a_command_leaves_no_cycle(
    app: App, database: str, left_in_cycles: Callable[[type], list[object]]
) -> None:
    """A whole command through NoneBot: its matcher and what the handler held (the caller's place) are freed when
    it is answered (before, a garbage collection had to find about 175 objects per /报名 in cycles)."""
    from nonebot.message import handle_event

    from plugins._common import Place
    from plugins.attendance import SIGNUP_USAGE

    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        event = onebot_group_message(GROUP, VOLUNTEER, "/报名")
        ctx.should_call_send(event, onebot_text(SIGNUP_USAGE), result={"message_id": 1}, bot=bot)
        await handle_event(bot, event)

    assert left_in_cycles(Matcher) == []
    assert left_in_cycles(Place) == []
    assert left_in_cycles(FinishedException) == []


def test_a_handled_error_keeps_its_traceback() -> None:
    caught: list[BaseExceptionGroup] = []
    with catch({ValueError: caught.append}):
        raise ValueError("不对")

    assert caught[0].exceptions[0].__traceback__ is not None


def test_an_error_a_handler_raises_goes_on_with_its_traceback() -> None:
    def handle(group: BaseExceptionGroup) -> None:
        raise RuntimeError("处理时出错") from group.exceptions[0]

    with pytest.raises(RuntimeError) as raised:
        with catch({ValueError: handle}):
            raise ValueError("不对")

    assert raised.value.__traceback__ is not None
    assert isinstance(raised.value.__cause__, ValueError)
    assert raised.value.__cause__.__traceback__ is not None
