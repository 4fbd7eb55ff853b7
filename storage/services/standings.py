"""Points and standings: /积分, leaderboards by team, unit or city, officers' awards, and the weekly board and
monthly honours posted to every team's groups. Everything here reads the running totals (storage.services.totals)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from sqlalchemy import Connection, bindparam, func, or_, true
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.db import run_reading, session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    AuditLog,
    Broadcast,
    GroupBinding,
    LedgerReason,
    Member,
    MembershipStatus,
    MemberTotal,
    PointEntry,
    Priority,
    Team,
    TeamMembership,
    Unit,
    detached,
    id_of,
    table_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor, ChatGroup, Where
from storage.services.ledger import record_points
from storage.services.organisation import (
    GROUP_PLACE,
    GroupTeam,
    audit,
    covers_member,
    group_place_params,
    group_team_from,
    in_unit_or_below,
    team_at_on,
)
from storage.services.outbox import Destination, Message, enqueue_all, tell_member
from storage.services.people import (
    PersonRef,
    Rights,
    find_person,
    rights_and_place_on,
    rights_beside,
    rights_of,
    rights_on,
)
from storage.services.retry import retry_on_conflict
from storage.services.totals import ALL_TIME, Period, balance_of, lock_balance, period_of, weekly_time_passed
from storage.services.when import DateRange
from storage.settings import settings

BOARD_SIZE = 10
MAX_AWARD = 1000
MAX_REASON = 50
"""Characters of an award's reason at most."""
REPEAT_WINDOW = timedelta(minutes=1)
"""The same award by the same officer again within this is taken for a double send and not applied twice."""


@dataclass(frozen=True)
class Standing:
    rank: int
    member_id: int
    name: str
    value: int


@dataclass(frozen=True)
class TeamStanding:
    rank: int
    team_id: int
    name: str
    members: int
    total: int

    @property
    def per_member(self) -> float:
        return self.total / self.members if self.members else 0.0


@dataclass
class Board:
    period: Period
    scope: str
    """team, unit or city."""
    scope_name: str | None
    """The team's or the unit's name; None for the city."""
    metric: str
    rows: list[Standing] = field(default_factory=list)
    own: Standing | None = None
    by_team: list[TeamStanding] | None = None
    """Set for a board of teams by points per member."""
    own_team: TeamStanding | None = None


@dataclass(frozen=True)
class _Scope:
    kind: str
    name: str | None
    team: Team | None = None
    unit: Unit | None = None


def _members_of(kind: str | None):
    """The members a board of this kind of scope ranks, as a subquery with bound parameters (_scope_params gives
    them); None for the whole city. Built once for each kind (a statement built for each call cost a /积分 1.5 ms)."""
    statement = select(TeamMembership.member_id).where(TeamMembership.status == MembershipStatus.active)
    if kind == "team":
        return statement.where(col(TeamMembership.team_id) == bindparam("team_id"))
    if kind == "unit":
        return (
            statement.join(Team, col(Team.id) == col(TeamMembership.team_id))
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(or_(col(Unit.path) == bindparam("unit_path"), col(Unit.path).startswith(bindparam("unit_below"))))
        )
    return None


def _scope_params(scope: _Scope) -> dict[str, object]:
    """The parameters of _members_of's subquery for this scope."""
    if scope.team is not None:
        return {"team_id": scope.team.id}
    if scope.unit is not None:
        return {"unit_path": scope.unit.path, "unit_below": scope.unit.path + "/"}
    return {}


def _ranked_kind(scope: _Scope) -> str | None:
    return "team" if scope.team is not None else "unit" if scope.unit is not None else None


_RIGHTS_IN_GROUP = rights_beside(GROUP_PLACE)
"""Who asks and the team of the group chat they ask in, in one statement."""


@dataclass(frozen=True)
class _Asking:
    """Who asks, and where: the team of the group chat when it was read with the rights (`located_read`)."""

    rights: Rights
    located: GroupTeam | None = None
    located_read: bool = False


def _asking(connection: Connection, caller: Actor, where: Where | None) -> _Asking:
    """The caller's rights and, in a group chat, the group's team, in one statement (people.rights_beside)."""
    if not isinstance(where, ChatGroup):
        return _Asking(rights_on(connection, caller))
    rights, rows = rights_and_place_on(connection, caller, _RIGHTS_IN_GROUP, group_place_params(where))
    row = rows[0] if rows else None
    if row is None:  # no member: the group's team was not read
        return _Asking(rights)
    return _Asking(rights, group_team_from(row), located_read=True)


def _home_team(connection: Connection, asking: _Asking, where: Where | None) -> tuple[Team, Unit] | None:
    """The team a board is about: the team of where it is asked for, or else the caller's first team."""
    rights = asking.rights
    if where is not None:
        found = asking.located if asking.located_read else team_at_on(connection, where)
        if found is not None:
            return found.team, found.unit
    if rights.member is None:
        return None
    row = connection.execute(_FIRST_TEAM, {"member_id": rights.member.id}).first()
    team, unit = (detached(Team, row), detached(Unit, row)) if row is not None else (None, None)
    return (team, unit) if team is not None and unit is not None else None


_FIRST_TEAM = (
    core_select(table_of(Team), table_of(Unit))
    .join(table_of(Unit), table_of(Unit).c.id == table_of(Team).c.unit_id)
    .join(table_of(TeamMembership), table_of(TeamMembership).c.team_id == table_of(Team).c.id)
    .where(
        table_of(TeamMembership).c.member_id == bindparam("member_id"),
        table_of(TeamMembership).c.status == MembershipStatus.active.value,
    )
    .order_by(table_of(TeamMembership).c.id)
    .limit(1)
)
"""The member `member_id`'s first team (the one they joined first) with its unit."""


def _scope(connection: Connection, asking: _Asking, where: Where | None, kind: str) -> _Scope:
    rights = asking.rights
    if kind == "city":
        return _Scope(kind="city", name=None)
    home = _home_team(connection, asking, where)
    if kind == "team":
        if home is None:
            raise DomainError("standings.no_team_here")
        return _Scope(kind="team", name=home[0].name, team=home[0], unit=home[1])
    if home is not None:
        return _Scope(kind="unit", name=home[1].name, unit=home[1])
    if rights.officer_units:
        return _Scope(kind="unit", name=rights.officer_units[0].name, unit=rights.officer_units[0])
    raise DomainError("standings.no_team_here")


@cache
def _rank_statement(kind: str | None, metric: str):
    """The top of a board: members of the scope (of this kind) by the metric in the period `key`, at most `limit`."""
    value = getattr(MemberTotal, metric)
    statement = (
        select(MemberTotal.member_id, Member.name, value)
        .join(Member, col(Member.id) == col(MemberTotal.member_id))
        .where(col(MemberTotal.period) == bindparam("key"), value > 0)
        .order_by(value.desc(), col(MemberTotal.points).desc(), col(MemberTotal.points_at), col(MemberTotal.member_id))
        .limit(bindparam("limit"))
    )
    members = _members_of(kind)
    return statement if members is None else statement.where(col(MemberTotal.member_id).in_(members))


def _rank_rows(connection: Connection, key: str, metric: str, scope: _Scope, limit: int) -> list[Standing]:
    params = {"key": key, "limit": limit, **_scope_params(scope)}
    rows = connection.execute(_rank_statement(_ranked_kind(scope), metric), params).all()
    standings: list[Standing] = []
    for index, (member_id, name, amount) in enumerate(rows):
        rank = standings[-1].rank if standings and standings[-1].value == amount else index + 1
        standings.append(Standing(rank=rank, member_id=member_id, name=name, value=amount))
    return standings


@cache
def _board_and_place_statement(kind: str | None, metric: str):
    """_rank_statement's rows beside the member `member_id`'s own value and how many are ahead of them
    (_places_statement): one row of those with the top's rows joined ON TRUE (one row with NULLs when nobody is
    on the board), in the board's order."""
    value = getattr(MemberTotal, metric)
    top = (
        _rank_statement(kind, metric)
        .add_columns(col(MemberTotal.points).label("order_points"), col(MemberTotal.points_at).label("order_at"))
        .subquery("top")
    )
    own = _places_statement(metric, (kind,), False).subquery("own")
    mine, ahead = own.c
    return (
        core_select(mine.label("own_value"), ahead.label("own_ahead"), top.c.member_id, top.c.name, top.c[value.key])
        .select_from(own)
        .outerjoin(top, true())
        .order_by(top.c[value.key].desc(), top.c.order_points.desc(), top.c.order_at, top.c.member_id)
    )


def _top_and_own(
    connection: Connection, key: str, metric: str, scope: _Scope, member: Member, limit: int
) -> tuple[list[Standing], Standing | None]:
    """The top of the board and the member's own place on it, in one statement."""
    params = {"key": key, "limit": limit, "member_id": id_of(member), **_scope_params(scope)}
    rows = connection.execute(_board_and_place_statement(_ranked_kind(scope), metric), params).all()
    standings: list[Standing] = []
    for index, (_, _, member_id, name, amount) in enumerate(row for row in rows if row.member_id is not None):
        rank = standings[-1].rank if standings and standings[-1].value == amount else index + 1
        standings.append(Standing(rank=rank, member_id=member_id, name=name, value=amount))
    own = _places(rows[0].own_value, [rows[0].own_ahead], member)[0] if rows else None
    return standings, own


@cache
def _places_statement(metric: str, kinds: tuple[str | None, ...], with_balance: bool):
    """One statement of scalar subqueries: with_balance, the member's spendable balance and what anonymous tips paid
    of it; then the member `member_id`'s own value in the period `key`, and how many are ahead of them among the
    members of each kind of scope in `kinds` (its parameters from _scope_params: a team's and a unit's differ)."""
    value = getattr(MemberTotal, metric)
    member_id, key = bindparam("member_id"), bindparam("key")
    mine = select(value).where(col(MemberTotal.period) == key, col(MemberTotal.member_id) == member_id)
    columns = [mine.scalar_subquery()]
    for kind in kinds:
        ahead = (
            select(func.count())
            .select_from(MemberTotal)
            .where(col(MemberTotal.period) == key, value > mine.scalar_subquery())
        )
        members = _members_of(kind)
        if members is not None:
            ahead = ahead.where(col(MemberTotal.member_id).in_(members))
        columns.append(ahead.scalar_subquery())
    if with_balance:
        spendable = select(MemberTotal.spendable).where(
            col(MemberTotal.member_id) == member_id, MemberTotal.period == ALL_TIME
        )
        private = select(func.coalesce(func.sum(PointEntry.amount), 0)).where(
            col(PointEntry.member_id) == member_id, col(PointEntry.private).is_(True)
        )
        columns = [spendable.scalar_subquery(), private.scalar_subquery(), *columns]
    return select(*columns)


def _places(found: int | None, ahead_counts: list[int], member: Member) -> list[Standing | None]:
    """Places from _places_statement's values: none for a member with nothing in the period (equal values share
    one)."""
    if not found or found <= 0:
        return [None for _ in ahead_counts]
    return [
        Standing(rank=int(ahead) + 1, member_id=id_of(member), name=member.name, value=int(found))
        for ahead in ahead_counts
    ]


def _team_rows(connection: Connection, key: str, metric: str, unit: Unit) -> list[TeamStanding]:
    """Every team of the unit and its sub-units, by the total of its members per member."""
    value = getattr(MemberTotal, metric)
    statement = (
        select(
            col(TeamMembership.team_id),  # the team's id, as the join says (and typed as never null)
            col(Team.name),
            func.count(col(TeamMembership.member_id)),
            func.coalesce(func.sum(value), 0),
        )
        .join(Team, col(TeamMembership.team_id) == col(Team.id))
        .join(Unit, col(Unit.id) == col(Team.unit_id))
        .outerjoin(
            MemberTotal,
            (col(MemberTotal.member_id) == col(TeamMembership.member_id)) & (col(MemberTotal.period) == key),
        )
        .where(in_unit_or_below(unit), TeamMembership.status == MembershipStatus.active)
        .group_by(col(TeamMembership.team_id), col(Team.name))
    )
    teams = [
        (team_id, name, int(members), int(total))
        for team_id, name, members, total in (connection.execute(statement)).all()
    ]
    teams.sort(key=lambda team: (-(team[3] / team[2] if team[2] else 0), team[0]))
    return [
        TeamStanding(rank=index + 1, team_id=team_id, name=name, members=members, total=total)
        for index, (team_id, name, members, total) in enumerate(teams)
    ]


async def leaderboard(
    caller: Actor,
    where: Where | None,
    period: str | DateRange = "month",
    scope: str = "team",
    metric: str = "points",
    *,
    by_team: bool = False,
    now: datetime | None = None,
) -> Board:
    """/排行榜: the top ten of a team, a unit (with its sub-units) or the city, with the caller's own place.

    `period`: this week, month or year ("week", "month", "year") or all time ("all"); or a reporting period as
    /统计 reads it (上周, 上月, 2026年10月, 去年), which must be one week, month or year: the running totals are
    kept for each, past ones too (`standings.period_not_kept` otherwise).
    """
    now = now or utcnow()
    span = period_of(period, now) if isinstance(period, str) else kept_period(period)
    return await run_reading(_board_on, caller, where, span, scope, metric, by_team)


def _board_on(
    connection: Connection, caller: Actor, where: Where | None, span: Period, scope: str, metric: str, by_team: bool
) -> Board:
    """leaderboard's statements, on one connection (run_reading)."""
    asking = _asking(connection, caller, where)
    rights = asking.rights
    if by_team:
        if not (rights.is_officer or rights.leader_team_ids):
            raise NotAllowed("standings.by_team_not_allowed")
        if scope == "team":
            scope = "unit"
    ranked = _scope(connection, asking, where, scope)
    board = Board(period=span, scope=ranked.kind, scope_name=ranked.name, metric=metric)
    if by_team:
        unit = ranked.unit
        if unit is None:  # the city: every team under the root units
            root = connection.execute(_ROOT_UNIT).first()
            unit = detached(Unit, root) if root is not None else None
            if unit is None:
                return board
        if not _covers_for_ranking(connection, rights, unit):
            raise NotAllowed("standings.by_team_not_covered")
        board.by_team = _team_rows(connection, span.key, metric, unit)
        home = _home_team(connection, asking, where)
        if home is not None:
            board.own_team = next((row for row in board.by_team if row.team_id == home[0].id), None)
        board.by_team = board.by_team[:BOARD_SIZE]
        return board
    if rights.member is None:
        board.rows = _rank_rows(connection, span.key, metric, ranked, BOARD_SIZE)
    else:
        board.rows, board.own = _top_and_own(connection, span.key, metric, ranked, rights.member, BOARD_SIZE)
    return board


_ROOT_UNIT = core_select(table_of(Unit)).where(table_of(Unit).c.parent_id.is_(None)).order_by(table_of(Unit).c.id)


def kept_period(period: DateRange) -> Period:
    """The week, month or year whose running totals answer for a reporting period that is exactly one of them."""
    kinds = (period.kind,) if period.kind in ("week", "month", "year") else ("week", "month", "year")
    for kind in kinds:
        kept = period_of(kind, period.start)
        if kept.start == period.start and kept.end == period.end:
            return kept
    raise DomainError("standings.period_not_kept")


def _covers_for_ranking(connection: Connection, rights: Rights, unit: Unit) -> bool:
    """Teams are ranked against each other for the officers of the unit (or above it) and the leaders of a team
    directly in it; a leader or officer elsewhere sees nothing of it."""
    if rights.covers_unit(unit):
        return True
    if not rights.leader_team_ids:
        return False
    led = connection.execute(select(Team.unit_id).where(col(Team.id).in_(rights.leader_team_ids)))
    return unit.id in set(led.scalars().all())


@dataclass(frozen=True)
class LedgerLine:
    at: datetime
    amount: int
    reason: str
    """The entry's LedgerReason."""
    note: str


@dataclass
class PointsSummary:
    member: Member
    balance: int
    month_points: int
    month: Period
    team_name: str | None
    team_rank: Standing | None
    unit_name: str | None
    unit_rank: Standing | None
    recent: list[LedgerLine]
    unseen: int = 0
    """Of the balance, what anonymous tips paid: only the member is shown it."""


_LATEST_ENTRIES = (
    select(PointEntry.created_at, PointEntry.amount, PointEntry.reason, PointEntry.note)
    .where(col(PointEntry.member_id) == bindparam("member_id"))
    .order_by(col(PointEntry.created_at).desc(), col(PointEntry.id).desc())
    .limit(5)
)
"""/积分's latest entries of the member `member_id`, as columns (no PointEntry models), built once."""


@cache
def _points_statement(kinds: tuple[str, ...]):
    """/积分's one statement: _places_statement's row (balance, what anonymous tips paid of it, this month's points
    and how many are ahead in each scope of `kinds`) with the latest entries joined ON TRUE (one row with NULLs
    when there are none), newest first."""
    places = _places_statement("points", kinds, True).subquery("places")
    latest = _LATEST_ENTRIES.add_columns(col(PointEntry.id).label("entry_id")).subquery("latest")
    return (
        core_select(*places.c, latest.c.created_at, latest.c.amount, latest.c.reason, latest.c.note)
        .select_from(places)
        .outerjoin(latest, true())
        .order_by(latest.c.created_at.desc(), latest.c.entry_id.desc())
    )


async def my_points(caller: Actor, where: Where | None, now: datetime | None = None) -> PointsSummary:
    """/积分: balance, this month's points with the places in team and unit, and the latest entries."""
    now = now or utcnow()
    return await run_reading(_points_on, caller, where, now)


def _points_on(connection: Connection, caller: Actor, where: Where | None, now: datetime) -> PointsSummary:
    """my_points' statements, on one connection (run_reading)."""
    asking = _asking(connection, caller, where)
    rights = asking.rights
    if rights.member is None:
        raise DomainError("organisation.not_registered")
    member = rights.member
    member_id = id_of(member)
    month = period_of("month", now)
    home = _home_team(connection, asking, where)
    # the balance, what anonymous tips paid of it, and this month's points with the places: one statement
    params: dict[str, object] = {"member_id": member_id, "key": month.key}
    kinds: tuple[str, ...] = ()
    if home is not None:
        params |= {"team_id": home[0].id, "unit_path": home[1].path, "unit_below": home[1].path + "/"}
        kinds = ("team", "unit")
    rows = connection.execute(_points_statement(kinds), params).all()
    balance, unseen, month_points, *ahead = tuple(rows[0])[: 3 + len(kinds)]
    team_rank, unit_rank = _places(month_points, ahead, member) if home is not None else (None, None)
    entries = [tuple(row)[-4:] for row in rows if row.created_at is not None]
    return PointsSummary(
        member=member,
        balance=int(balance or 0),
        unseen=int(unseen),
        month_points=int(month_points or 0),
        month=month,
        team_name=home[0].name if home else None,
        team_rank=team_rank,
        unit_name=home[1].name if home else None,
        unit_rank=unit_rank,
        recent=[LedgerLine(at=at, amount=amount, reason=reason, note=note) for at, amount, reason, note in entries],
    )


@dataclass(frozen=True)
class Award:
    """What the officer learns of an award: never the member's balance, which may hold anonymous rewards."""

    member: Member
    asked: int
    granted: int
    reason: str
    changed: bool


@dataclass(frozen=True)
class PointsAwarded:
    """Told privately to the member an officer gave points to (or, with a negative amount, took them from)."""

    amount: int
    """What the officer asked for."""
    granted: int
    """What the caps let through (for a gain)."""
    reason: str
    balance: int
    """What the member can spend now."""


BeyondBalance = Literal["ask", "cap", "overdraw"]
"""What a penalty larger than the member's balance does: is refused to be asked about, takes the balance only, or
takes it all (a negative balance; only where `[points] allow_overdraft`)."""


@retry_on_conflict
async def award_points(
    caller: Actor, target: PersonRef, amount: int, reason: str, *, beyond_balance: BeyondBalance = "ask"
) -> Award:
    """/奖励: an officer adds (or with a negative number takes) points, with a reason; audited, and the member is
    told privately. The same award sent twice within a minute is applied once.

    A penalty larger than what the member has is refused (`standings.penalty_beyond_balance`, never saying the
    balance: it may hold anonymous rewards) unless the officer chose to take only what there is ("cap") or, where
    overdrafts are allowed, all of it ("overdraw").
    """
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError("standings.no_reason")
    if len(reason) > MAX_REASON:
        raise DomainError("standings.reason_too_long", most=MAX_REASON)
    if amount == 0 or abs(amount) > MAX_AWARD:
        raise DomainError("standings.bad_amount", most=MAX_AWARD)
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("standings.officers_only")
        member = await find_person(db, target)
        member_id = id_of(member)
        if not await covers_member(db, rights, member):
            raise NotAllowed("standings.not_covered", name=member.name, member=member_id)
        repeated = (
            await db.exec(
                select(AuditLog.id).where(
                    AuditLog.action == "award",
                    AuditLog.actor == caller.key,
                    AuditLog.target == f"member:{member_id}",
                    col(AuditLog.at) >= utcnow() - REPEAT_WINDOW,
                )
            )
        ).all()
        for log_id in repeated:
            log = await db.get(AuditLog, log_id)
            if log and log.detail.get("amount") == amount and log.detail.get("reason") == reason:
                return Award(member, amount, log.detail.get("granted", amount), reason, changed=False)
        taken = amount
        if amount < 0:
            taken = await _penalty_within(db, member, amount, beyond_balance)
        log = await audit(db, caller, rights.member, "award", f"member:{member_id}", amount=amount, reason=reason)
        await db.flush()
        kind = LedgerReason.award if amount > 0 else LedgerReason.penalty
        actor = rights.member.id if rights.member else None
        entry = await record_points(db, member_id, taken, kind, "award", id_of(log), actor_member_id=actor, note=reason)
        granted = entry.amount if entry else 0
        log.detail = {**log.detail, "granted": granted}
        db.add(log)
        balance = await balance_of(db, member_id)
        await tell_member(db, member_id, notices.render(PointsAwarded(amount, granted, reason, balance)))
        return Award(member, amount, granted, reason, changed=True)


async def _penalty_within(db: AsyncSession, member: Member, amount: int, beyond_balance: BeyondBalance) -> int:
    """The (negative) amount a penalty takes, given the member's balance (locked until the transaction ends)."""
    balance = await lock_balance(db, id_of(member))
    if -amount <= balance:
        return amount
    if beyond_balance == "overdraw":
        if not settings.allow_overdraft:
            raise DomainError("standings.overdraft_not_allowed")
        return amount
    if beyond_balance == "cap":
        if balance <= 0:
            raise DomainError("standings.nothing_to_take", name=member.name, member=id_of(member))
        return -balance
    raise DomainError(
        "standings.penalty_beyond_balance",
        name=member.name,
        member=id_of(member),
        amount=-amount,
        overdraft=settings.allow_overdraft,
    )


# --- the weekly leaderboard and the monthly honours, posted to every team's groups -------------------------------


POST_BATCH = 100
"""Teams per transaction of a periodic post. A city's weekly board (15,000 teams) made in one transaction had
stopped the event loop for over a second (and, on SQLite, every other transaction for five); a batch of 100 teams
stops it for 40 ms at most, and commands are answered between batches (bench/periodic_posts.py)."""


def _ranked_per_team(key: str, places: int, teams: tuple[int, int]):
    """Each team's members ranked within the team for one period, in one statement for the teams whose numbers lie
    in `teams` (first, last). Names are joined to the top places only (joined before the ranking, PostgreSQL read
    every member for each batch)."""
    ranked = (
        select(
            TeamMembership.team_id.label("team_id"),  # type: ignore[attr-defined]
            MemberTotal.member_id.label("member_id"),  # type: ignore[attr-defined]
            MemberTotal.points.label("points"),  # type: ignore[attr-defined]
            MemberTotal.minutes.label("minutes"),  # type: ignore[attr-defined]
            func.row_number()
            .over(
                partition_by=col(TeamMembership.team_id),
                order_by=(
                    col(MemberTotal.points).desc(),
                    col(MemberTotal.minutes).desc(),
                    col(MemberTotal.points_at),
                    col(MemberTotal.member_id),
                ),
            )
            .label("place"),
        )
        .join(MemberTotal, col(MemberTotal.member_id) == col(TeamMembership.member_id))
        .where(
            col(TeamMembership.team_id).between(*teams),
            TeamMembership.status == MembershipStatus.active,
            MemberTotal.period == key,
            col(MemberTotal.points) > 0,
        )
        .subquery()
    )
    columns = ranked.c
    return (
        Select(  # sqlmodel's select() is typed for at most four columns
            columns.team_id, columns.member_id, col(Member.name), columns.points, columns.minutes, columns.place
        )
        .join(Member, col(Member.id) == columns.member_id)
        .where(columns.place <= places)
        .order_by(columns.team_id, columns.place)
    )


TeamGroups = dict[int, list[tuple[str, str, str]]]
"""Each team's groups: platform, group id and the team's name."""


async def _team_groups(db: AsyncSession, teams: tuple[int, int]) -> TeamGroups:
    rows = await db.exec(
        select(GroupBinding.team_id, GroupBinding.platform, GroupBinding.group_id, Team.name)
        .join(Team, col(Team.id) == col(GroupBinding.team_id))
        .where(col(GroupBinding.team_id).between(*teams))
        .order_by(col(GroupBinding.id))
    )
    groups: TeamGroups = {}
    for team_id, platform, group_id, name in rows.all():
        groups.setdefault(team_id, []).append((platform, group_id, name))
    return groups


async def _unfinished_broadcast(db: AsyncSession, kind: str, period: str) -> Broadcast | None:
    """This period's post, locked, to go on with (claimed now if no process has started it); None once it is
    finished, or when another process claimed it this moment (it goes on with it)."""
    post = (
        await db.exec(select(Broadcast).where(Broadcast.kind == kind, Broadcast.period == period).with_for_update())
    ).first()
    if post is None:
        post = Broadcast(kind=kind, period=period)
        try:
            async with db.begin_nested():
                db.add(post)
        except IntegrityError:
            return None
    return post if post.finished_at is None else None


def weekly_board_due(now: datetime) -> bool:
    if settings.weekly_board_at is None:
        return False
    return weekly_time_passed(settings.weekly_board_at, now)


def honours_due(now: datetime) -> bool:
    if settings.honours_at is None:
        return False
    hour, minute = settings.honours_at
    local = now.astimezone(settings.timezone)
    return local >= local.replace(day=1, hour=hour, minute=minute, second=0, microsecond=0)


MessagesFor = Callable[[AsyncSession, tuple[int, int], TeamGroups], Awaitable[list[Message]]]
"""A periodic post's messages for a batch of teams (first, last), given their groups."""


async def _post_once(kind: str, period: Period, messages_for: MessagesFor) -> int:
    """Make a periodic post once across all processes, a batch of teams per transaction: each claims the post,
    builds and queues the batch's messages and records the last team done, so a post cut short (the process
    stopped) goes on from there at the next tick and no group gets it twice. Returns the messages queued here."""
    queued = 0
    while (step := await _post_next_batch(kind, period, messages_for)) is not None:
        queued += step
        await asyncio.sleep(0)  # commands waiting for the event loop (and, on SQLite, the database) go first
    return queued


async def _anyone_scored(db: AsyncSession, key: str) -> bool:
    scored = select(MemberTotal.id).where(MemberTotal.period == key, col(MemberTotal.points) > 0).limit(1)
    return (await db.exec(scored)).first() is not None


@retry_on_conflict
async def _post_next_batch(kind: str, period: Period, messages_for: MessagesFor) -> int | None:
    """The next batch of teams' messages queued, or None when the post is finished (or made elsewhere)."""
    async with session() as db:
        post = await _unfinished_broadcast(db, kind, period.key)
        if post is None:
            return None
        if post.through_team == 0 and not await _anyone_scored(db, period.key):
            post.finished_at = utcnow()  # nobody had points (a city just set up): nothing to go through
            db.add(post)
            return None
        found = await db.exec(
            select(col(Team.id)).where(col(Team.id) > post.through_team).order_by(col(Team.id)).limit(POST_BATCH)
        )
        team_ids = [team_id for team_id in found.all() if team_id is not None]  # a primary key: never null
        if not team_ids:
            post.finished_at = utcnow()
            db.add(post)
            return None
        teams = (team_ids[0], team_ids[-1])
        queued = await enqueue_all(db, await messages_for(db, teams, await _team_groups(db, teams)))
        post.messages += queued
        post.through_team = teams[1]
        db.add(post)
        return queued


BoardPlace = tuple[int, str, int]
"""A place on a team's weekly board: the place, the member's name, their points (a plain tuple: a city's board
makes 150,000 of them at once, and a class of its own made the post measurably slower)."""


@dataclass(frozen=True)
class WeeklyBoard:
    """Last week's top ten of a team, posted to its groups."""

    team: str
    week: Period
    places: tuple[BoardPlace, ...]


@dataclass(frozen=True)
class MonthlyStar:
    """A team's 义警之星 of last month, announced in its groups with a certificate picture."""

    team: str
    month: Period
    member: str
    points: int
    minutes: int


async def post_weekly_boards(now: datetime | None = None) -> int:
    """Once a week: last week's top ten of every team, to the team's groups (teams with no points are skipped)."""
    now = now or utcnow()
    if not weekly_board_due(now):
        return 0
    last_week = period_of("week", now, back=1)

    async def boards(db: AsyncSession, teams: tuple[int, int], groups: TeamGroups) -> list[Message]:
        places: dict[int, list[BoardPlace]] = {}
        for team_id, _member, name, points, _minutes, place in await db.exec(
            _ranked_per_team(last_week.key, BOARD_SIZE, teams)
        ):
            places.setdefault(team_id, []).append((place, name, points))
        messages = []
        for team_id, team_places in places.items():
            team_groups = groups.get(team_id, [])
            if not team_groups:
                continue
            text = notices.render(WeeklyBoard(team_groups[0][2], last_week, tuple(team_places)))
            messages += [
                Message(Destination(platform, group_id), text, priority=Priority.digest)
                for platform, group_id, _name in team_groups
            ]
        return messages

    return await _post_once("weekly_board", last_week, boards)


async def post_monthly_honours(now: datetime | None = None) -> int:
    """On the first of a month: each team's 义警之星 of last month (most points; then more hours; then who got
    there first), announced in the team's groups with a certificate picture."""
    now = now or utcnow()
    if not honours_due(now):
        return 0
    last_month = period_of("month", now, back=1)

    async def stars(db: AsyncSession, teams: tuple[int, int], groups: TeamGroups) -> list[Message]:
        messages = []
        for team_id, _member, name, points, minutes, _place in await db.exec(
            _ranked_per_team(last_month.key, 1, teams)
        ):
            team_groups = groups.get(team_id, [])
            if not team_groups:
                continue
            star = MonthlyStar(team_groups[0][2], last_month, name, points, minutes)
            text, image = notices.render(star), notices.picture(star)
            messages += [
                Message(Destination(platform, group_id), text, priority=Priority.digest, image=image)
                for platform, group_id, _name in team_groups
            ]
        return messages

    return await _post_once("honours", last_month, stars)
