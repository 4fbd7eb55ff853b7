"""Group chatter dropped before NoneBot's event pre-processors, with nothing raised.

Group chats are mostly chatter, and a message that is neither a command, nor addressed to the bot, nor an answer
to an open dialogue is dropped before NoneBot checks it against every matcher. As an event pre-processor that
meant raising `IgnoredException`: NoneBot runs pre-processors in an anyio task group, and the exception comes back
wrapped in an exception group whose traceback holds the frames, the task group and the event in reference cycles,
some 75 objects per message that only the garbage collector frees. Under a flood of chatter
(`bench/command_load.py`: 3,000 messages at 2,500 a second) thousands of them were still waiting at a young
collection, were moved to the old generation, and died there: young collections took up to 40 ms, and about
every three minutes a full collection walked 160,000 dead objects with the event loop stopped for 480 ms.

Here NoneBot's `_apply_event_preprocessors` is wrapped so that chatter returns "do not handle" at once, before any
task group; every other event goes through NoneBot's pre-processors as before. `install` leaves a NoneBot whose
function takes other parameters alone and says so (`bot/patching.py`); the caller then drops chatter with a
pre-processor as before.
`tests/test_handlers_onebot.py` checks that chatter leaves no reference cycle and reaches no handler.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import nonebot.message
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.typing import T_DependencyCache, T_State

from bot import patching

CHECKS = [
    patching.parameters(
        "nonebot.message._apply_event_preprocessors",
        lambda: nonebot.message._apply_event_preprocessors,
        ["bot", "event", "state", "stack", "dependency_cache", "show_log"],
    ),
]


def patch(is_chatter: Callable[[Bot, Event], bool]) -> patching.Patch:
    """Dropping every event `is_chatter` says is chatter before NoneBot's pre-processors."""
    original = nonebot.message._apply_event_preprocessors

    async def apply_event_preprocessors(
        bot: Bot,
        event: Event,
        state: T_State,
        stack: AsyncExitStack | None = None,
        dependency_cache: T_DependencyCache | None = None,
        show_log: bool = True,
    ) -> Any:
        try:
            dropped = is_chatter(bot, event)
        except Exception as error:  # NoneBot's own pre-processing decides about an event this cannot read
            logger.opt(exception=error).warning("could not tell whether an event is chatter")
            dropped = False
        if dropped:
            return False
        return await original(bot, event, state, stack, dependency_cache, show_log)

    def apply() -> None:
        nonebot.message._apply_event_preprocessors = apply_event_preprocessors

    return patching.Patch(
        "bot/chatter.py (group chatter dropped before NoneBot's pre-processors)",
        CHECKS,
        apply,
        otherwise="chatter is dropped by an event pre-processor, as NoneBot does it",
    )


def install(is_chatter: Callable[[Bot, Event], bool]) -> bool:
    """Drop chatter before NoneBot's pre-processors; False (nothing changed, a warning logged) if NoneBot differs."""
    return patch(is_chatter).install()
