"""Anonymous tips' rewards: paid in a weekly batch, per unit, only to several reporters at once, seen by them alone.

Paying a reward when the tip is verified would let an officer match the two: the same day, the same amount, one
member's balance or place moving. So a verified anonymous tip's reward waits (Tip.reward_state = due). From the
weekly payout time (`[tips] anonymous_payout`), each unit whose due rewards belong to at least
`[tips] anonymous_min_reporters` different reporters is paid, all of them in one transaction at one moment; a unit
with fewer waits for a later week. At most one payout per unit and week (the AnonymousPayout row is the guard, so
several bot processes pay once). The entries are private (storage.services.ledger): the reporter sees them in
/积分 and can spend them; no board, sheet, cap or figure anyone else reads contains them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import session
from storage.models import AnonymousPayout, LedgerReason, RewardState, Tip, id_of, utcnow
from storage.services import notices
from storage.services.ledger import record_points
from storage.services.outbox import tell_member
from storage.services.retry import retry_on_conflict
from storage.services.totals import balance_of, period_key, weekly_time_passed
from storage.settings import settings

ANONYMOUS_REWARD_NOTE = "匿名线索奖励"
"""The ledger note of a paid anonymous reward (no tip number)."""


@dataclass(frozen=True)
class AnonymousRewardPaidNotice:
    """To the reporter alone: their anonymous tips' rewards of the week have been paid."""

    points: int
    balance: int


def payout_due(now: datetime) -> bool:
    """Whether this week's payout time has come."""
    return weekly_time_passed(settings.anonymous_payout_at, now)


@dataclass(frozen=True)
class Payout:
    unit_id: int
    reporters: int
    points: int


async def pay_due_rewards(now: datetime | None = None) -> list[Payout]:
    """Pay every unit whose due anonymous rewards may be paid now; what was paid."""
    now = now or utcnow()
    if not payout_due(now):
        return []
    async with session() as db:
        unit_ids = (
            await db.exec(
                select(Tip.unit_id)
                .where(Tip.reward_state == RewardState.due)
                .group_by(col(Tip.unit_id))
                .having(func.count(func.distinct(Tip.reporter_id)) >= settings.anonymous_min_reporters)
            )
        ).all()
    paid = []
    for unit_id in unit_ids:
        payout = await _pay_unit(unit_id, now)
        if payout is not None:
            paid.append(payout)
    return paid


@retry_on_conflict
async def _pay_unit(unit_id: int, now: datetime) -> Payout | None:
    """One unit's due rewards, all in one transaction; None when the unit was paid this week already (here or by
    another process) or no longer has enough reporters due."""
    week = period_key("week", now)
    async with session() as db:
        done = await db.exec(
            select(AnonymousPayout.id).where(AnonymousPayout.unit_id == unit_id, AnonymousPayout.period == week)
        )
        if done.first() is not None:
            return None
        due = (
            await db.exec(
                select(Tip)
                .where(Tip.unit_id == unit_id, Tip.reward_state == RewardState.due)
                .order_by(col(Tip.id))
                .with_for_update()
            )
        ).all()
        reporters = {tip.reporter_id for tip in due}
        if len(reporters) < settings.anonymous_min_reporters:
            return None
        payout = AnonymousPayout(
            unit_id=unit_id,
            period=week,
            reporters=len(reporters),
            points=sum(tip.points or 0 for tip in due),
            paid_at=now,
        )
        try:
            async with db.begin_nested():
                db.add(payout)
        except IntegrityError:
            return None  # another process paid this unit this week a moment ago
        received: dict[int, int] = {}
        for tip in due:
            await record_points(
                db,
                tip.reporter_id,
                tip.points or 0,
                LedgerReason.tip,
                "tip",
                id_of(tip),
                note=ANONYMOUS_REWARD_NOTE,
                private=True,
            )
            received[tip.reporter_id] = received.get(tip.reporter_id, 0) + (tip.points or 0)
            tip.reward_state = RewardState.paid
            tip.payout_id = payout.id
            db.add(tip)
        for reporter_id, points in received.items():
            balance = await balance_of(db, reporter_id)
            notice = AnonymousRewardPaidNotice(points=points, balance=balance)
            await tell_member(db, reporter_id, notices.render(notice))
        return Payout(unit_id=unit_id, reporters=len(reporters), points=payout.points)
