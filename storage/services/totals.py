"""Running totals per member and period, kept in the same transaction as the ledger entry, check-out or verified
tip they count, so that balances and leaderboards never sum the ledger and never disagree with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import MemberTotal, PointEntry, Signup, Tip, TipStatus, utcnow
from storage.settings import settings

ALL_TIME = "all"
PERIOD_KINDS = ("week", "month", "year", "all")


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


def period_keys(moment: datetime) -> list[str]:
    return [period_key(kind, moment) for kind in PERIOD_KINDS]


@dataclass(frozen=True)
class Period:
    kind: str
    key: str
    label: str
    start: datetime | None
    """The first moment (UTC) of the period; None for all time."""
    end: datetime | None


def period_of(kind: str, moment: datetime, back: int = 0) -> Period:
    """The week, month or year a moment falls in, or `back` periods before it; all time for "all"."""
    local = moment.astimezone(settings.timezone)
    zone = settings.timezone
    if kind == "week":
        monday = (local - timedelta(days=local.weekday() + 7 * back)).date()
        start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
        end = start + timedelta(days=7)
        sunday = end - timedelta(days=1)
        label = f"{start.month}月{start.day}日至{sunday.month}月{sunday.day}日"
    elif kind == "month":
        index = local.year * 12 + local.month - 1 - back
        start = datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
        following = index + 1
        end = datetime(following // 12, following % 12 + 1, 1, tzinfo=zone)
        label = f"{start.year}年{start.month}月"
    elif kind == "year":
        start = datetime(local.year - back, 1, 1, tzinfo=zone)
        end = datetime(local.year - back + 1, 1, 1, tzinfo=zone)
        label = f"{start.year}年"
    else:
        return Period(kind="all", key=ALL_TIME, label="累计", start=None, end=None)
    return Period(kind=kind, key=period_key(kind, start), label=label, start=start, end=end)


async def _dialect(db: AsyncSession) -> str:
    return (await db.connection()).dialect.name


async def add_to_totals(
    db: AsyncSession, member_id: int, *, points: int = 0, minutes: int = 0, tips: int = 0, at: datetime | None = None
) -> None:
    """Add to the member's week, month, year and all-time rows (created on first use), in the caller's
    transaction. One statement: two processes adding at once both count."""
    at = at or utcnow()
    rows = [
        {"member_id": member_id, "period": key, "points": points, "minutes": minutes, "tips": tips, "points_at": at}
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
            "points_at": case((excluded.points != 0, excluded.points_at), else_=MemberTotal.points_at),
        },
    )
    await db.exec(statement)


async def lock_balance(db: AsyncSession, member_id: int) -> int:
    """The member's balance, with their all-time row locked until the transaction ends: spending and capped
    awards for one member take turns, so that two at once cannot both pass a check."""
    insert = postgresql_insert if await _dialect(db) == "postgresql" else sqlite_insert
    await db.exec(
        insert(MemberTotal)
        .values(member_id=member_id, period=ALL_TIME, points=0, minutes=0, tips=0, points_at=utcnow())
        .on_conflict_do_nothing(index_elements=["period", "member_id"])
    )
    row = await db.exec(
        select(MemberTotal.points)
        .where(MemberTotal.member_id == member_id, MemberTotal.period == ALL_TIME)
        .with_for_update()
    )
    return int(row.one())


async def balance_of(db: AsyncSession, member_id: int) -> int:
    row = await db.exec(
        select(MemberTotal.points).where(MemberTotal.member_id == member_id, MemberTotal.period == ALL_TIME)
    )
    return int(row.first() or 0)


@dataclass(frozen=True)
class Mismatch:
    member_id: int
    period: str
    kept: tuple[int, int, int]
    counted: tuple[int, int, int]


async def recount(db: AsyncSession) -> dict[tuple[int, str], tuple[int, int, int]]:
    """Points, minutes and named verified tips per member and period, counted from the ledger, check-outs and
    tips themselves (slow: for checks and repairs, never for a reply)."""
    counted: dict[tuple[int, str], list[int]] = {}

    def add(member_id: int, moment: datetime, index: int, amount: int) -> None:
        for key in period_keys(moment):
            counted.setdefault((member_id, key), [0, 0, 0])[index] += amount

    for member_id, amount, created_at in await db.exec(
        select(PointEntry.member_id, PointEntry.amount, PointEntry.created_at)
    ):
        add(member_id, created_at, 0, amount)
    for member_id, minutes, checked_out_at in await db.exec(
        select(Signup.member_id, Signup.minutes_served, Signup.checked_out_at).where(
            col(Signup.minutes_served).is_not(None), col(Signup.checked_out_at).is_not(None)
        )
    ):
        add(member_id, checked_out_at, 1, minutes)
    for member_id, closed_at in await db.exec(
        select(Tip.reporter_id, Tip.closed_at).where(
            Tip.status == TipStatus.verified, col(Tip.anonymous).is_(False), col(Tip.closed_at).is_not(None)
        )
    ):
        add(member_id, closed_at, 2, 1)
    return {key: (values[0], values[1], values[2]) for key, values in counted.items()}


async def mismatches(db: AsyncSession) -> list[Mismatch]:
    """Every member and period whose kept totals differ from what the ledger and records say."""
    counted = await recount(db)
    kept = {
        (row.member_id, row.period): (row.points, row.minutes, row.tips)
        for row in (await db.exec(select(MemberTotal))).all()
    }
    found = []
    for key in sorted(set(counted) | set(kept)):
        have = kept.get(key, (0, 0, 0))
        want = counted.get(key, (0, 0, 0))
        if have != want:
            found.append(Mismatch(member_id=key[0], period=key[1], kept=have, counted=want))
    return found


async def rebuild(db: AsyncSession) -> int:
    """Replace every kept total with a fresh count (after a restore, or if `mismatches` ever finds any)."""
    counted = await recount(db)
    await db.exec(MemberTotal.__table__.delete())  # type: ignore[attr-defined]
    latest = select(PointEntry.member_id, func.max(PointEntry.created_at)).group_by(PointEntry.member_id)
    last_points = dict((await db.exec(latest)).all())
    now = utcnow()
    rows = [
        {
            "member_id": member_id,
            "period": key,
            "points": values[0],
            "minutes": values[1],
            "tips": values[2],
            "points_at": last_points.get(member_id, now),
        }
        for (member_id, key), values in counted.items()
    ]
    for start in range(0, len(rows), 1000):
        await db.exec(MemberTotal.__table__.insert(), params=rows[start : start + 1000])  # type: ignore[attr-defined]
    return len(rows)
