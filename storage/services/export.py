"""/导出: the rows of an XLSX workbook of a team's or a unit's members, tasks with attendance, ledger and tips, for
officers (leaders: their team, without tips, and its members as a leader's /档案 shows them). Anonymous reporters
are never named, and their rewards are in no member's row: the ledger shows each anonymous payout as one line of
the unit without names, and the members' rows show the points each member earned (as the boards do), not what
they can spend.

The rows are facts; the face titles the sheets and their columns and words the cells (plugins/_texts/export.py),
and `workbook_bytes` writes them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.db import session
from storage.errors import NotAllowed
from storage.models import (
    AnonymousPayout,
    Course,
    Insurance,
    LedgerReason,
    Member,
    MembershipStatus,
    MemberTotal,
    PointEntry,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    Team,
    TeamMembership,
    Tip,
    TipEntry,
    Unit,
    id_of,
    utcnow,
)
from storage.services.actors import Actor, Where
from storage.services.insurance import mask_policy
from storage.services.organisation import audit
from storage.services.people import Rights, mask_contact, mask_id_number, mask_phone, rights_of
from storage.services.stats import (
    FiguresScope,
    TeamScope,
    best_qualifications,
    counted_on,
    members_in,
    scope_for,
    tasks_in,
    team_members,
    units_below,
)
from storage.services.totals import ALL_TIME
from storage.services.when import DateRange, local
from storage.settings import settings

MAX_ROWS = 100_000
"""Rows per sheet at most: a city's month of ledger is hundreds of thousands of entries, too many to build while
the bot answers everyone else; the officer is told to export a shorter period or a smaller unit."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class MemberRow:
    member_id: int
    name: str
    phone: str
    """Masked, unless `full` (then whole)."""
    team: str
    status: str
    """The membership's MembershipStatus."""
    tags: tuple[str, ...]
    joined_at: datetime | None
    points: int
    """Earned in all time, as the boards count them."""
    area: str = ""
    employer: str = ""
    industry: str = ""
    profession: str = ""
    id_number: str = ""
    """Masked unless `full`; empty when none is recorded."""
    emergency_contact: str = ""
    """Masked unless `full`; empty when none is recorded."""
    insurer: str = ""
    policy_number: str = ""
    insured_until: date | None = None
    """The newest policy's end (the one that counts)."""
    full: bool = False
    """Phone, ID number and emergency contact whole: see `shows_whole`."""


@dataclass(frozen=True)
class TaskRow:
    task_id: int
    kind: str
    place: str
    start_at: datetime
    end_at: datetime
    status: str
    """The TaskStatus."""
    capacity: int
    signed: int
    checked_in: int
    no_shows: int
    hours: float
    started: bool = True
    """Whether the task had started when the export was made (an open task may be still to come)."""


@dataclass(frozen=True)
class AttendanceRow:
    task_id: int
    member_id: int
    name: str
    status: str
    """The SignupStatus."""
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes: int
    distance_m: int | None
    """How far from the task's place the check-in was, when it was located."""
    outside_radius: bool


@dataclass(frozen=True)
class LedgerRow:
    at: datetime | date
    """When; for a tip's reward the day only (its minute could tell which tip it was)."""
    member_id: int
    name: str
    amount: int
    reason: str
    """The LedgerReason."""
    note: str
    ref: tuple[str, int] | None
    """What the entry is for (type, number); None for a tip's reward, which names no tip."""


@dataclass(frozen=True)
class PayoutRow:
    """An anonymous payout of the unit: one line, no member on it."""

    day: date
    unit_name: str
    points: int
    reporters: int


@dataclass(frozen=True)
class TipRow:
    tip_id: int
    unit_name: str
    category: str
    status: str
    """The TipStatus."""
    created_at: datetime
    location_text: str | None
    located: bool
    """Whether a position was shared."""
    text: str
    """What the report said first."""
    reporter: str | None
    """None for an anonymous tip."""
    points: int | None
    """The reward; None for an anonymous tip."""


@dataclass(frozen=True)
class SessionRow:
    """A training session held in the period: a closed task linked to a course."""

    task_id: int
    course_id: int
    course_name: str
    day: date
    attended: int
    """Attended sign-ups (a team's export: of the team's members)."""


@dataclass(frozen=True)
class QualificationRow:
    """A member's qualification of a tag that lasts longest, as on the day the export looks at."""

    member_id: int
    name: str
    teams: tuple[str, ...]
    """The member's teams in the scope."""
    tag: str
    course_id: int
    course_name: str
    valid_until: date | None
    state: str
    """valid, expiring (within 30 days after the day) or expired (and not renewed)."""


SHEETS = ("members", "tasks", "attendance", "ledger", "tips", "sessions", "qualifications")
"""The lists of an export, in the order of its sheets."""


@dataclass(frozen=True)
class Export:
    scope_name: str
    period: DateRange
    members: list[MemberRow]
    tasks: list[TaskRow]
    attendance: list[AttendanceRow]
    ledger: list[LedgerRow | PayoutRow]
    tips: list[TipRow] | None
    """None when the caller does not see tips (a leader, or a team's export)."""
    cut: tuple[str, ...] = ()
    """The lists (named as in SHEETS) that had more than MAX_ROWS rows: only the first MAX_ROWS are here."""
    sessions: list[SessionRow] = field(default_factory=list)
    qualifications: list[QualificationRow] = field(default_factory=list)
    counted_on: date | None = None
    """The day the qualifications' states are as on: the period's last day, or today while it is not over."""


def _within(rows: list, name: str, cut: list[str]) -> list:
    if len(rows) > MAX_ROWS:
        cut.append(name)
        return rows[:MAX_ROWS]
    return rows


def _day(moment: datetime) -> date:
    return local(moment).date()


async def export_workbook(caller: Actor, where: Where | None, period: DateRange, unit_text: str | None) -> Export:
    made_at = utcnow()
    async with session() as db:
        rights = await rights_of(db, caller)
        if not (rights.is_officer or rights.leader_team_ids):
            raise NotAllowed("export.leaders_and_officers")
        covered = await scope_for(db, rights, where, "", unit_text)
        if isinstance(covered, TeamScope):
            members_query = team_members(covered.team)
        else:
            members_query = select(TeamMembership.member_id).where(
                col(TeamMembership.team_id).in_(select(Team.id).where(col(Team.unit_id).in_(units_below(covered.unit))))
            )
        cut: list[str] = []

        rows = (
            await db.exec(
                Select(  # sqlmodel's select() is typed for at most four columns
                    Member,
                    col(Team.name),
                    col(TeamMembership.status),
                    col(TeamMembership.decided_at),
                    col(MemberTotal.points),
                    col(Team.unit_id),
                    col(Unit.path),
                )
                .join(TeamMembership, col(TeamMembership.member_id) == col(Member.id))
                .join(Team, col(Team.id) == col(TeamMembership.team_id))
                .join(Unit, col(Unit.id) == col(Team.unit_id))
                .outerjoin(
                    MemberTotal,
                    (col(MemberTotal.member_id) == col(Member.id)) & (col(MemberTotal.period) == ALL_TIME),
                )
                .where(col(Member.id).in_(members_query), col(TeamMembership.team_id).in_(_teams(covered)))
                .order_by(col(Member.id))
                .limit(MAX_ROWS + 1)
            )
        ).all()
        policies = await _newest_policies(db, members_query)
        members = [
            _member_row(member, team_name, status, decided_at, points or 0, policies.get(id_of(member)), full, officers)
            for member, team_name, status, decided_at, points, unit_id, path in rows
            for full, officers in [(shows_whole(rights, unit_id), rights.covers_path(path))]
        ]
        whole = sum(row.full for row in members)

        in_period = select(Task).where(col(Task.id).in_(tasks_in(covered, period)))
        tasks = (await db.exec(in_period.order_by(col(Task.start_at)).limit(MAX_ROWS + 1))).all()
        signups = await _signups(db, [id_of(task) for task in tasks], covered)
        by_task: dict[int, list[Signup]] = {}
        for signup, _member in signups:
            by_task.setdefault(signup.task_id, []).append(signup)
        task_rows = []
        for task in tasks:
            own = by_task.get(id_of(task), [])
            task_rows.append(
                TaskRow(
                    task_id=id_of(task),
                    kind=task.kind,
                    place=task.place,
                    start_at=task.start_at,
                    end_at=task.end_at,
                    status=task.status,
                    capacity=task.capacity,
                    signed=sum(1 for s in own if s.status != SignupStatus.cancelled),
                    checked_in=sum(1 for s in own if s.checked_in_at is not None),
                    no_shows=sum(1 for s in own if s.status == SignupStatus.no_show),
                    hours=round(sum(s.minutes_served or 0 for s in own) / 60, 1),
                    started=task.start_at <= made_at,
                )
            )
        attendance = [
            AttendanceRow(
                task_id=signup.task_id,
                member_id=id_of(member),
                name=member.name,
                status=signup.status,
                checked_in_at=signup.checked_in_at,
                checked_out_at=signup.checked_out_at,
                minutes=signup.minutes_served or 0,
                distance_m=signup.distance_m,
                outside_radius=signup.outside_radius,
            )
            for signup, member in signups
        ]

        day = counted_on(period, made_at)
        held = await best_qualifications(db, members_in(covered), day)
        wanted = {task.course_id for task in tasks if task.course_id is not None} | {q.course_id for q in held}
        courses = (
            dict((await db.exec(select(Course.id, Course.name).where(col(Course.id).in_(wanted)))).all())
            if wanted
            else {}
        )
        sessions = [
            SessionRow(
                task_id=id_of(task),
                course_id=task.course_id,
                course_name=courses.get(task.course_id, ""),
                day=_day(task.start_at),
                attended=sum(1 for s in by_task.get(id_of(task), []) if s.status == SignupStatus.attended),
            )
            for task in tasks
            if task.course_id is not None and task.status == TaskStatus.closed
        ]
        people: dict[int, tuple[str, list[str]]] = {}
        for member, team_name, status, *_ in rows:
            if status == MembershipStatus.active:
                people.setdefault(id_of(member), (member.name, []))[1].append(team_name)
        qualifications = [
            QualificationRow(
                member_id=best.member_id,
                name=people[best.member_id][0],
                teams=tuple(people[best.member_id][1]),
                tag=best.tag,
                course_id=best.course_id,
                course_name=courses.get(best.course_id, ""),
                valid_until=best.valid_until,
                state=best.state(day),
            )
            for best in held
            if best.member_id in people
        ]

        entries = (
            await db.exec(
                select(PointEntry, Member.name)
                .join(Member, col(Member.id) == col(PointEntry.member_id))
                .where(
                    col(PointEntry.member_id).in_(members_query),
                    col(PointEntry.private).is_(False),
                    col(PointEntry.created_at) >= period.start,
                    col(PointEntry.created_at) < period.end,
                )
                .order_by(col(PointEntry.created_at), col(PointEntry.id))
                .limit(MAX_ROWS + 1)
            )
        ).all()
        ledger: list[LedgerRow | PayoutRow] = []
        for entry, name in entries:
            is_tip = entry.reason == LedgerReason.tip
            ledger.append(
                LedgerRow(
                    # a tip reward shows only its day and no tip number: an anonymous reporter stays unknown
                    at=_day(entry.created_at) if is_tip else entry.created_at,
                    member_id=entry.member_id,
                    name=name,
                    amount=entry.amount,
                    reason=entry.reason,
                    note=entry.note,
                    ref=None if is_tip else (entry.ref_type, entry.ref_id),
                )
            )

        tip_rows = None
        if not isinstance(covered, TeamScope):
            ledger += await _anonymous_payouts(db, covered.unit, period)
            if rights.is_officer:
                tip_rows = await _tips(db, covered.unit, period)
        await audit(
            db,
            caller,
            rights.member,
            "export",
            covered.name,
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            personal_data_whole=whole,
        )
    kept_sessions = _within(sessions, "sessions", cut)
    kept_qualifications = _within(qualifications, "qualifications", cut)
    return Export(
        scope_name=covered.name,
        period=period,
        members=_within(members, "members", cut),
        tasks=_within(task_rows, "tasks", cut),
        attendance=_within(attendance, "attendance", cut),
        ledger=_within(ledger, "ledger", cut),
        tips=None if tip_rows is None else _within(tip_rows, "tips", cut),
        cut=tuple(cut),
        sessions=kept_sessions,
        qualifications=kept_qualifications,
        counted_on=day,
    )


def shows_whole(rights: Rights, unit_id: int) -> bool:
    """Whether a member's phone, ID number and emergency contact go into the export whole: only where
    `[members] export_full_personal_data` allows it, and only to an officer of the member's team's own unit (not
    of a unit above it, not a leader, not an administrator as such)."""
    return settings.export_full_personal_data and any(unit.id == unit_id for unit in rights.officer_units)


def _member_row(
    member: Member,
    team: str,
    status: str,
    decided_at: datetime | None,
    points: int,
    policy: Insurance | None,
    full: bool,
    officers: bool = True,
) -> MemberRow:
    """`officers`: the caller is an officer over the member's team (or an administrator). A leader who is not reads
    the members as /档案 成员号 shows them to a leader: no ID number and no emergency contact, the policy number
    masked (a leader neither looks policies up nor records them)."""

    def shown(value: str | None, mask) -> str:
        return "" if not value or not officers else value if full else mask(value)

    return MemberRow(
        member_id=id_of(member),
        name=member.name,
        phone=(member.phone or mask_phone(None)) if full else mask_phone(member.phone),
        team=team,
        status=status,
        tags=tuple(dict.fromkeys([*member.tags, *member.verified_tags])),
        joined_at=decided_at,
        points=points,
        area=member.area or "",
        employer=member.employer or "",
        industry=member.industry or "",
        profession=member.profession or "",
        id_number=shown(member.id_number, mask_id_number),
        emergency_contact=shown(member.emergency_contact, mask_contact),
        insurer=policy.insurer if policy else "",
        policy_number=(policy.policy_number if officers else mask_policy(policy.policy_number)) if policy else "",
        insured_until=policy.valid_until if policy else None,
        full=full,
    )


async def _newest_policies(db: AsyncSession, members_query) -> dict[int, Insurance]:
    """Each member's newest policy by its end (the one that counts)."""
    rows = (
        await db.exec(
            select(Insurance)
            .where(col(Insurance.member_id).in_(members_query))
            .order_by(col(Insurance.valid_until), col(Insurance.id))
        )
    ).all()
    return {row.member_id: row for row in rows}


async def _anonymous_payouts(db: AsyncSession, unit: Unit, period: DateRange) -> list[PayoutRow]:
    """The unit's anonymous tip rewards paid in the period, one line a payout, with no member on it."""
    payouts = (
        await db.exec(
            select(AnonymousPayout, Unit.name)
            .join(Unit, col(Unit.id) == col(AnonymousPayout.unit_id))
            .where(
                col(AnonymousPayout.unit_id).in_(units_below(unit)),
                col(AnonymousPayout.paid_at) >= period.start,
                col(AnonymousPayout.paid_at) < period.end,
            )
            .order_by(col(AnonymousPayout.paid_at))
        )
    ).all()
    return [
        PayoutRow(day=_day(payout.paid_at), unit_name=unit_name, points=payout.points, reporters=payout.reporters)
        for payout, unit_name in payouts
    ]


async def _tips(db: AsyncSession, unit: Unit, period: DateRange) -> list[TipRow]:
    tips = (
        await db.exec(
            select(Tip, Member.name, Unit.name)
            .join(Member, col(Member.id) == col(Tip.reporter_id))
            .join(Unit, col(Unit.id) == col(Tip.unit_id))
            .where(
                col(Tip.unit_id).in_(units_below(unit)),
                col(Tip.created_at) >= period.start,
                col(Tip.created_at) < period.end,
            )
            .order_by(col(Tip.id))
            .limit(MAX_ROWS + 1)
        )
    ).all()
    first_text = await _first_texts(db, [id_of(tip) for tip, _, _ in tips])
    return [
        TipRow(
            tip_id=id_of(tip),
            unit_name=unit_name,
            category=tip.category,
            status=tip.status,
            created_at=tip.created_at,
            location_text=tip.location_text,
            located=tip.latitude is not None,
            text=first_text.get(id_of(tip), ""),
            reporter=None if tip.anonymous else reporter,
            points=None if tip.anonymous else tip.points,
        )
        for tip, reporter, unit_name in tips
    ]


def _teams(covered: FiguresScope):
    if isinstance(covered, TeamScope):
        return select(Team.id).where(Team.id == covered.team.id)
    return select(Team.id).where(col(Team.unit_id).in_(units_below(covered.unit)))


async def _signups(db: AsyncSession, task_ids: list[int], covered: FiguresScope) -> Sequence[tuple[Signup, Member]]:
    if not task_ids:
        return []
    statement = (
        select(Signup, Member)
        .join(Member, col(Member.id) == col(Signup.member_id))
        .where(col(Signup.task_id).in_(task_ids))
        .order_by(col(Signup.task_id), col(Signup.id))
        .limit(MAX_ROWS + 1)
    )
    if isinstance(covered, TeamScope):
        statement = statement.where(col(Signup.member_id).in_(team_members(covered.team)))
    return (await db.exec(statement)).all()


async def _first_texts(db: AsyncSession, tip_ids: list[int]) -> dict[int, str]:
    if not tip_ids:
        return {}
    first = (
        select(TipEntry.tip_id, func.min(TipEntry.id).label("first"))
        .where(col(TipEntry.tip_id).in_(tip_ids), TipEntry.kind == "report")
        .group_by(col(TipEntry.tip_id))
        .subquery()
    )
    rows = await db.exec(select(TipEntry.tip_id, TipEntry.text).join(first, first.c.first == col(TipEntry.id)))
    return dict(rows.all())


def cell(value):
    """Text as typed, never read as a formula by a spreadsheet (a name such as =HYPERLINK(...) stays text)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    """An XLSX file of the sheets (title → rows, the first its heading); every text cell stays text."""
    book = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
