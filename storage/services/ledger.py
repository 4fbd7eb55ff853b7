"""The points ledger: append-only, every entry with a reason and a reference, never applied twice."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PointEntry


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
) -> bool:
    """Add an entry; False when this member already has one for this reason and reference (nothing changes).

    The database's unique key is the guard: two officers closing the same task at once award once.
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
        return False
    entry = PointEntry(
        member_id=member_id,
        amount=amount,
        reason=reason,
        ref_type=ref_type,
        ref_id=ref_id,
        actor_member_id=actor_member_id,
        note=note[:200],
    )
    try:
        async with db.begin_nested():
            db.add(entry)
    except IntegrityError:
        return False
    return True


async def balance_of(db: AsyncSession, member_id: int) -> int:
    total = await db.exec(
        select(func.coalesce(func.sum(PointEntry.amount), 0)).where(PointEntry.member_id == member_id)
    )
    return int(total.one())
