"""Dialogues waiting for an answer are found by their session (bot/waiting.py), expired ones still reached."""

from __future__ import annotations

from datetime import datetime, timedelta

from nonebot.matcher import Matcher, matchers
from nonebot.permission import Permission, User

from bot.waiting import WAITING_PRIORITY, WaitingMatchers, _next_walk, _Walk, waiting_for


def dialogue(session: str | None, expires_in: timedelta) -> type[Matcher]:
    permission = Permission(User((session,))) if session else None
    return Matcher.new(
        "message",
        temp=True,
        permission=permission,
        priority=WAITING_PRIORITY,
        expire_time=datetime.now() + expires_in,
    )


def walk(store: WaitingMatchers, session: str | None) -> list[type[Matcher]]:
    """What NoneBot sees when it walks the dialogues for an event from this session."""
    token = _next_walk.set(_Walk(session))
    try:
        return list(store)
    finally:
        _next_walk.reset(token)


def test_an_event_meets_only_its_own_dialogues_and_the_expired_ones() -> None:
    made: list[type[Matcher]] = []
    try:
        mine = dialogue("group_1_30001", timedelta(minutes=5))
        theirs = dialogue("group_1_30002", timedelta(minutes=5))
        expired = dialogue("group_1_30003", timedelta(minutes=-1))
        anyone = dialogue(None, timedelta(minutes=5))  # waits for no one session: every event may reach it
        made = [mine, theirs, expired, anyone]
        assert waiting_for(mine) == "group_1_30001"
        assert waiting_for(anyone) is None
        store = WaitingMatchers(made)
        assert walk(store, "group_1_30001") == [mine, expired, anyone]  # in the order they were added
        assert walk(store, None) == [anyone]  # the expired one was seen once: NoneBot removes it then
        store.remove(expired)
        assert walk(store, "group_1_30002") == [theirs, anyone]
        store.remove(mine)
        assert walk(store, "group_1_30001") == [anyone]
        later = dialogue("group_1_30001", timedelta(minutes=5))
        made.append(later)
        store.append(later)
        assert walk(store, "group_1_30001") == [anyone, later]
        assert list(store) == [theirs, anyone, later]  # any other walk over the list sees all of them
    finally:
        for matcher in made:
            if matcher in matchers[WAITING_PRIORITY]:
                matchers[WAITING_PRIORITY].remove(matcher)
