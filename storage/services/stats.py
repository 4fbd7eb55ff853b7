"""/统计: the figures the programmes report, for a team or a unit (with its sub-units), over a period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import and_, case
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.db import session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import (
    Alert,
    AlertResponse,
    CourseCompletion,
    Member,
    MembershipStatus,
    MemberStatus,
    Qualification,
    QuizAttempt,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    TaskTeam,
    Team,
    TeamMembership,
    Tip,
    TipStatus,
    Unit,
    utcnow,
)
from storage.services.actors import Actor, Where
from storage.services.organisation import find_unit, in_unit_or_below, team_at
from storage.services.people import Rights, rights_of
from storage.services.training.qualifications import state_on
from storage.services.when import DateRange, local

PATROL = "巡逻"
HAZARD_CHECK, MEDIATION = "隐患排查", "调解"
HAZARD, DISPUTE = "安全隐患", "矛盾纠纷"


@dataclass(frozen=True)
class TeamScope:
    """Figures about one team."""

    name: str
    team: Team


@dataclass(frozen=True)
class UnitScope:
    """Figures about a unit with everything below it."""

    name: str
    unit: Unit


FiguresScope = TeamScope | UnitScope
"""What the figures are about."""


@dataclass
class Figures:
    name: str
    patrols: int = 0
    """Check-ins on patrol tasks (person-times)."""
    checkins: int = 0
    minutes: int = 0
    tasks: int = 0
    attended: int = 0
    no_shows: int = 0
    tips: int = 0
    tips_verified: int = 0
    hazards: int = 0
    """Hazards logged: tips of the 安全隐患 category, and check-ins on 隐患排查 tasks."""
    disputes: int = 0
    """Disputes logged: tips of the 矛盾纠纷 category, and 调解 tasks run."""
    new_members: int = 0
    alerts: int = 0
    alert_median_seconds: float | None = None

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def attendance_rate(self) -> float | None:
        expected = self.attended + self.no_shows
        return self.attended / expected if expected else None

    @property
    def no_show_rate(self) -> float | None:
        expected = self.attended + self.no_shows
        return self.no_shows / expected if expected else None


@dataclass(frozen=True)
class Holding:
    """How many members of the scope hold a qualification (tag) on the day the figures look at."""

    tag: str
    valid: int
    """Valid that day (expiring ones included)."""
    expiring: int
    """Of the valid ones, running out within 30 days after it."""
    expired: int
    """Ran out before it and not renewed."""


@dataclass(frozen=True)
class Training:
    """Training over the period, for the scope."""

    sessions: int
    """Training sessions held: closed tasks linked to a course, started in the period."""
    attended: int
    """Person-times: attended sign-ups of those sessions."""
    quiz_attempts: int
    """Quizzes finished in the period by the scope's members."""
    quiz_passed: int
    day: date
    """The day the qualifications are counted on: the period's last day, or today for a period not yet over."""
    holdings: list[Holding] = field(default_factory=list)

    @property
    def pass_rate(self) -> float | None:
        return self.quiz_passed / self.quiz_attempts if self.quiz_attempts else None

    @property
    def anything(self) -> bool:
        return bool(self.sessions or self.attended or self.quiz_attempts or self.holdings)


@dataclass
class Report:
    period: DateRange
    total: Figures
    training: Training | None = None
    """Training's figures for the whole scope (not per part)."""
    parts: list[Figures] = field(default_factory=list)
    """For a unit: each sub-unit (with everything below it) and each team directly in the unit."""
    days: list[tuple[date, int, float]] = field(default_factory=list)
    """For a team: check-ins and hours served per day, or per week (from its Monday) when `weekly`."""
    weekly: bool = False


def units_below(unit: Unit):
    return select(Unit.id).where(in_unit_or_below(unit))


def team_members(team: Team):
    return select(TeamMembership.member_id).where(
        TeamMembership.team_id == team.id, TeamMembership.status == MembershipStatus.active
    )


def members_in(covered: FiguresScope):
    """The scope's members: active in the team, or in a team of the unit or a unit below it."""
    if isinstance(covered, TeamScope):
        return team_members(covered.team)
    return select(TeamMembership.member_id).where(
        TeamMembership.status == MembershipStatus.active,
        col(TeamMembership.team_id).in_(select(Team.id).where(col(Team.unit_id).in_(units_below(covered.unit)))),
    )


def tasks_in(covered: FiguresScope, period: DateRange):
    """Tasks run in the period (not cancelled): a unit's own and its sub-units'; or those a team was sent."""
    statement = select(Task.id).where(
        col(Task.start_at) >= period.start, col(Task.start_at) < period.end, Task.status != TaskStatus.cancelled
    )
    if isinstance(covered, TeamScope):
        return statement.where(col(Task.id).in_(select(TaskTeam.task_id).where(TaskTeam.team_id == covered.team.id)))
    return statement.where(col(Task.unit_id).in_(units_below(covered.unit)))


async def _attendance(
    db: AsyncSession, covered: FiguresScope, period: DateRange
) -> tuple[int, int, int, int, int, int]:
    """Over the sign-ups of the period's tasks, in one pass: check-ins, check-ins on patrols and on hazard checks,
    minutes served, attended, no-shows."""
    checked_in = col(Signup.checked_in_at).is_not(None)

    def how_many(*conditions):
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    statement = (
        Select(  # sqlmodel's select() is typed for at most four columns
            how_many(checked_in),
            how_many(checked_in, Task.kind == PATROL),
            how_many(checked_in, Task.kind == HAZARD_CHECK),
            func.coalesce(func.sum(Signup.minutes_served), 0),
            how_many(Signup.status == SignupStatus.attended),
            how_many(Signup.status == SignupStatus.no_show),
        )
        .join(Task, col(Task.id) == col(Signup.task_id))
        .where(col(Signup.task_id).in_(tasks_in(covered, period)))
    )
    if isinstance(covered, TeamScope):
        statement = statement.where(col(Signup.member_id).in_(team_members(covered.team)))
    checkins, patrols, hazard_checks, minutes, attended, no_shows = (
        int(value) for value in (await db.exec(statement)).one()
    )
    return checkins, patrols, hazard_checks, minutes, attended, no_shows


async def _count(db: AsyncSession, statement) -> int:
    return int((await db.exec(select(func.count()).select_from(statement.subquery()))).one())


async def figures_for(db: AsyncSession, covered: FiguresScope, period: DateRange) -> Figures:
    found = Figures(name=covered.name)
    found.tasks = await _count(db, tasks_in(covered, period))
    (
        found.checkins,
        found.patrols,
        hazard_checks,
        found.minutes,
        found.attended,
        found.no_shows,
    ) = await _attendance(db, covered, period)
    tips = select(Tip.id, Tip.status).where(col(Tip.created_at) >= period.start, col(Tip.created_at) < period.end)
    if isinstance(covered, TeamScope):
        # a team's figures count named tips only: an anonymous one would show which team its reporter is in
        tips = tips.where(col(Tip.reporter_id).in_(team_members(covered.team)), col(Tip.anonymous).is_(False))
    else:
        tips = tips.where(col(Tip.unit_id).in_(units_below(covered.unit)))
    found.tips = await _count(db, tips)
    found.tips_verified = await _count(db, tips.where(Tip.status == TipStatus.verified))
    found.hazards = await _count(db, tips.where(Tip.category == HAZARD)) + hazard_checks
    found.disputes = await _count(db, tips.where(Tip.category == DISPUTE)) + await _count(
        db, tasks_in(covered, period).where(Task.kind == MEDIATION)
    )
    joined = select(TeamMembership.id).where(
        TeamMembership.status == MembershipStatus.active,
        col(TeamMembership.decided_at) >= period.start,
        col(TeamMembership.decided_at) < period.end,
    )
    if isinstance(covered, TeamScope):
        joined = joined.where(TeamMembership.team_id == covered.team.id)
    else:
        joined = joined.where(
            col(TeamMembership.team_id).in_(select(Team.id).where(col(Team.unit_id).in_(units_below(covered.unit))))
        )
    found.new_members = await _count(db, joined)
    if isinstance(covered, UnitScope):
        first_answers = (
            await db.exec(
                select(Alert.id, Alert.created_at, func.min(AlertResponse.responded_at))
                .outerjoin(AlertResponse, col(AlertResponse.alert_id) == col(Alert.id))
                .where(
                    col(Alert.unit_id).in_(units_below(covered.unit)),
                    col(Alert.created_at) >= period.start,
                    col(Alert.created_at) < period.end,
                )
                .group_by(col(Alert.id), col(Alert.created_at))
            )
        ).all()
        found.alerts = len(first_answers)
        waits = [(local(answered) - local(raised)).total_seconds() for _, raised, answered in first_answers if answered]
        found.alert_median_seconds = median(waits) if waits else None
    return found


def counted_on(period: DateRange, now: datetime | None = None) -> date:
    """The day qualifications are counted on: the period's last day, or today while the period is not over."""
    last = local(period.end - timedelta(microseconds=1)).date()
    return min(last, local(now or utcnow()).date())


def sessions_in(covered: FiguresScope, period: DateRange):
    """Training sessions held in the period: closed tasks linked to a course."""
    return tasks_in(covered, period).where(Task.status == TaskStatus.closed, col(Task.course_id).is_not(None))


@dataclass(frozen=True)
class Best:
    """A member's qualification of a tag that lasts longest, among those completed by the day looked at."""

    member_id: int
    tag: str
    valid_until: date | None
    course_id: int
    """The course that granted it (the newest, of those lasting as long)."""

    def state(self, day: date) -> str:
        """valid, expiring (within 30 days after `day`) or expired (before it, not renewed)."""
        return state_on(self.valid_until, day)


async def best_qualifications(db: AsyncSession, members, day: date) -> list[Best]:
    """For each member of the query (not left, not erased) and tag: the longest lasting qualification completed
    by `day`, in one statement; by member, then tag."""
    rows = (
        await db.exec(
            select(Qualification.member_id, Qualification.tag, col(Qualification.valid_until), Qualification.course_id)
            .join(CourseCompletion, col(CourseCompletion.id) == col(Qualification.completion_id))
            .join(Member, col(Member.id) == col(Qualification.member_id))
            .where(
                col(Qualification.member_id).in_(members),
                col(CourseCompletion.completed_on) <= day,
                col(Member.status) != MemberStatus.left.value,
                col(Member.erased_at).is_(None),
            )
            .order_by(col(Qualification.id))
        )
    ).all()
    best: dict[tuple[int, str], Best] = {}
    for member_id, tag, until, course_id in rows:
        known = best.get((member_id, tag))
        if known is None or _lasts_at_least(until, known.valid_until):
            best[(member_id, tag)] = Best(member_id, tag, until, course_id)
    return [best[key] for key in sorted(best)]


def _lasts_at_least(until: date | None, than: date | None) -> bool:
    if than is None:
        return until is None
    return until is None or until >= than


async def training_for(db: AsyncSession, covered: FiguresScope, period: DateRange) -> Training:
    """Training's figures in two statements (three with the qualifications' courses)."""
    members = members_in(covered)
    attended = select(func.count()).where(
        col(Signup.task_id).in_(sessions_in(covered, period)), Signup.status == SignupStatus.attended
    )
    if isinstance(covered, TeamScope):
        attended = attended.where(col(Signup.member_id).in_(team_members(covered.team)))
    quizzes = select(func.count()).where(
        col(QuizAttempt.member_id).in_(members),
        col(QuizAttempt.created_at) >= period.start,
        col(QuizAttempt.created_at) < period.end,
    )
    sessions, people, attempts, passed = (
        await db.exec(
            select(
                select(func.count()).select_from(sessions_in(covered, period).subquery()).scalar_subquery(),
                attended.scalar_subquery(),
                quizzes.scalar_subquery(),
                quizzes.where(col(QuizAttempt.passed)).scalar_subquery(),
            )
        )
    ).one()
    day = counted_on(period)
    by_tag: dict[str, list[int]] = {}
    for best in await best_qualifications(db, members, day):
        counts = by_tag.setdefault(best.tag, [0, 0, 0])
        state = best.state(day)
        counts[0] += state != "expired"
        counts[1] += state == "expiring"
        counts[2] += state == "expired"
    holdings = [Holding(tag, *counts) for tag, counts in sorted(by_tag.items())]
    return Training(int(sessions), int(people), int(attempts), int(passed), day, holdings)


async def _days(db: AsyncSession, covered: TeamScope, period: DateRange) -> tuple[list[tuple[date, int, float]], bool]:
    """A team's check-ins and hours per day, or per week (by its Monday) when the period is longer than two
    months; and whether it is per week."""
    rows = (
        await db.exec(
            select(Signup.checked_in_at, Signup.minutes_served).where(
                col(Signup.task_id).in_(tasks_in(covered, period)),
                col(Signup.member_id).in_(team_members(covered.team)),
                col(Signup.checked_in_at).is_not(None),
            )
        )
    ).all()
    weekly = period.end - period.start > timedelta(days=62)
    buckets: dict[date, list[float]] = {}
    day = local(period.start)
    while day < local(period.end):
        buckets.setdefault(_bucket(day.date(), weekly), [0, 0.0])
        day += timedelta(days=1)
    for checked_in_at, minutes in rows:
        if checked_in_at is None:  # as the query asks
            continue
        key = _bucket(local(checked_in_at).date(), weekly)
        if key in buckets:
            buckets[key][0] += 1
            buckets[key][1] += (minutes or 0) / 60
    return [(key, int(value[0]), round(value[1], 1)) for key, value in buckets.items()], weekly


def _bucket(day: date, weekly: bool) -> date:
    return day - timedelta(days=day.weekday()) if weekly else day


async def scope_for(
    db: AsyncSession, rights: Rights, where: Where | None, scope: str, unit_text: str | None
) -> FiguresScope:
    """Officers see their units (or one named); leaders their team. In a team's group, 队伍 means that team."""
    found = await team_at(db, where) if where is not None else None
    if unit_text:
        unit = await find_unit(db, unit_text)
        if unit is None or not rights.covers_unit(unit):
            raise NotAllowed("stats.no_such_unit", unit=quoted(unit_text))
        return UnitScope(name=unit.name, unit=unit)
    if scope == "team" or (scope == "" and found is not None and not rights.is_officer):
        team = found.team if found is not None else None
        if team is None and len(rights.leader_team_ids) == 1:
            team = await db.get(Team, next(iter(rights.leader_team_ids)))
        if team is None:
            raise DomainError("stats.which_team")
        unit = await db.get(Unit, team.unit_id)
        if not (team.id in rights.leader_team_ids or (unit is not None and rights.covers_unit(unit))):
            raise NotAllowed("stats.not_your_team")
        return TeamScope(name=team.name, team=team)
    if found is not None and rights.covers_unit(found.unit):
        return UnitScope(name=found.unit.name, unit=found.unit)
    if rights.officer_units:
        return UnitScope(name=rights.officer_units[0].name, unit=rights.officer_units[0])
    if rights.is_admin:
        root = (await db.exec(select(Unit).where(col(Unit.parent_id).is_(None)).order_by(col(Unit.id)))).first()
        if root is not None:
            return UnitScope(name=root.name, unit=root)
    if rights.leader_team_ids:
        return await scope_for(db, rights, where, "team", None)
    raise NotAllowed("stats.leaders_and_officers")


async def report(
    caller: Actor, where: Where | None, period: DateRange, scope: str = "", unit_text: str | None = None
) -> Report:
    async with session() as db:
        rights = await rights_of(db, caller)
        if not (rights.is_officer or rights.leader_team_ids):
            raise NotAllowed("stats.leaders_and_officers")
        covered = await scope_for(db, rights, where, scope, unit_text)
        result = Report(period=period, total=await figures_for(db, covered, period))
        result.training = await training_for(db, covered, period)
        if isinstance(covered, TeamScope):
            result.days, result.weekly = await _days(db, covered, period)
            return result
        children = (
            await db.exec(select(Unit).where(Unit.parent_id == covered.unit.id).order_by(col(Unit.id)).limit(30))
        ).all()
        for child in children:
            result.parts.append(await figures_for(db, UnitScope(name=child.name, unit=child), period))
        teams = (
            await db.exec(select(Team).where(Team.unit_id == covered.unit.id).order_by(col(Team.id)).limit(30))
        ).all()
        for team in teams:
            result.parts.append(await figures_for(db, TeamScope(name=team.name, team=team), period))
        return result
