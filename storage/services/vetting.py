"""The background check (政审), a stage between applying and approval that a deployment turns on with
`[members] stages = ["vetted"]`: an officer of the applicant's unit records the result (a leader cannot); a failed
check ends the applications it covers, a passed one lets the leader approve. The latest result counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import (
    Member,
    MembershipStatus,
    PlatformIdentity,
    Team,
    TeamMembership,
    Unit,
    Vetting,
    VettingResult,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor
from storage.services.organisation import audit
from storage.services.outbox import Destination, enqueue
from storage.services.people import rights_of
from storage.services.retry import retry_on_conflict
from storage.settings import settings

MAX_NOTE = 200
RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
FULL_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
MONTH_DAY = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})日?$")


def parse_check_day(text: str, today: date) -> date | None:
    """The day a check was made, as people write it (今天, 昨天, 2026-12-01, 2026年12月1日, 12月1日, 12-01), or None
    when the word is no date. A day to come is refused; a month and day without a year is the latest one so far."""
    word = text.strip()
    if word in RELATIVE_DAYS:
        return today - timedelta(days=RELATIVE_DAYS[word])
    full, short = FULL_DATE.match(word), MONTH_DAY.match(word)
    if not full and not short:
        return None
    try:
        if full:
            day = date(int(full.group(1)), int(full.group(2)), int(full.group(3)))
        else:
            assert short is not None
            day = date(today.year, int(short.group(1)), int(short.group(2)))
            if day > today:
                day = day.replace(year=today.year - 1)
    except ValueError:
        raise DomainError("vetting.bad_day", text=quoted(word)) from None
    if day > today:
        raise DomainError("vetting.day_to_come", text=quoted(word))
    return day


async def latest_results(db: AsyncSession, member_ids: list[int]) -> dict[int, str]:
    """The latest vetting result of each of these members that has one."""
    if not member_ids:
        return {}
    rows = (
        await db.exec(
            select(Vetting.member_id, Vetting.result)
            .where(col(Vetting.member_id).in_(member_ids))
            .order_by(col(Vetting.id))
        )
    ).all()
    return dict(rows)


async def passed(db: AsyncSession, member_id: int) -> bool:
    return (await latest_results(db, [member_id])).get(member_id) == VettingResult.passed


@dataclass(frozen=True)
class VettingRecorded:
    member: Member
    passed: bool
    checked_on: date
    changed: bool
    """False when the same result was the latest already (a repeated command)."""
    teams: list[str] = field(default_factory=list)
    """The teams whose applications it covers: ended when failed, waiting for approval when passed."""


@dataclass(frozen=True)
class VettingNotice:
    """To the applicant, privately: the result of their background check (the note only where the deployment
    allows it)."""

    name: str
    teams: list[str]
    passed: bool
    note: str | None


@retry_on_conflict
async def record_vetting(
    caller: Actor, member_number: int, *, passed_check: bool, checked_on: date | None = None, note: str = ""
) -> VettingRecorded:
    """/政审 成员号 通过|不通过 [日期] [备注]: an officer of the unit of a team the member applies to records the
    result; a failed check ends those applications (in the officer's units), and the applicant is told."""
    if not settings.vetting_on:
        raise DomainError("vetting.off")
    note = " ".join(note.split())[:MAX_NOTE]
    checked_on = checked_on or datetime.now(settings.timezone).date()
    result = VettingResult.passed if passed_check else VettingResult.failed
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("vetting.officers_only")
        member = await db.get(Member, member_number)
        rows = (
            await db.exec(
                select(TeamMembership, Team, Unit)
                .join(Team, col(Team.id) == col(TeamMembership.team_id))
                .join(Unit, col(Unit.id) == col(Team.unit_id))
                .where(TeamMembership.member_id == member_number, TeamMembership.status == MembershipStatus.applied)
                .order_by(col(TeamMembership.id))
            )
        ).all()
        covered = [(membership, team) for membership, team, unit in rows if rights.covers_unit(unit)]
        if member is None or not covered:  # a member of another unit is none of this officer's business
            raise DomainError("vetting.nothing_waits", number=member_number)
        teams = [team.name for _, team in covered]
        latest = (
            await db.exec(select(Vetting).where(Vetting.member_id == member_number).order_by(col(Vetting.id).desc()))
        ).first()
        if latest is not None and latest.result == result and latest.checked_on == checked_on:
            return VettingRecorded(member, passed_check, checked_on, changed=False, teams=teams)
        officer_id = rights.member.id if rights.member else None
        vetting = Vetting(
            member_id=member_number, result=result, checked_on=checked_on, officer_id=officer_id, note=note
        )
        db.add(vetting)
        if not passed_check:
            for membership, _ in covered:
                membership.status = MembershipStatus.rejected
                membership.decided_at = utcnow()
                membership.decided_by = officer_id
                db.add(membership)
        await db.flush()
        await audit(
            db,
            caller,
            rights.member,
            "record_vetting",
            f"member:{member_number}",
            result=result.value,
            checked_on=checked_on.isoformat(),
            teams=teams,
            note=note or None,
        )
        shown_note = note if settings.vetting_note_to_applicant and note else None
        text = notices.render(VettingNotice(name=member.name, teams=teams, passed=passed_check, note=shown_note))
        accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member_number))).all()
        for account in accounts:
            await enqueue(
                db,
                Destination(account.platform, account.user_id, private=True),
                text,
                dedupe_key=f"vetting:{id_of(vetting)}:{account.platform}:{account.user_id}",
            )
        return VettingRecorded(member, passed_check, checked_on, changed=True, teams=teams)
