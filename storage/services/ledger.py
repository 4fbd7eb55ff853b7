"""The points ledger: append-only, every entry with a reason and a reference, never applied twice.

Every entry also moves the member's running totals (storage.services.totals) in the same transaction, and
earnings are held to the configured daily and monthly caps (redemptions and their refunds are not earnings). A
private entry (an anonymous tip's reward) moves only what the member can spend: no cap, board or sheet sees it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PointEntry, utcnow
from storage.services.totals import NOT_EARNINGS, add_to_totals, balance_of, counts_as_earned, lock_balance, period_of
from storage.settings import settings

__all__ = ["balance_of", "capped_amount", "record_points"]

CAPPED_NOTE = "(达到积分上限，应得{asked}分)"
"""Added to the note of an entry the caps cut, and kept with it in the ledger: the note is stored data (/积分 and
the export show it as it was written, entries of earlier versions too), so its words are fixed here once."""


async def record_points(
    db: AsyncSession,
    member_id: int,
    amount: int,
    reason: str,
    ref_type: str,
    ref_id: int,
    *,
    actor_member_id: int | None = None,
    note: str = "",
    private: bool = False,
) -> PointEntry | None:
    """Add an entry; None when this member already has one for this reason and reference (nothing changes).

    The database's unique key is the guard: two officers closing the same task at once award once. A gain over
    the caps is recorded as far as the caps allow (the entry says so), so that it is still never applied twice.
    """
    existing = await db.exec(
        select(PointEntry.id).where(
            PointEntry.member_id == member_id,
            PointEntry.reason == reason,
            PointEntry.ref_type == ref_type,
            PointEntry.ref_id == ref_id,
        )
    )
    if existing.first() is not None:
        return None
    now = utcnow()
    granted = amount
    earned = counts_as_earned(reason, private)
    if amount > 0 and earned and (settings.daily_cap or settings.monthly_cap):
        await lock_balance(db, member_id)
        granted = await capped_amount(db, member_id, amount, now)
        if granted < amount:
            note = f"{note} {CAPPED_NOTE.format(asked=amount)}".strip()
    entry = PointEntry(
        member_id=member_id,
        amount=granted,
        reason=reason,
        ref_type=ref_type,
        ref_id=ref_id,
        actor_member_id=actor_member_id,
        note=note[:200],
        private=private,
        created_at=now,
    )
    try:
        async with db.begin_nested():
            db.add(entry)
    except IntegrityError:
        return None
    if granted:
        await add_to_totals(db, member_id, points=granted if earned else 0, spendable=granted, at=now)
    return entry


async def capped_amount(db: AsyncSession, member_id: int, amount: int, now: datetime) -> int:
    """How much of a gain fits under the daily and monthly caps, given what the member earned already."""
    room = amount
    local = now.astimezone(settings.timezone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for cap, since in ((settings.daily_cap, day_start), (settings.monthly_cap, period_of("month", now).start)):
        if cap:
            earned = await db.exec(
                select(func.coalesce(func.sum(PointEntry.amount), 0)).where(
                    PointEntry.member_id == member_id,
                    col(PointEntry.amount) > 0,
                    col(PointEntry.reason).not_in(NOT_EARNINGS),
                    col(PointEntry.private).is_(False),
                    col(PointEntry.created_at) >= since,
                )
            )
            room = min(room, max(cap - int(earned.one()), 0))
    return room
