"""Dialogues waiting for an answer, found by the chat they wait in instead of by checking every one of them.

When a handler asks a question and waits (`pause`, `reject`, `got`), NoneBot keeps the rest of it as a temporary
matcher at priority 0 that only the asker's session may continue, and checks every such matcher against every
event before any command: each check is a task of its own with its permission solved, about 0.1-0.3 ms. With
1,000 people in the middle of /发布任务 or /线索 that was over 100 ms per command, and opening the thousandth
dialogue took seconds.

Here the matchers of priority 0 are kept in a list that also indexes them by the one session each waits for.
When NoneBot walks that list for an event, it sees only the matchers that event could continue (its own
session's), those that do not wait for a single session, and those that have expired (so that NoneBot removes them
as before). Everything else about the list is unchanged: NoneBot adds and removes matchers as always, and any
other walk over it sees all of them.

NoneBot walks priority 0 right after `TrieRule.get_value(bot, event, state)`, in the same task; that call is
wrapped to say which event's walk comes next. `install()` first checks that NoneBot's `handle_event` still walks
the matchers that way and that the pieces used here are there (`bot/patching.py`); otherwise it changes nothing and
NoneBot checks every waiting dialogue against every event, as it does without this.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Self

import nonebot.message
from nonebot.matcher import Matcher, MatcherProvider, matchers
from nonebot.permission import Permission, User
from nonebot.rule import TrieRule

from bot import patching

WAITING_PRIORITY = 0
"""Where NoneBot puts the matchers of dialogues waiting for their next answer."""


class _Walk:
    """The next walk over priority 0 in this event's task, for the event's session (None: it has none)."""

    __slots__ = ("session", "used")

    def __init__(self, session: str | None) -> None:
        self.session = session
        self.used = False


_next_walk: ContextVar[_Walk | None] = ContextVar("yijing_next_walk", default=None)


def waiting_for(matcher: type[Matcher]) -> str | None:
    """The one session a temporary matcher may be continued from, or None if it is not that kind of matcher."""
    if not matcher.temp:
        return None
    checkers = matcher.permission.checkers
    if len(checkers) != 1:
        return None
    call = next(iter(checkers)).call
    if isinstance(call, User) and len(call.users) == 1:
        return call.users[0]
    return None


class WaitingMatchers(list):
    """The matchers of priority 0, indexed by the session each waits for (see the module's description)."""

    def __init__(self, items: Iterable[type[Matcher]] = ()) -> None:
        super().__init__(items)
        self._reindex()

    def _reindex(self) -> None:
        self._by_session: dict[str, list[type[Matcher]]] = {}
        self._others: list[type[Matcher]] = []
        self._next_expiry: datetime | None = None
        for matcher in super().__iter__():
            self._add(matcher)

    def _add(self, matcher: type[Matcher]) -> None:
        session = waiting_for(matcher)
        if session is None:
            self._others.append(matcher)
        else:
            self._by_session.setdefault(session, []).append(matcher)
        expiry = matcher.expire_time
        if expiry is not None and (self._next_expiry is None or expiry < self._next_expiry):
            self._next_expiry = expiry

    def append(self, matcher: type[Matcher]) -> None:
        super().append(matcher)
        self._add(matcher)

    def remove(self, matcher: type[Matcher]) -> None:
        super().remove(matcher)
        session = waiting_for(matcher)
        bucket = self._others if session is None else self._by_session.get(session, [])
        if matcher in bucket:
            bucket.remove(matcher)
        if session is not None and not bucket:
            self._by_session.pop(session, None)

    # NoneBot only appends and removes; anything else rebuilds the index.
    def insert(self, index: Any, matcher: type[Matcher]) -> None:
        super().insert(index, matcher)
        self._reindex()

    def extend(self, items: Iterable[type[Matcher]]) -> None:
        super().extend(items)
        self._reindex()

    def __iadd__(self, items: Iterable[type[Matcher]]) -> Self:  # type: ignore[override,misc]
        self.extend(items)
        return self

    def pop(self, index: Any = -1) -> type[Matcher]:
        matcher = super().pop(index)
        self._reindex()
        return matcher

    def clear(self) -> None:
        super().clear()
        self._reindex()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._reindex()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._reindex()

    def __iter__(self) -> Iterator[type[Matcher]]:
        walk = _next_walk.get()
        if walk is None or walk.used:
            return super().__iter__()
        walk.used = True
        chosen = list(self._others)
        if walk.session is not None:
            chosen += self._by_session.get(walk.session, ())
        if self._next_expiry is not None and datetime.now() > self._next_expiry:
            now = datetime.now()
            expired = [m for m in super().__iter__() if m.expire_time is not None and now > m.expire_time]
            chosen += [m for m in expired if m not in chosen]
            later = [m.expire_time for m in super().__iter__() if m.expire_time is not None and m.expire_time >= now]
            self._next_expiry = min(later, default=None)
        if len(chosen) > 1:
            chosen.sort(key=self.index)  # NoneBot's order: the order they were added in
        return iter(chosen)


class WaitingIndexProvider(defaultdict, MatcherProvider):  # type: ignore[misc]
    """NoneBot's matcher store (a dict of priority to list), with priority 0 a WaitingMatchers."""

    def __init__(self, existing: Mapping[int, list[type[Matcher]]]) -> None:
        super().__init__(list)
        for priority, items in existing.items():
            self[priority] = WaitingMatchers(items) if priority == WAITING_PRIORITY else list(items)

    def __missing__(self, priority: int) -> list[type[Matcher]]:
        value: list[type[Matcher]] = WaitingMatchers() if priority == WAITING_PRIORITY else []
        self[priority] = value
        return value


CHECKS = [
    patching.parameters("TrieRule.get_value", lambda: TrieRule.get_value, ["bot", "event", "state"]),
    patching.source_contains(
        "nonebot.message.handle_event",
        lambda: nonebot.message.handle_event,
        [
            "TrieRule.get_value(bot, event, state)",
            "for priority in sorted(matchers.keys()):",
            "priority_matchers := matchers[priority]",
            "for matcher in priority_matchers:",
        ],
    ),
    patching.parameters("matchers.set_provider", lambda: matchers.set_provider, ["provider_class"]),
    patching.attributes("Matcher", lambda: Matcher, ["temp", "permission", "expire_time"]),
    patching.attributes("Permission", lambda: Permission, ["checkers"]),
    patching.attributes("User", lambda: User, ["users"]),
]


def apply() -> None:
    matchers.set_provider(WaitingIndexProvider)
    get_value = TrieRule.get_value

    def announce_walk(cls: type[TrieRule], bot: Any, event: Any, state: Any) -> Any:
        try:
            session = event.get_session_id()
        except Exception:  # an event without a session (a heartbeat, some notices): no dialogue waits for it
            session = None
        _next_walk.set(_Walk(session))
        return get_value(bot, event, state)

    TrieRule.get_value = classmethod(announce_walk)  # type: ignore[method-assign,assignment]


PATCH = patching.Patch(
    "bot/waiting.py (waiting dialogues found by their session)",
    CHECKS,
    apply,
    otherwise="every waiting dialogue is checked against every event, as NoneBot does it",
)


def install() -> bool:
    """Use the index from now on (in the bot process, once its plugins are loaded); False (nothing changed, a
    warning logged) on a NoneBot this was not written for."""
    return PATCH.install()
