"""The dispatcher: claims due outbox rows, merges what waits for the same chat, and sends within the limits.

It is written against a clock and a sender so that the same code runs with the real platforms and, in tests,
on a simulated clock with a recording sender.
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

from plugins._outbox.limits import RateLimiter
from storage.models import OutboxMessage
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

    def account(self, platform: str) -> str | None:
        """The bot account that sends for this platform (its self id)."""

    async def send(self, message: Outgoing, account: str) -> None:
        """Send, or raise SendFailed."""


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
                current.ids.append(row.id)
                current.text += SEPARATOR + row.text
                current.mentions += [m for m in row.mentions if m not in current.mentions]
                current.priority = min(current.priority, row.priority)
                continue
        outgoing = Outgoing(
            ids=[row.id],
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
        self.sent = 0
        self.parked = 0

    def _datetime(self, moment: float) -> datetime:
        return datetime.fromtimestamp(moment, timezone.utc)

    async def run_once(self) -> int:
        """Claim one batch and send what the limits allow within the look-ahead. Returns how many were handled."""
        now = self.clock.now()
        platforms = self.sender.platforms()
        rows = await outbox.claim(self.owner, platforms, self._datetime(now), self.batch, self.lease)
        if not rows:
            return 0
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
        sending: list[asyncio.Task[list[int]]] = []
        for when, message, account in scheduled:
            delay = when - self.clock.now()
            if delay > 0:
                await self.clock.sleep(delay)
            sending.append(asyncio.ensure_future(self._send(message, account, self.clock.now())))
        sent_ids = [message_id for ids in await asyncio.gather(*sending) for message_id in ids]
        await outbox.mark_sent(sent_ids, self._datetime(self.clock.now()))
        return len(rows)

    async def _send(self, message: Outgoing, account: str, sent_at: float) -> list[int]:
        """Send one message; the ids that went out (to be marked sent with the rest of the batch)."""
        try:
            await self.sender.send(message, account)
        except SendFailed as failure:
            await self._failed(message, account, failure)
            return []
        except Exception as error:  # an unexpected failure is still only this message's
            await self._failed(message, account, SendFailed(repr(error)))
            return []
        self.sent += 1
        if self.on_sent is not None:
            await self.on_sent(message, sent_at)
        return message.ids

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
