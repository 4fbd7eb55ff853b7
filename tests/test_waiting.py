"""Dialogues waiting for an answer are found by their session (bot/waiting.py), expired ones still reached; a
command passes over the priorities of other commands."""

from __future__ import annotations

from datetime import datetime, timedelta

from nonebot.matcher import Matcher, matchers
from nonebot.permission import Permission, User

from bot.waiting import (
    WAITING_PRIORITY,
    CommandLevel,
    WaitingMatchers,
    _next_walk,
    _Walk,
    command_head,
    heads_of,
    waiting_for,
)


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


def size_in_walk(level: list[type[Matcher]], session: str | None, head: str | None) -> tuple[int, int]:
    """How big NoneBot finds a priority when it walks it for an event (and when it asks again in the same walk)."""
    token = _next_walk.set(_Walk(session, head))
    try:
        return len(level), len(level)
    finally:
        _next_walk.reset(token)


def test_a_command_passes_over_the_priorities_of_other_commands() -> None:
    from nonebot import on_message

    from plugins.attendance import checkin_command, signup_command

    assert heads_of(signup_command) == frozenset({"/报名", "／报名", "/signup", "／signup"})
    level = CommandLevel([checkin_command])
    assert size_in_walk(level, "group_1_30001", "/报名") == (0, 1)  # another command's name: passed over, once
    assert size_in_walk(level, "group_1_30001", "/签到") == (1, 1)
    assert size_in_walk(level, "group_1_30001", "／checkin") == (1, 1)
    assert size_in_walk(level, "group_1_30001", None) == (1, 1)  # no command in front: alconna decides
    assert size_in_walk(level, None, "") == (0, 1)  # no message (a heartbeat): no command takes it
    assert len(level) == 1  # outside a walk
    anything = on_message(priority=99)
    try:
        assert heads_of(anything) is None
        assert size_in_walk(CommandLevel([checkin_command, anything]), "group_1_30001", "/报名") == (2, 2)
    finally:
        anything.destroy()


def test_the_first_word_of_a_message_written_as_a_command() -> None:
    from tests.chat import onebot_group_message

    starts = ("/", "／")
    assert command_head(onebot_group_message(1, 30001, "/报名 12"), starts) == "/报名"
    assert command_head(onebot_group_message(1, 30001, "  ／签到"), starts) == "／签到"
    assert command_head(onebot_group_message(1, 30001, "报名 12"), starts) is None
    assert command_head(onebot_group_message(1, 30001, ""), starts) is None


def test_priority_0_counts_as_empty_for_an_event_no_dialogue_waits_for() -> None:
    made: list[type[Matcher]] = []
    try:
        theirs = dialogue("group_1_30002", timedelta(minutes=5))
        made = [theirs]
        store = WaitingMatchers(made)
        assert size_in_walk(store, "group_1_30001", "/报名") == (0, 1)  # passed over; anything later sees it all
        assert size_in_walk(store, "group_1_30002", None)[0] == 1
        token = _next_walk.set(_Walk("group_1_30002"))
        try:
            assert len(store) == 1
            assert list(store) == [theirs]  # the walk goes over what it counted
            assert list(store) == [theirs]
        finally:
            _next_walk.reset(token)
    finally:
        for matcher in made:
            if matcher in matchers[WAITING_PRIORITY]:
                matchers[WAITING_PRIORITY].remove(matcher)
