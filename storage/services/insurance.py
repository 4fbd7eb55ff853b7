"""Members' accident insurance (/保险): officers of a member's units record a policy, the member and those officers
see it, reminders go before it runs out, and (optionally) an uninsured member cannot sign up for a task.

The policy that counts is the member's newest by valid_until (a renewal recorded later supersedes the old one).
A policy is valid through the day of its valid_until, in the configured time zone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, exists
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import reading, session
from storage.errors import DomainError, quoted
from storage.models import (
    Insurance,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    Priority,
    Role,
    RoleKind,
    TaskTeam,
    Team,
    TeamMembership,
    Unit,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor
from storage.services.organisation import audit, member_for_officer
from storage.services.outbox import Destination, enqueue, tell_member
from storage.services.people import PersonRef, rights_of
from storage.services.retry import retry_on_conflict
from storage.services.runs import claim_run, finish_run
from storage.services.when import parse_date_range
from storage.settings import settings

MAX_INSURER = 30
MAX_POLICY_NUMBER = 40
POLICY_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/]*$")
INSURER_MARKS = frozenset("()（）·-")
"""Besides letters and digits, what an insurer's name may hold: 中国人寿(山东), 中华联合·财险."""
YEAR_WRITTEN = re.compile(r"\d{4}|今年|明年|后年")
REMINDER_KIND = "insurance"
"""Broadcast.kind of a day's insurance reminders: one run a day, however many processes there are."""


def mask_policy(number: str) -> str:
    """A policy number as the member and group chats see it: PICC2027****1234 keeps the first four and last four
    characters of a long number, the last two of a short one."""
    if len(number) > 10:
        return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
    if len(number) > 4:
        return f"{'*' * (len(number) - 2)}{number[-2:]}"
    return "*" * len(number)


def today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(settings.timezone).date()


def parse_valid_until(text: str, now: datetime | None = None) -> date:
    """The last day a policy covers, written the way people write a date (2027-6-30, 2027年6月30日, 2027/6/30,
    明年6月30日). A day without a year is the next one to come. Refused: a period longer than a day, a day past."""
    now = now or utcnow()
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        raise DomainError("insurance.no_date")
    try:
        period = parse_date_range(cleaned, now)
    except DomainError as error:
        raise DomainError("insurance.bad_date", text=quoted(text)) from error
    start = period.start.astimezone(settings.timezone)
    if period.end - period.start > timedelta(days=1):
        raise DomainError("insurance.date_not_a_day", text=quoted(text))
    day = start.date()
    if day < today(now) and not YEAR_WRITTEN.search(cleaned):
        day = _next_year(day)
    if day < today(now):
        raise DomainError("insurance.date_past", day=day)
    return day


def _next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 2月29日 of a leap year: the next year's has none
        return day.replace(year=day.year + 1, day=28)


def check_insurer(text: str) -> str:
    insurer = unicodedata.normalize("NFKC", text).strip()
    if not insurer or len(insurer) > MAX_INSURER or not any(ch.isalpha() for ch in insurer):
        raise DomainError("insurance.bad_insurer", most=MAX_INSURER)
    if not all(ch.isalpha() or ch.isdecimal() or ch in INSURER_MARKS for ch in insurer):
        raise DomainError("insurance.bad_insurer", most=MAX_INSURER)
    return insurer


def check_policy_number(text: str) -> str:
    number = unicodedata.normalize("NFKC", text).strip()
    if not number or len(number) > MAX_POLICY_NUMBER or not POLICY_NUMBER.match(number):
        raise DomainError("insurance.bad_policy_number", most=MAX_POLICY_NUMBER)
    return number


@dataclass(frozen=True)
class Policy:
    """A member's policy that counts, with whose it is."""

    member_id: int
    member_name: str
    insurer: str
    policy_number: str
    valid_until: date
    valid: bool
    """Whether it still covers today."""


@dataclass(frozen=True)
class PolicyRecorded:
    policy: Policy
    changed: bool
    """False when the same policy was recorded for the member already (a double send)."""
    told: bool
    """Whether the member has an account to be told on."""


@dataclass(frozen=True)
class InsuranceRecordedNotice:
    """To the member, privately: an officer recorded their policy (the number masked)."""

    insurer: str
    policy_number: str
    valid_until: date


@dataclass(frozen=True)
class InsuranceExpiringNotice:
    """To the member, privately, some days before their policy runs out (the number masked)."""

    insurer: str
    policy_number: str
    valid_until: date
    days_left: int


@dataclass(frozen=True)
class MemberInsuranceExpiringNotice:
    """To a leader of the member's team, privately: a member's policy runs out soon (no policy number)."""

    member_id: int
    member_name: str
    valid_until: date
    days_left: int


def _policy(member: Member, row: Insurance, now: datetime | None = None) -> Policy:
    return Policy(
        member_id=id_of(member),
        member_name=member.name,
        insurer=row.insurer,
        policy_number=row.policy_number,
        valid_until=row.valid_until,
        valid=row.valid_until >= today(now),
    )


async def current_policy(db: AsyncSession, member_id: int) -> Insurance | None:
    """The member's policy that counts: the newest by valid_until (then the one recorded last)."""
    statement = (
        select(Insurance)
        .where(Insurance.member_id == member_id)
        .order_by(col(Insurance.valid_until).desc(), col(Insurance.id).desc())
        .limit(1)
    )
    return (await db.exec(statement)).first()


@retry_on_conflict
async def record_policy(
    caller: Actor, target: PersonRef, insurer: str, policy_number: str, valid_until: str, now: datetime | None = None
) -> PolicyRecorded:
    """/保险 成员号 保险公司 保单号 有效期至: an officer of the member's units records a policy; audited, and the
    member is told privately."""
    insurer = check_insurer(insurer)
    number = check_policy_number(policy_number)
    day = parse_valid_until(valid_until, now)
    async with session() as db:
        member, officer = await member_for_officer(db, caller, target, refusals="insurance", act="record")
        member_id = id_of(member)
        same = (
            await db.exec(
                select(Insurance).where(
                    Insurance.member_id == member_id,
                    Insurance.policy_number == number,
                    Insurance.valid_until == day,
                )
            )
        ).first()
        accounts = (await db.exec(select(PlatformIdentity.id).where(PlatformIdentity.member_id == member_id))).all()
        if same is not None:
            return PolicyRecorded(policy=_policy(member, same, now), changed=False, told=bool(accounts))
        row = Insurance(
            member_id=member_id, insurer=insurer, policy_number=number, valid_until=day, recorded_by=id_of(officer)
        )
        db.add(row)
        await db.flush()
        await audit(
            db,
            caller,
            officer,
            "record_insurance",
            f"member:{member_id}",
            insurer=insurer,
            policy_number=mask_policy(number),
            valid_until=day.isoformat(),
        )
        notice = InsuranceRecordedNotice(insurer=insurer, policy_number=mask_policy(number), valid_until=day)
        told = await tell_member(db, member_id, notices.render(notice))
        return PolicyRecorded(policy=_policy(member, row, now), changed=True, told=told > 0)


@dataclass(frozen=True)
class MemberPolicy:
    member_id: int
    """The member's number, however the officer named them (an @-mention too)."""
    policy: Policy | None
    """None: none recorded."""


async def policy_for_officer(caller: Actor, target: PersonRef, now: datetime | None = None) -> MemberPolicy:
    """/保险 成员号 (or @某人): the member's policy that counts, for an officer of their units."""
    async with reading() as db:
        member, _ = await member_for_officer(db, caller, target, refusals="insurance", act="show")
        row = await current_policy(db, id_of(member))
        return MemberPolicy(id_of(member), _policy(member, row, now) if row is not None else None)


@dataclass(frozen=True)
class OwnPolicy:
    name: str | None
    """None for an officer or administrator who is no member (named only in the settings)."""
    policy: Policy | None
    is_officer: bool
    """Whether the caller also records their members' policies (the face adds how)."""


async def my_policy(caller: Actor, now: datetime | None = None) -> OwnPolicy:
    """/保险 from a member: their own policy that counts (the face masks its number)."""
    async with reading() as db:
        rights = await rights_of(db, caller)
        member = rights.member
        if member is None:
            if rights.is_officer:
                return OwnPolicy(name=None, policy=None, is_officer=True)
            raise DomainError("organisation.not_registered")
        row = await current_policy(db, id_of(member))
        policy = _policy(member, row, now) if row is not None else None
        return OwnPolicy(name=member.name, policy=policy, is_officer=rights.is_officer)


# ---- the rule for signing up (storage/services/tasks/signup.py asks it, on its own connection)

_INSURED_ON = (
    select(Insurance.id)
    .where(col(Insurance.member_id) == bindparam("member_id"), col(Insurance.valid_until) >= bindparam("day"))
    .limit(1)
)
_WHOM_TO_ASK = (
    select(Unit.name)
    .join(Team, col(Team.unit_id) == col(Unit.id))
    .join(TaskTeam, col(TaskTeam.team_id) == col(Team.id))
    .join(TeamMembership, col(TeamMembership.team_id) == col(Team.id))
    .where(
        col(TaskTeam.task_id) == bindparam("task_id"),
        col(TeamMembership.member_id) == bindparam("member_id"),
        col(TeamMembership.status) == MembershipStatus.active.value,
    )
    .limit(1)
)


def refuse_if_uninsured(connection: Connection, task_id: int, member_id: int, start_at: datetime) -> None:
    """With `[members] require_insurance`: refuse (`insurance.not_insured`, naming the unit whose officers record
    policies) a member without a policy valid on the task's day."""
    day = start_at.astimezone(settings.timezone).date()
    if connection.execute(_INSURED_ON, {"member_id": member_id, "day": day}).first() is not None:
        return
    unit = connection.execute(_WHOM_TO_ASK, {"task_id": task_id, "member_id": member_id}).scalar()
    raise DomainError("insurance.not_insured", task_id=task_id, day=day, unit=unit or "")


# ---- reminders before a policy runs out


def reminders_due(now: datetime) -> bool:
    """Whether today's reminders are due: from the configured time of day on."""
    if not settings.insurance_reminder_days or settings.insurance_reminder_at is None:
        return False
    hour, minute = settings.insurance_reminder_at
    local = now.astimezone(settings.timezone)
    return local >= local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def reminder_for(valid_until: date, day: date) -> int | None:
    """Which reminder a policy is due on `day`: the nearest of the configured days before its end it has reached
    (30 for 20 days left, 7 for 5 left with [30, 7]); None when it is further off or already over."""
    left = (valid_until - day).days
    if left < 0:
        return None
    reached = [days for days in settings.insurance_reminder_days if left <= days]
    return min(reached) if reached else None


_Newer = aliased(Insurance)
_SUPERSEDED = exists().where(
    col(_Newer.member_id) == col(Insurance.member_id),
    (col(_Newer.valid_until) > col(Insurance.valid_until))
    | ((col(_Newer.valid_until) == col(Insurance.valid_until)) & (col(_Newer.id) > col(Insurance.id))),
)
"""A newer policy of the same member (by valid_until, then by id): the one it supersedes no longer counts."""


@retry_on_conflict
async def send_expiry_reminders(now: datetime | None = None) -> int:
    """Once a day (from `[members] insurance_reminder_time`): each policy that counts and runs out within the
    configured days gets the reminder it has reached, to the member and the leaders of their teams, through the
    outbox. A day's run is claimed by one process (a Broadcast row of the day) in one transaction, so a restart
    or a second process sends nothing twice; each message's dedupe key (policy, reminder, account) makes a
    reminder once over the days as well, and one missed while the bot was down goes the next day. Returns the
    messages queued."""
    now = now or utcnow()
    if not reminders_due(now):
        return 0
    day = today(now)
    async with session() as db:
        run = await claim_run(db, REMINDER_KIND, str(day))
        if run is None:
            return 0
        furthest = day + timedelta(days=max(settings.insurance_reminder_days))
        rows = (
            await db.exec(
                select(Insurance, Member)
                .join(Member, col(Member.id) == col(Insurance.member_id))
                .where(
                    col(Insurance.valid_until) >= day,
                    col(Insurance.valid_until) <= furthest,
                    col(Member.status) != MemberStatus.left.value,
                    col(Member.erased_at).is_(None),
                    ~_SUPERSEDED,
                )
                .order_by(col(Insurance.id))
            )
        ).all()
        queued = 0
        for policy, member in rows:
            days = reminder_for(policy.valid_until, day)
            if days is not None:
                queued += await _remind(db, policy, member, days, (policy.valid_until - day).days)
        finish_run(db, run, queued)
        return queued


async def _remind(db: AsyncSession, policy: Insurance, member: Member, days: int, left: int) -> int:
    member_id = id_of(member)
    to_member = notices.render(
        InsuranceExpiringNotice(policy.insurer, mask_policy(policy.policy_number), policy.valid_until, left)
    )
    to_leaders = notices.render(MemberInsuranceExpiringNotice(member_id, member.name, policy.valid_until, left))
    leaders = select(Role.member_id).where(
        Role.kind == RoleKind.leader,
        col(Role.scope_id).in_(
            select(TeamMembership.team_id).where(
                TeamMembership.member_id == member_id, TeamMembership.status == MembershipStatus.active
            )
        ),
        Role.member_id != member_id,
    )
    accounts = (
        await db.exec(
            select(PlatformIdentity).where(
                (col(PlatformIdentity.member_id) == member_id) | col(PlatformIdentity.member_id).in_(leaders)
            )
        )
    ).all()
    queued = 0
    for account in accounts:
        key = f"{REMINDER_KIND}:{policy.id}:{days}:{account.id}"
        text = to_member if account.member_id == member_id else to_leaders
        destination = Destination(account.platform, account.user_id, private=True)
        queued += await enqueue(db, destination, text, priority=Priority.reminder, dedupe_key=key)
    return queued
