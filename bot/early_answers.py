"""Answers that arrive before their dialogue listens are held until it does, in the order they came.

NoneBot keeps a dialogue's next step as a temporary matcher, registered only once the step before has run to its
end: after its prompt was sent, after the photo it was handling was fetched and cleaned. An answer that arrives in
that gap finds nobody waiting and is lost. That is the usual case, not a rare one: four photos picked together in
QQ or Telegram arrive as four messages within a second, while the bot is still fetching the first.

So a message from a session whose dialogue is open (`plugins._common.open_dialogue`) waits, before NoneBot looks
for a matcher, until a step of that dialogue waits for it, or the dialogue has ended (then it is handled as any
message), or `HOLD_SECONDS` have passed (a step that neither waits nor ends: it is handled as any message, as
before). Held messages go on one at a time, in the order they arrived: each takes the step that waits then, and
the next waits for the step after it.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections import deque
from collections.abc import Callable

from nonebot.adapters import Event
from nonebot.matcher import Matcher, matchers

from bot.waiting import WAITING_PRIORITY, WaitingMatchers, waiting_for

HOLD_SECONDS = 30.0
"""The longest a message waits for its dialogue's next step: longer than fetching and cleaning a few photos."""
POLL_SECONDS = 0.02

_queues: dict[str, deque[int]] = {}
"""For each session with held messages, their turns in order of arrival."""
_taken: weakref.WeakValueDictionary[str, type[Matcher]] = weakref.WeakValueDictionary()
"""The step each session's last released message went on to take: the next one waits for another (forgotten with
the step itself)."""
_turns = itertools.count()


def step_waiting_for(session: str) -> type[Matcher] | None:
    """The temporary matcher (a dialogue's next step) that waits for this session, if any."""
    waiting = matchers[WAITING_PRIORITY]
    if isinstance(waiting, WaitingMatchers):  # bot/waiting.py's index: no walk over every open dialogue
        return next(iter(waiting.waiting_in(session)), None)
    for matcher in list(waiting):
        if waiting_for(matcher) == session:
            return matcher
    return None


async def hold_until_listening(event: Event, dialogue_is_open: Callable[[str], bool]) -> None:
    """Return once this message can be handled: its dialogue's step waits for it, the dialogue has ended, or it has
    waited HOLD_SECONDS. Returns at once for a session without an open dialogue."""
    if event.get_type() != "message":
        return
    session = event.get_session_id()
    if not dialogue_is_open(session):
        return
    queue = _queues.setdefault(session, deque())
    turn = next(_turns)
    queue.append(turn)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HOLD_SECONDS
    try:
        while True:
            if queue[0] == turn:
                if not dialogue_is_open(session):
                    return
                step = step_waiting_for(session)
                if step is not None and _taken.get(session) is not step:
                    _taken[session] = step
                    return
            if loop.time() >= deadline:
                return
            await asyncio.sleep(POLL_SECONDS)
    finally:
        queue.remove(turn)
        if not queue:
            _queues.pop(session, None)
