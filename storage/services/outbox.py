"""The outbox: every message the bot sends on its own waits here as a row until it has been sent.

Services enqueue in the same transaction as the change the message is about, so a notice is never lost and
never exists without its cause. A dispatcher (plugins/outbox) claims due rows under a lease, sends them, and
marks them sent; a row is marked as being sent before the send and as sent after it, so only what was in flight
at a crash can go out twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.models import OutboxMessage, OutboxState, PlatformIdentity, Priority, id_of, utcnow

ADAPTERS = {"onebot": "OneBot V11", "telegram": "Telegram", "console": "Console"}
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_MAX = timedelta(minutes=30)


@dataclass(frozen=True)
class Destination:
    platform: str
    chat_id: str
    private: bool = False

    @property
    def chat_key(self) -> str:
        return f"{'user' if self.private else 'group'}:{self.chat_id}"

    def target(self) -> dict[str, object]:
        """The destination as alconna's Target.dump() writes it (Target.load() reads it back)."""
        return {
            "id": self.chat_id,
            "parent_id": "",
            "channel": False,
            "private": self.private,
            "self_id": None,
            "extra": {},
            "scope": None,
            "adapter": ADAPTERS.get(self.platform),
            "platforms": None,
        }


async def enqueue(
    db: AsyncSession,
    destination: Destination,
    text: str,
    *,
    priority: Priority = Priority.personal,
    buttons: list[tuple[str, str]] | None = None,
    mentions: list[str] | None = None,
    not_before: datetime | None = None,
    dedupe_key: str | None = None,
    image: dict[str, Any] | None = None,
    best_effort: bool = False,
) -> bool:
    """Add a message to the outbox within the caller's transaction; False when `dedupe_key` was already there.
    A `best_effort` message is tried once: if the platform refuses it, it is dropped, not retried."""
    if dedupe_key is not None:
        existing = await db.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing.first() is not None:
            return False
    message = OutboxMessage(
        platform=destination.platform,
        chat_key=destination.chat_key,
        target=destination.target(),
        text=text,
        buttons=[list(button) for button in buttons or []],
        mentions=list(mentions or []),
        priority=int(priority),
        not_before=not_before or utcnow(),
        dedupe_key=dedupe_key,
        image=image,
        best_effort=best_effort,
    )
    try:
        async with db.begin_nested():
            db.add(message)
    except IntegrityError:
        return False
    return True


@dataclass
class Message:
    destination: Destination
    text: str
    priority: Priority = Priority.personal
    buttons: list[tuple[str, str]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    not_before: datetime | None = None
    dedupe_key: str | None = None
    image: dict[str, Any] | None = None
    """A picture drawn when the message is sent (see plugins/_images.py), from this description."""


async def enqueue_all(db: AsyncSession, messages: list[Message]) -> int:
    """Add many messages in one statement (for fan-outs); the caller's transaction must own what they are about,
    as a claimed reminder does, so that none of them is enqueued twice."""
    if not messages:
        return 0
    now = utcnow()
    rows = [
        {
            "platform": message.destination.platform,
            "chat_key": message.destination.chat_key,
            "target": message.destination.target(),
            "text": message.text,
            "buttons": [list(button) for button in message.buttons],
            "mentions": list(message.mentions),
            "priority": int(message.priority),
            "not_before": message.not_before or now,
            "state": OutboxState.pending.value,
            "attempts": 0,
            "best_effort": False,
            "dedupe_key": message.dedupe_key,
            "image": message.image,
            "created_at": now,
        }
        for message in messages
    ]
    for start in range(0, len(rows), 1000):
        await db.exec(insert(OutboxMessage), params=rows[start : start + 1000])
    return len(rows)


async def tell_member(db: AsyncSession, member_id: int, text: str, **options) -> int:
    """Privately to every platform account the member has, in the caller's transaction."""
    accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member_id))).all()
    for account in accounts:
        await enqueue(db, Destination(account.platform, account.user_id, private=True), text, **options)
    return len(accounts)


async def enqueue_many(db: AsyncSession, destinations: list[Destination], text: str, **options) -> int:
    return sum([await enqueue(db, destination, text, **options) for destination in destinations])


async def claim(owner: str, platforms: list[str], now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
    """Take up to `limit` due rows for these platforms: pending ones, and ones whose sender's lease ran out.

    On PostgreSQL the rows are locked with SKIP LOCKED, so several processes never take the same row; SQLite
    has one writer at a time. The rows are marked as being sent before this returns.
    """
    if not platforms or limit <= 0:
        return []
    async with session() as db:
        due = or_(
            (col(OutboxMessage.state) == OutboxState.pending) & (col(OutboxMessage.not_before) <= now),
            (col(OutboxMessage.state) == OutboxState.sending) & (col(OutboxMessage.lease_until) < now),
        )
        statement = (
            select(OutboxMessage)
            .where(due, col(OutboxMessage.platform).in_(platforms))
            .order_by(col(OutboxMessage.priority), col(OutboxMessage.not_before), col(OutboxMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = list((await db.exec(statement)).all())
        for row in rows:
            row.state = OutboxState.sending
            row.lease_owner = owner
            row.lease_until = now + lease
            row.attempts += 1
            db.add(row)
        return rows


async def mark_sent(ids: list[int], now: datetime) -> None:
    if not ids:
        return
    async with session() as db:
        await db.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .values(state=OutboxState.sent, sent_at=now, lease_owner=None, lease_until=None, last_error=None)
        )


async def confirm_sent(sends: list[tuple[int, int, datetime]]) -> int:
    """Record sends the database missed (it was away when they went out): (id, attempt, sent at) each. A row is
    marked sent only while it is still being sent in that attempt; one another process has claimed since is left to
    it. Returns how many rows were marked."""
    if not sends:
        return 0
    marked = 0
    async with session() as db:
        for message_id, attempt, sent_at in sends:
            result = await db.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message_id,
                    col(OutboxMessage.attempts) == attempt,
                    col(OutboxMessage.state) == OutboxState.sending,
                )
                .values(state=OutboxState.sent, sent_at=sent_at, lease_owner=None, lease_until=None, last_error=None)
            )
            marked += result.rowcount or 0
    return marked


async def release(ids: list[int], not_before: datetime) -> None:
    """Give rows back unsent (the limits would not let them go soon): no attempt is counted."""
    if not ids:
        return
    async with session() as db:
        await db.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.state) == OutboxState.sending)
            .values(
                state=OutboxState.pending,
                not_before=not_before,
                lease_owner=None,
                lease_until=None,
                attempts=OutboxMessage.attempts - 1,
            )
        )


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


async def mark_failed(ids: list[int], error: str, now: datetime, retry_after: timedelta | None = None) -> list[int]:
    """A failed send: retried after a backoff (or the platform's retry time); parked after MAX_ATTEMPTS (a best-effort
    message is dropped at its first refusal).

    Returns the ids that were parked.
    """
    parked: list[int] = []
    if not ids:
        return parked
    async with session() as db:
        rows = (await db.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))).all()
        for row in rows:
            row.last_error = error[:500]
            row.lease_owner = None
            row.lease_until = None
            if row.best_effort and retry_after is None:
                row.state = OutboxState.dropped
            elif row.attempts >= MAX_ATTEMPTS and retry_after is None:
                row.state = OutboxState.parked
                parked.append(id_of(row))
            else:
                row.state = OutboxState.pending
                row.not_before = now + (retry_after or backoff(row.attempts))
                if retry_after is not None:
                    row.attempts -= 1  # being told to wait is not a failure of the message
            db.add(row)
    return parked


@dataclass
class OutboxSummary:
    counts: dict[str, int]
    parked: list[OutboxMessage]
    oldest_pending: datetime | None


async def summary(limit: int = 10) -> OutboxSummary:
    """For administrators: how many wait, how many were sent, and the parked ones with their reasons."""
    async with session() as db:
        counts = dict((await db.exec(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))).all())
        parked = (
            await db.exec(
                select(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.parked)
                .order_by(col(OutboxMessage.id).desc())
                .limit(limit)
            )
        ).all()
        oldest = (
            await db.exec(select(func.min(OutboxMessage.not_before)).where(OutboxMessage.state == OutboxState.pending))
        ).one()
        return OutboxSummary(counts=counts, parked=list(parked), oldest_pending=oldest)


async def retry_parked(ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Put parked messages back in the queue (all of them, or the ones named), due at once."""
    async with session() as db:
        statement = update(OutboxMessage).where(col(OutboxMessage.state) == OutboxState.parked)
        if ids:
            statement = statement.where(col(OutboxMessage.id).in_(ids))
        due = now or utcnow()
        result = await db.exec(statement.values(state=OutboxState.pending, attempts=0, not_before=due))
        return result.rowcount or 0


async def next_due(platforms: list[str]) -> datetime | None:
    """When the next pending message for these platforms becomes due (None: nothing waits)."""
    if not platforms:
        return None
    async with session() as db:
        statement = select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.state == OutboxState.pending, col(OutboxMessage.platform).in_(platforms)
        )
        value = (await db.exec(statement)).one()
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
