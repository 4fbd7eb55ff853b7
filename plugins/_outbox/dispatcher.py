"""The dispatcher: claims due outbox rows, merges what waits for the same chat, and sends within the limits.

It is written against a clock and a sender so that the same code runs with the real platforms and, in tests,
on a simulated clock with a recording sender. With a sent journal (plugins/_outbox/journal.py) every send is
written to a local file before it is marked sent, so that sends the database could not record while it was away
are recorded when it is back instead of going out again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

from nonebot.log import logger

from plugins._outbox.journal import SentEntry, SentJournal
from plugins._outbox.limits import RateLimiter
from storage.models import OutboxMessage, id_of
from storage.services import outbox

MERGE_LIMIT = 1500
"""Characters: messages waiting for the same chat are merged into one up to about this length."""
SEPARATOR = "\n\n"


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0))


@dataclass
class Outgoing:
    """What goes out in one send: one outbox row, or several merged for the same chat."""

    ids: list[int]
    platform: str
    chat_key: str
    target: dict
    text: str
    priority: int
    buttons: list[tuple[str, str]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    image: dict | None = None
    """A picture to draw and send with the text (see plugins/_images.py)."""


class SendFailed(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, hold_account: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        """The platform said when to try again (seconds)."""
        self.hold_account = hold_account
        """Seconds during which the account should send nothing at all."""


class Sender(Protocol):
    def platforms(self) -> list[str]:
        """Platforms with a connected bot account in this process."""
        ...

    def account(self, platform: str) -> str | None:
        """The bot account that sends for this platform (its self id)."""
        ...

    async def send(self, message: Outgoing, account: str) -> None:
        """Send, or raise SendFailed."""
        ...


def merge(rows: list[OutboxMessage]) -> list[Outgoing]:
    """Rows in claim order; text-only rows for the same chat are merged while the text stays short (rows with
    buttons or a picture go alone)."""
    merged: list[Outgoing] = []
    open_by_chat: dict[tuple[str, str], Outgoing] = {}
    for row in rows:
        chat = (row.platform, row.chat_key)
        current = open_by_chat.get(chat)
        mergeable = not row.buttons and not row.image
        if current is not None and mergeable and not current.buttons and not current.image:
            if len(current.text) + len(SEPARATOR) + len(row.text) <= MERGE_LIMIT:
                current.ids.append(id_of(row))
                current.text += SEPARATOR + row.text
                current.mentions += [m for m in row.mentions if m not in current.mentions]
                current.priority = min(current.priority, row.priority)
                continue
        outgoing = Outgoing(
            ids=[id_of(row)],
            platform=row.platform,
            chat_key=row.chat_key,
            target=dict(row.target),
            text=row.text,
            priority=row.priority,
            buttons=[(label, command) for label, command in row.buttons],
            mentions=list(row.mentions),
            image=dict(row.image) if row.image else None,
        )
        merged.append(outgoing)
        open_by_chat[chat] = outgoing
    return merged


RETRY_AFTER = re.compile(r"retry[ _]after\D{0,4}(\d+)", re.IGNORECASE)


def retry_after_in(text: str) -> float | None:
    """Telegram's "Too Many Requests: retry after 5" (or parameters.retry_after) in an error's text."""
    match = RETRY_AFTER.search(text)
    return float(match.group(1)) if match else None


class Dispatcher:
    def __init__(
        self,
        sender: Sender,
        *,
        owner: str,
        limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        batch: int = 100,
        lookahead: float = 10.0,
        lease: timedelta = timedelta(minutes=2),
        on_sent: Callable[[Outgoing, float], Awaitable[None]] | None = None,
        journal: SentJournal | None = None,
    ) -> None:
        self.sender = sender
        self.owner = owner
        self.limiter = limiter or RateLimiter()
        self.clock = clock or RealClock()
        self.batch = batch
        self.lookahead = lookahead
        """Seconds ahead a claimed message may be scheduled; later ones go back to the queue."""
        self.lease = lease
        self.on_sent = on_sent
        self.journal = journal
        """Where sends are written before they are marked sent (None: marked in the database only)."""
        self.sent = 0
        self.parked = 0

    def _datetime(self, moment: float) -> datetime:
        return datetime.fromtimestamp(moment, timezone.utc)

    async def run_once(self) -> int:
        """Claim one batch and send what the limits allow within the look-ahead. Returns how many were handled."""
        await self.replay_journal()  # raises while the database is away: nothing is claimed then
        now = self.clock.now()
        platforms = self.sender.platforms()
        rows = await outbox.claim(self.owner, platforms, self._datetime(now), self.batch, self.lease)
        if not rows:
            return 0
        attempts = {id_of(row): row.attempts for row in rows}
        gone = await self._journaled()  # sent by another process whose lease ran out before it could mark them
        if already_sent := [row.id for row in rows if row.id in gone]:
            await outbox.mark_sent(already_sent, self._datetime(now))
            rows = [row for row in rows if row.id not in gone]
        scheduled: list[tuple[float, Outgoing, str]] = []
        later: dict[float, list[int]] = {}
        for message in merge(rows):
            account = self.sender.account(message.platform)
            if account is None:
                later.setdefault(now + 5, []).extend(message.ids)
                continue
            when = self.limiter.earliest(account, message.platform, message.chat_key, now)
            # A chat that must wait (its per-minute limit) goes back to the queue rather than hold a place in
            # the account's schedule: the account's turns go to messages that may go now.
            if when - now > self.lookahead or when > self.limiter.account_ready(account, now):
                later.setdefault(when, []).extend(message.ids)
                continue
            scheduled.append((self.limiter.reserve(account, message.platform, message.chat_key, now), message, account))
        for when, ids in later.items():
            await outbox.release(ids, self._datetime(when))
        # Go through the batch in time order on the clock; each send runs as its own task so that a slow
        # platform answer does not hold up the next send's turn.
        scheduled.sort(key=lambda item: item[0])
        sending: list[asyncio.Task[list[SentEntry]]] = []
        for when, message, account in scheduled:
            delay = when - self.clock.now()
            if delay > 0:
                await self.clock.sleep(delay)
            sending.append(asyncio.ensure_future(self._send(message, account, self.clock.now(), attempts)))
        # Every send runs to its end even when recording a failure meets a database that has gone away.
        results = await asyncio.gather(*sending, return_exceptions=True)
        sent = [entry for result in results if isinstance(result, list) for entry in result]
        await outbox.mark_sent([entry.message_id for entry in sent], self._datetime(self.clock.now()))
        await self._forget(sent)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(rows) + len(already_sent)

    async def _send(self, message: Outgoing, account: str, sent_at: float, attempts: dict[int, int]) -> list[SentEntry]:
        """Send one message; what went out (journaled, to be marked sent with the rest of the batch)."""
        try:
            await self.sender.send(message, account)
        except SendFailed as failure:
            await self._failed(message, account, failure)
            return []
        except Exception as error:  # an unexpected failure is still only this message's
            await self._failed(message, account, SendFailed(repr(error)))
            return []
        entries = [SentEntry(message_id, attempts[message_id], self.clock.now()) for message_id in message.ids]
        await self._record(entries)
        self.sent += 1
        if self.on_sent is not None:
            await self.on_sent(message, sent_at)
        return entries

    async def replay_journal(self) -> int:
        """Record in the database the sends the journal holds (they went out while it was away), then take them
        out of the journal. Returns how many rows were marked sent; raises while the database is still away."""
        entries = await self._journal_entries()
        if not entries:
            return 0
        marked = await outbox.confirm_sent(
            [(entry.message_id, entry.attempt, self._datetime(entry.sent_at)) for entry in entries]
        )
        await self._forget(entries)
        logger.info(f"outbox: {len(entries)} send(s) from the journal recorded, {marked} marked sent now")
        return marked

    async def _record(self, entries: list[SentEntry]) -> None:
        if self.journal is None:
            return
        try:
            await asyncio.to_thread(self.journal.record, entries)
        except OSError as error:  # the send is marked in the database as before; only an outage could repeat it
            logger.error(f"outbox: could not write the sent journal {self.journal.path}: {error}")

    async def _journaled(self) -> set[int]:
        return {entry.message_id for entry in await self._journal_entries()}

    async def _journal_entries(self) -> list[SentEntry]:
        if self.journal is None:
            return []
        try:
            return await asyncio.to_thread(self.journal.entries)
        except OSError as error:
            logger.error(f"outbox: could not read the sent journal {self.journal.path}: {error}")
            return []

    async def _forget(self, entries: list[SentEntry]) -> None:
        if self.journal is None or not entries:
            return
        try:
            await asyncio.to_thread(self.journal.forget, entries)
        except OSError as error:  # left in the journal: replaying it again changes nothing
            logger.error(f"outbox: could not compact the sent journal {self.journal.path}: {error}")

    async def _failed(self, message: Outgoing, account: str, failure: SendFailed) -> None:
        now = self.clock.now()
        if failure.hold_account:
            self.limiter.hold(account, now + failure.hold_account)
        retry = timedelta(seconds=failure.retry_after) if failure.retry_after is not None else None
        if failure.retry_after is not None:
            self.limiter.hold(account, now + failure.retry_after)
        parked = await outbox.mark_failed(message.ids, failure.reason, self._datetime(now), retry)
        chat = f"{message.platform} {message.chat_key}"
        if parked:
            self.parked += len(parked)
            logger.error(f"outbox: {len(parked)} message(s) to {chat} parked: {failure.reason}")
        else:
            logger.warning(f"outbox: send to {chat} failed, will retry: {failure.reason}")

    async def run_until_empty(self, idle_rounds: int = 1) -> None:
        """Dispatch until nothing is due (tests and benchmarks); waits out look-ahead releases on the clock."""
        idle = 0
        while idle < idle_rounds:
            handled = await self.run_once()
            if handled:
                idle = 0
                continue
            next_due = await outbox.next_due(self.sender.platforms())
            if next_due is None:
                idle += 1
                continue
            await self.clock.sleep(max(next_due.timestamp() - self.clock.now(), 0))
