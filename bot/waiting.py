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

The same walk also passes over priorities that cannot take the event. NoneBot makes a task group and a task for
every priority it walks until a matcher takes the event, and waits for them: at least one turn of the event loop
each, behind whatever else is ready. A command's matcher (`plugins._common.command`) first checks that the
message's first word, when written as a command ("/报名"), is its own name or alias, and says so with a
`command_heads` attribute on that checker. So for a message whose first word is a command, a priority whose
matchers are all commands with other names counts as empty during the walk, and NoneBot goes on to the next
without a task group; so does priority 0 when no dialogue waits for the event's session, and every command
priority for an event that is no message (a heartbeat, a notice). A `/报名` (third in the order) went through two
levels before its own (/签到's and /签退's), three with a dialogue open anywhere; now it goes straight to its own.

NoneBot walks the priorities right after `TrieRule.get_value(bot, event, state)`, in the same task; that call is
wrapped to say which event's walk comes next, with its session and first word. `install()` first checks that
NoneBot's `handle_event` still walks the matchers that way and that the pieces used here are there
(`bot/patching.py`); otherwise it changes nothing and NoneBot checks every waiting dialogue and every priority
against every event, as it does without this.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Self

import nonebot
import nonebot.message
from nonebot.matcher import Matcher, MatcherProvider, matchers
from nonebot.permission import Permission, User
from nonebot.rule import Rule, TrieRule

from bot import patching

WAITING_PRIORITY = 0
"""Where NoneBot puts the matchers of dialogues waiting for their next answer."""
COMMAND_HEADS = "command_heads"
"""The attribute of a command's checker naming the first words it takes (set by plugins._common.command; this
module loads before any plugin, so it does not import it)."""


class _Walk:
    """The next walk over the priorities in this event's task: the event's session (None: it has none) and the
    message's first word written as a command (`command_head`)."""

    __slots__ = ("counted", "head", "session", "used", "waiting")

    def __init__(self, session: str | None, head: str | None = None) -> None:
        self.session = session
        self.head = head
        self.used = False
        """Priority 0 was walked (or skipped): any later walk over it sees all of its matchers."""
        self.waiting: list[type[Matcher]] | None = None
        """The dialogues of priority 0 this event could continue, once looked up."""
        self.counted: set[int] = set()
        """Command priorities (their lists' ids) whose size the walk has asked for."""


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

    def waiting_in(self, session: str) -> list[type[Matcher]]:
        """The matchers that wait for this one session (bot/early_answers.py asks)."""
        return list(self._by_session.get(session, ()))

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

    def __len__(self) -> int:
        walk = _next_walk.get()
        if walk is None or walk.used:
            return super().__len__()
        found = len(self._for(walk))
        if not found:
            walk.used = True  # NoneBot skips the priority: nothing more to choose for this event
        return found

    def __iter__(self) -> Iterator[type[Matcher]]:
        walk = _next_walk.get()
        if walk is None or walk.used:
            return super().__iter__()
        chosen = self._for(walk)
        walk.used = True
        return iter(chosen)

    def _for(self, walk: _Walk) -> list[type[Matcher]]:
        """The matchers this walk's event may reach, looked up once per walk."""
        if walk.waiting is not None:
            return walk.waiting
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
        walk.waiting = chosen
        return chosen


def heads_of(matcher: type[Matcher]) -> frozenset[str] | None:
    """The first words a command matcher takes ("/报名", "/signup"), from its rule's `command_heads` checker; None
    for a matcher that is not such a command (it may take anything its rule lets through).

    An alconna command's rule is one checker, nonebot-plugin-alconna's AlconnaRule, which runs the command's own
    rule (`before_rules`) first and fails when it fails: the `command_heads` checker is looked for there too. Where
    it is not found (another version of the plugin), nothing is passed over."""
    for checker in matcher.rule.checkers:
        inner = getattr(getattr(checker.call, "before_rules", None), "checkers", ())
        for call in (checker.call, *(dependent.call for dependent in inner)):
            heads = getattr(call, COMMAND_HEADS, None)
            if isinstance(heads, frozenset):
                return heads
    return None


class CommandLevel(list):
    """The matchers of one priority other than 0. During NoneBot's walk for a message whose first word is written
    as a command, a level whose matchers are all commands taking other first words counts as empty (for an event
    that is no message, one whose matchers are all commands): NoneBot then passes over it."""

    def __len__(self) -> int:
        walk = _next_walk.get()
        if walk is None or walk.head is None or id(self) in walk.counted:
            return super().__len__()
        walk.counted.add(id(self))  # asked once per walk: anything else asking later sees the real size
        return 0 if self._cannot_take(walk.head) else super().__len__()

    def _cannot_take(self, head: str) -> bool:
        for matcher in super().__iter__():
            heads = heads_of(matcher)
            if matcher.temp or heads is None or head in heads:
                return False
        return True


class WaitingIndexProvider(defaultdict, MatcherProvider):  # type: ignore[misc]
    """NoneBot's matcher store (a dict of priority to list), with priority 0 a WaitingMatchers and every other
    priority a CommandLevel."""

    def __init__(self, existing: Mapping[int, list[type[Matcher]]]) -> None:
        super().__init__(list)
        for priority, items in existing.items():
            self[priority] = WaitingMatchers(items) if priority == WAITING_PRIORITY else CommandLevel(items)

    def __missing__(self, priority: int) -> list[type[Matcher]]:
        value: list[type[Matcher]] = WaitingMatchers() if priority == WAITING_PRIORITY else CommandLevel()
        self[priority] = value
        return value


def command_head(event: Any, starts: tuple[str, ...]) -> str | None:
    """The first word of a message when it is written as a command ("/报名 12" -> "/报名"); "" for an event that is
    no message (no command takes it); None for a message whose first word is not a command (anything may take it)."""
    if event.get_type() != "message":
        return ""
    words = event.get_plaintext().split(maxsplit=1)
    return words[0] if words and words[0].startswith(starts) else None


CHECKS = [
    patching.parameters("TrieRule.get_value", lambda: TrieRule.get_value, ["bot", "event", "state"]),
    patching.source_contains(
        "nonebot.message.handle_event",
        lambda: nonebot.message.handle_event,
        [
            "TrieRule.get_value(bot, event, state)",
            "for priority in sorted(matchers.keys()):",
            "if not (priority_matchers := matchers[priority]):",
            "for matcher in priority_matchers:",
        ],
    ),
    patching.parameters("matchers.set_provider", lambda: matchers.set_provider, ["provider_class"]),
    patching.attributes("Matcher", lambda: Matcher, ["temp", "permission", "expire_time", "rule"]),
    patching.attributes("Rule", lambda: Rule, ["checkers"]),
    patching.attributes("Permission", lambda: Permission, ["checkers"]),
    patching.attributes("User", lambda: User, ["users"]),
]


def apply() -> None:
    matchers.set_provider(WaitingIndexProvider)
    get_value = TrieRule.get_value
    starts = tuple(nonebot.get_driver().config.command_start)

    def announce_walk(cls: type[TrieRule], bot: Any, event: Any, state: Any) -> Any:
        try:
            session = event.get_session_id()
        except Exception:  # an event without a session (a heartbeat, some notices): no dialogue waits for it
            session = None
        try:
            head = command_head(event, starts)
        except Exception:  # an event whose text cannot be read: every priority is walked, as by NoneBot
            head = None
        _next_walk.set(_Walk(session, head))
        return get_value(bot, event, state)

    TrieRule.get_value = classmethod(announce_walk)  # type: ignore[method-assign,assignment]


PATCH = patching.Patch(
    "bot/waiting.py (waiting dialogues found by their session)",
    CHECKS,
    apply,
    otherwise="every waiting dialogue is checked against every event, and every priority up to the command's, as "
    "NoneBot does it",
)


def install() -> bool:
    """Use the index from now on (in the bot process, once its plugins are loaded); False (nothing changed, a
    warning logged) on a NoneBot this was not written for."""
    return PATCH.install()
