"""Running totals per member and period, kept in the same transaction as the ledger entry, check-out or verified
tip they count, so that balances and leaderboards never sum the ledger and never disagree with it.

Two kinds of points are kept apart. `points` is what a member earned in the period as anyone may see it (boards,
honours, officers' sheets): attendance, awards, penalties, named tips; spending and refunds do not lower it, and an
anonymous tip's reward is not in it. `spendable`, on the all-time row, is what the member may spend: every ledger
entry, their private ones included; only the member is shown it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.models import LedgerReason, MemberTotal, PointEntry, Signup, Tip, TipStatus, utcnow
from storage.settings import settings

ALL_TIME = "all"
PERIOD_KINDS = ("week", "month", "year", "all")
NO_POINTS_YET = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""points_at of a row without public points: a row made by minutes or a private reward carries no moment that a
board's order could show."""
NOT_EARNINGS = (LedgerReason.redemption.value, LedgerReason.refund.value)
"""Reasons that move what a member can spend but not what they earned: spending points and getting them back."""


def counts_as_earned(reason: str, private: bool) -> bool:
    """Whether a ledger entry counts in the points everyone may see (boards, sheets, caps)."""
    value = reason.value if isinstance(reason, LedgerReason) else reason  # str() of the enum is "LedgerReason.x"
    return not private and value not in NOT_EARNINGS


def period_key(kind: str, moment: datetime) -> str:
    """The period a moment falls in, in the configured time zone: w2026-48 (ISO week), m2026-11, y2026, all."""
    local = moment.astimezone(settings.timezone)
    if kind == "week":
        year, week, _ = local.isocalendar()
        return f"w{year}-{week:02d}"
    if kind == "month":
        return f"m{local.year}-{local.month:02d}"
    if kind == "year":
        return f"y{local.year}"
    return ALL_TIME


def weekly_time_passed(at: tuple[int, int, int], now: datetime) -> bool:
    """Whether this week's (weekday with Monday 0, hour, minute) has come, in the configured time zone."""
    weekday, hour, minute = at
    local = now.astimezone(settings.timezone)
    start_of_week = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return local >= start_of_week + timedelta(days=weekday, hours=hour, minutes=minute)


def period_keys(moment: datetime) -> list[str]:
    return [period_key(kind, moment) for kind in PERIOD_KINDS]


@dataclass(frozen=True)
class Period:
    """A week, month or year in the configured time zone, or all time (the face names it: 2026年11月)."""

    kind: str
    """week, month, year or all."""
    key: str
    start: datetime | None
    """The first moment of the period (in the configured time zone); None for all time."""
    end: datetime | None
    """The moment after its last; None for all time."""


def period_of(kind: str, moment: datetime, back: int = 0) -> Period:
    """The week, month or year a moment falls in, or `back` periods before it; all time for "all"."""
    local = moment.astimezone(settings.timezone)
    zone = settings.timezone
    if kind == "week":
        monday = (local - timedelta(days=local.weekday() + 7 * back)).date()
        start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
        end = start + timedelta(days=7)
    elif kind == "month":
        index = local.year * 12 + local.month - 1 - back
        start = datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
        following = index + 1
        end = datetime(following // 12, following % 12 + 1, 1, tzinfo=zone)
    elif kind == "year":
        start = datetime(local.year - back, 1, 1, tzinfo=zone)
        end = datetime(local.year - back + 1, 1, 1, tzinfo=zone)
    else:
        return Period(kind="all", key=ALL_TIME, start=None, end=None)
    return Period(kind=kind, key=period_key(kind, start), start=start, end=end)


async def _dialect(db: AsyncSession) -> str:
    return (await db.connection()).dialect.name


async def add_to_totals(
    db: AsyncSession,
    member_id: int,
    *,
    points: int = 0,
    minutes: int = 0,
    tips: int = 0,
    spendable: int = 0,
    at: datetime | None = None,
) -> None:
    """Add to the member's week, month, year and all-time rows (created on first use), in the caller's
    transaction; `spendable` goes to the all-time row. One statement: two processes adding at once both count."""
    at = at or utcnow()
    rows = [
        {
            "member_id": member_id,
            "period": key,
            "points": points,
            "minutes": minutes,
            "tips": tips,
            "spendable": spendable if key == ALL_TIME else 0,
            "points_at": at if points else NO_POINTS_YET,
        }
        for key in period_keys(at)
    ]
    insert = postgresql_insert if await _dialect(db) == "postgresql" else sqlite_insert
    statement = insert(MemberTotal).values(rows)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["period", "member_id"],
        set_={
            "points": MemberTotal.points + excluded.points,
            "minutes": MemberTotal.minutes + excluded.minutes,
            "tips": MemberTotal.tips + excluded.tips,
            "spendable": MemberTotal.spendable + excluded.spendable,
            "points_at": case((excluded.points != 0, excluded.points_at), else_=MemberTotal.points_at),
        },
    )
    await db.exec(statement)


async def lock_balance(db: AsyncSession, member_id: int) -> int:
    """What the member can spend, with their all-time row locked until the transaction ends: spending and capped
    awards for one member take turns, so that two at once cannot both pass a check."""
    insert = postgresql_insert if await _dialect(db) == "postgresql" else sqlite_insert
    await db.exec(
        insert(MemberTotal)
        .values(member_id=member_id, period=ALL_TIME, points=0, minutes=0, tips=0, spendable=0, points_at=NO_POINTS_YET)
        .on_conflict_do_nothing(index_elements=["period", "member_id"])
    )
    row = await db.exec(
        select(MemberTotal.spendable)
        .where(MemberTotal.member_id == member_id, MemberTotal.period == ALL_TIME)
        .with_for_update()
    )
    return int(row.one())


async def balance_of(db: AsyncSession, member_id: int) -> int:
    """What the member can spend (for the member's own eyes: it holds their anonymous rewards)."""
    row = await db.exec(
        select(MemberTotal.spendable).where(MemberTotal.member_id == member_id, MemberTotal.period == ALL_TIME)
    )
    return int(row.first() or 0)


Counts = tuple[int, int, int, int]
"""Points earned as seen, minutes served, named verified tips, and (on the all-time row) what can be spent."""


@dataclass(frozen=True)
class Mismatch:
    member_id: int
    period: str
    kept: Counts
    counted: Counts


async def recount(db: AsyncSession) -> dict[tuple[int, str], Counts]:
    """Points, minutes, named verified tips and what can be spent, per member and period, counted from the ledger,
    check-outs and tips themselves (slow: for checks and repairs, never for a reply)."""
    counted: dict[tuple[int, str], list[int]] = {}

    def add(member_id: int, moment: datetime, index: int, amount: int) -> None:
        for key in period_keys(moment):
            row = counted.setdefault((member_id, key), [0, 0, 0, 0])  # every period's row, as add_to_totals makes
            if index != 3 or key == ALL_TIME:
                row[index] += amount

    entries = Select(  # sqlmodel's select() is typed for at most four columns
        col(PointEntry.member_id),
        col(PointEntry.amount),
        col(PointEntry.reason),
        col(PointEntry.private),
        col(PointEntry.created_at),
    )
    for member_id, amount, reason, private, created_at in await db.exec(entries):
        if counts_as_earned(reason, private):
            add(member_id, created_at, 0, amount)
        add(member_id, created_at, 3, amount)
    for member_id, minutes, checked_out_at in await db.exec(
        select(Signup.member_id, Signup.minutes_served, Signup.checked_out_at).where(
            col(Signup.minutes_served).is_not(None), col(Signup.checked_out_at).is_not(None)
        )
    ):
        if minutes is not None and checked_out_at is not None:  # as the query asks
            add(member_id, checked_out_at, 1, minutes)
    for member_id, closed_at in await db.exec(
        select(Tip.reporter_id, Tip.closed_at).where(
            Tip.status == TipStatus.verified, col(Tip.anonymous).is_(False), col(Tip.closed_at).is_not(None)
        )
    ):
        if closed_at is not None:  # as the query asks
            add(member_id, closed_at, 2, 1)
    return {key: (values[0], values[1], values[2], values[3]) for key, values in counted.items()}


async def mismatches(db: AsyncSession) -> list[Mismatch]:
    """Every member and period whose kept totals differ from what the ledger and records say."""
    counted = await recount(db)
    kept = {
        (row.member_id, row.period): (row.points, row.minutes, row.tips, row.spendable)
        for row in (await db.exec(select(MemberTotal))).all()
    }
    found = []
    for key in sorted(set(counted) | set(kept)):
        have = kept.get(key, (0, 0, 0, 0))
        want = counted.get(key, (0, 0, 0, 0))
        if have != want:
            found.append(Mismatch(member_id=key[0], period=key[1], kept=have, counted=want))
    return found


async def rebuild(db: AsyncSession) -> int:
    """Replace every kept total with a fresh count (after a restore, or if `mismatches` ever finds any)."""
    counted = await recount(db)
    await db.exec(MemberTotal.__table__.delete())  # type: ignore[attr-defined]
    latest = (
        select(PointEntry.member_id, func.max(PointEntry.created_at))
        .where(col(PointEntry.private).is_(False), col(PointEntry.reason).not_in(NOT_EARNINGS))
        .group_by(col(PointEntry.member_id))
    )
    last_points = dict((await db.exec(latest)).all())
    rows = [
        {
            "member_id": member_id,
            "period": key,
            "points": values[0],
            "minutes": values[1],
            "tips": values[2],
            "spendable": values[3],
            "points_at": last_points.get(member_id, NO_POINTS_YET) if values[0] else NO_POINTS_YET,
        }
        for (member_id, key), values in counted.items()
    ]
    for start in range(0, len(rows), 1000):
        await db.exec(MemberTotal.__table__.insert(), params=rows[start : start + 1000])  # type: ignore[attr-defined]
    return len(rows)
