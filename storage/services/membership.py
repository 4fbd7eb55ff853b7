"""Joining a team and vetting applicants; a member's own profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, bindparam, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import run_reading, session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    JoinRequest,
    Member,
    MembershipStatus,
    MemberStatus,
    MemberTotal,
    PlatformIdentity,
    Role,
    RoleKind,
    Team,
    TeamMembership,
    Unit,
    VettingResult,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor, ChatAccount, ChatGroup, Where
from storage.services.organisation import audit, team_at
from storage.services.outbox import Destination, enqueue
from storage.services.people import (
    PersonRef,
    Rights,
    find_person,
    link_identity,
    mask_phone,
    member_of,
    normalise_name,
    normalise_phone,
    parse_tags,
    rights_of,
    rights_on,
)
from storage.services.retry import retry_on_conflict
from storage.services.totals import ALL_TIME
from storage.services.training.onboarding import completed as completed_course
from storage.services.training.onboarding import completed_pairs, onboarding_course, onboarding_courses
from storage.services.vetting import latest_results
from storage.services.vetting import passed as vetting_passed
from storage.services.when import local
from storage.settings import settings


@dataclass(frozen=True)
class Application:
    number: int
    member: Member
    team: Team
    created: bool
    """False when the same application already existed (a repeated /加入 changes nothing)."""
    already_member: bool = False
    waits_for_vetting: bool = False
    """True when the deployment vets applicants (政审) before the leader approves: the next step is an officer's."""
    onboarding: OnboardingStep | None = None
    """With the stage "trained": the course the applicant is still to complete before approval."""


@dataclass(frozen=True)
class OnboardingStep:
    course_id: int | None
    """None: the unit has no course of the configured name yet (an officer is to define it)."""
    course: str
    online: bool
    """Completed by passing its quiz in private (/学习); otherwise an officer marks it (/结业) after a session."""


async def onboarding_step(db: AsyncSession, team: Team, member_id: int) -> OnboardingStep | None:
    """What of the onboarding course an applicant to this team still has to do; None when nothing (or off)."""
    if not settings.training_stage_on:
        return None
    course = await onboarding_course(db, team)
    if course is None:
        return OnboardingStep(None, settings.onboarding_course, False)
    if await completed_course(db, course, member_id, local(utcnow()).date()):
        return None
    return OnboardingStep(id_of(course), course.name, course.online and bool(course.quiz))


JOIN_REQUEST_LIFETIME = timedelta(days=3)
"""How long an application begun in a group or with an invite waits in private for its next answer."""


@retry_on_conflict
async def apply_to_team(
    caller: ChatAccount, group: ChatGroup, name_text: str, phone_text: str, tag_words: list[str]
) -> Application:
    """/加入 姓名 手机号 in a bound group: apply to that group's team with name, phone and specialties at once."""
    name = normalise_name(name_text)
    phone = normalise_phone(phone_text)
    tags = parse_tags(tag_words)
    async with session() as db:
        located = await team_at(db, group)
        if located is None:
            raise DomainError("membership.group_not_bound")
        return await submit_application(db, caller, located.team, group.group_id, name, phone, tags)


async def join_request(db: AsyncSession, caller: ChatAccount) -> JoinRequest | None:
    request = (
        await db.exec(
            select(JoinRequest).where(JoinRequest.platform == caller.platform, JoinRequest.user_id == caller.user_id)
        )
    ).first()
    if request is None or request.claims_member_id is not None or request.created_at < utcnow() - JOIN_REQUEST_LIFETIME:
        return None  # a claim of a roster record asks nothing more: it waits for the leader (services/claims)
    return request


async def _membership(db: AsyncSession, team_id: int, member_id: int) -> TeamMembership | None:
    statement = select(TeamMembership).where(TeamMembership.team_id == team_id, TeamMembership.member_id == member_id)
    return (await db.exec(statement)).first()


async def submit_application(
    db: AsyncSession,
    caller: ChatAccount,
    team: Team,
    group_id: str | None,
    name: str,
    phone: str,
    tags: list[str],
    invite_id: int | None = None,
) -> Application:
    """The application itself (checked values): to the team, from the group it was begun in (None: in private,
    with an invite)."""
    member = await member_of(db, caller.platform, caller.user_id)
    holder = (await db.exec(select(Member).where(Member.phone == phone))).first()
    if member is None:
        if holder is not None:
            member = await _claim_imported_member(db, holder, name, caller, id_of(team))
        else:
            member = Member(name=name, phone=phone, tags=tags, status=MemberStatus.applied)
            db.add(member)
            await db.flush()
            await link_identity(db, member, caller.platform, caller.user_id)
    elif holder is not None and holder.id != member.id:
        raise DomainError("membership.phone_taken")
    team_id, member_id = id_of(team), id_of(member)
    membership = await _membership(db, team_id, member_id)
    if membership is not None and membership.status in (MembershipStatus.applied, MembershipStatus.active):
        return Application(
            number=id_of(membership),
            member=member,
            team=team,
            created=False,
            already_member=membership.status == MembershipStatus.active,
        )
    member.name = name
    member.phone = phone
    member.tags = list(dict.fromkeys([*member.tags, *tags]))
    if member.status == MemberStatus.left:
        member.status = MemberStatus.applied
    db.add(member)
    if membership is None:
        membership = TeamMembership(team_id=team_id, member_id=member_id)
    membership.status = MembershipStatus.applied
    membership.applied_at = utcnow()
    membership.decided_at = None
    membership.decided_by = None
    membership.reason = None
    membership.applied_platform = caller.platform
    membership.applied_group_id = group_id or None
    membership.invite_id = invite_id
    db.add(membership)
    await db.flush()
    waits = settings.vetting_on and not await vetting_passed(db, member_id)
    return Application(
        number=id_of(membership),
        member=member,
        team=team,
        created=True,
        waits_for_vetting=waits,
        onboarding=await onboarding_step(db, team, member_id),
    )


async def check_claim(db: AsyncSession, holder: Member, name: str, caller: ChatAccount, team_id: int) -> bool:
    """Whether an account with no member may take the record that holds this phone (a roster import's): the name
    must match, the record must have no other account on this platform, and the application must be to a team the
    record is in. A name and a phone are easily known: through another team's group or invite code a stranger
    would otherwise take over the record of a member of any unit (their file, points and sign-ups, and through
    /我的数据 the ID number an import put there). True when the record is this account's own already."""
    if holder.name != name:
        raise DomainError("membership.phone_under_other_name")
    on_platform = (
        await db.exec(
            select(PlatformIdentity).where(
                PlatformIdentity.member_id == holder.id, PlatformIdentity.platform == caller.platform
            )
        )
    ).first()
    if on_platform is not None and on_platform.user_id == caller.user_id:
        return True  # this account's own record, committed by a simultaneous /加入 after we looked
    if on_platform is not None:
        raise DomainError("membership.phone_on_other_account")
    place = await _membership(db, team_id, id_of(holder))
    if place is None or place.status not in (MembershipStatus.active, MembershipStatus.applied):
        raise DomainError("membership.phone_taken")
    return False


async def _claim_imported_member(
    db: AsyncSession, holder: Member, name: str, caller: ChatAccount, team_id: int
) -> Member:
    """A roster import may have registered this phone already: the account joins that record (check_claim)."""
    if not await check_claim(db, holder, name, caller, team_id):
        await link_identity(db, holder, caller.platform, caller.user_id)
    return holder


@dataclass(frozen=True)
class PendingApplication:
    number: int
    name: str
    phone_masked: str
    tags: list[str]
    team_name: str
    applied_at: datetime
    member_number: int = 0
    stage: str = "approval"
    """What it waits for: "vetting" (an officer's 政审, when that stage is on), "training" (the applicant's onboarding
    course, when that stage is on) or "approval" (the leader's)."""


def _decidable_teams(rights: Rights):
    """A query of the teams whose applicants the caller may decide on."""
    statement = select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id))
    if rights.is_admin:
        return statement
    conditions: list[ColumnElement[bool]] = [col(Team.id).in_(rights.leader_team_ids)] if rights.leader_team_ids else []
    for unit in rights.officer_units:
        conditions.append(col(Unit.path) == unit.path)
        conditions.append(col(Unit.path).startswith(unit.path + "/"))
    if not conditions:
        return None
    return statement.where(or_(*conditions))


@dataclass(frozen=True)
class Review:
    """/审核: what waits at each stage, a page of each and how many there are."""

    vetting: list[PendingApplication]
    """Waiting for an officer's background check (empty while that stage is off)."""
    vetting_total: int
    approval: list[PendingApplication]
    """Waiting for a leader's or officer's decision."""
    approval_total: int
    training: list[PendingApplication] = field(default_factory=list)
    """Waiting for the applicant to complete the onboarding course (empty while that stage is off)."""
    training_total: int = 0


async def review(caller: Actor, where: Where | None, limit: int = 20) -> Review:
    """/审核 by stage: applications waiting for the caller (in a group: that group's team only)."""
    every = await _pending(caller, where)
    by_stage = {
        stage: [application for application in every if application.stage == stage]
        for stage in ("vetting", "training", "approval")
    }
    vetting, training, approval = by_stage["vetting"], by_stage["training"], by_stage["approval"]
    return Review(vetting[:limit], len(vetting), approval[:limit], len(approval), training[:limit], len(training))


async def list_pending(caller: Actor, where: Where | None, limit: int = 20) -> tuple[list[PendingApplication], int]:
    """Applications waiting for the caller (in a group: that group's team only): a page and the total."""
    every = await _pending(caller, where)
    return every[:limit], len(every)


async def _untrained(db: AsyncSession, rows) -> set[tuple[int, int]]:
    """(member, team) of the applications still waiting for the onboarding course, in a few statements however
    many there are."""
    courses = await onboarding_courses(db, list({id_of(team): team for _, _, team in rows}.values()))
    pairs = [(id_of(course), id_of(member)) for _, member, team in rows if (course := courses[id_of(team)])]
    done = await completed_pairs(db, pairs, local(utcnow()).date())
    return {
        (id_of(member), id_of(team))
        for _, member, team in rows
        if (course := courses[id_of(team)]) is None or (id_of(course), id_of(member)) not in done
    }


async def decidable_team_ids(db: AsyncSession, rights: Rights, where: Where | None) -> list[int]:
    """The teams whose applicants the caller decides on: in a bound group that group's team, refused unless the
    caller may; elsewhere every team they lead or whose unit they are an officer of (or above)."""
    if where is not None:
        located = await team_at(db, where)
        if located is None:
            raise DomainError("membership.group_not_bound_for_review")
        if not rights.may_decide_for(located.team, located.unit):
            raise NotAllowed("membership.review_this_team_only")
        return [id_of(located.team)]
    teams = _decidable_teams(rights)
    if teams is None:
        raise NotAllowed("membership.review_leaders_and_officers_only")
    return [id_of(team) for team, _unit in (await db.exec(teams)).all()]


async def tell_deciders(db: AsyncSession, team: Team, text: str) -> None:
    """Privately, to the team's leaders, or to its unit's officers while it has no leader (within the caller's
    transaction: once)."""
    for kind, scope in ((RoleKind.leader, id_of(team)), (RoleKind.officer, team.unit_id)):
        accounts = (
            await db.exec(
                select(PlatformIdentity)
                .join(Role, col(Role.member_id) == col(PlatformIdentity.member_id))
                .where(Role.kind == kind, Role.scope_id == scope)
                .order_by(col(PlatformIdentity.id))
            )
        ).all()
        for account in accounts:
            await enqueue(db, Destination(account.platform, account.user_id, private=True), text)
        if accounts:
            return


async def _pending(caller: Actor, where: Where | None) -> list[PendingApplication]:
    async with session() as db:
        team_ids = await decidable_team_ids(db, await rights_of(db, caller), where)
        if not team_ids:
            return []
        statement = (
            select(TeamMembership, Member, Team)
            .join(Member, col(Member.id) == col(TeamMembership.member_id))
            .join(Team, col(Team.id) == col(TeamMembership.team_id))
            .where(col(TeamMembership.team_id).in_(team_ids), TeamMembership.status == MembershipStatus.applied)
            .order_by(col(TeamMembership.applied_at), col(TeamMembership.id))
        )
        rows = (await db.exec(statement)).all()
        results = await latest_results(db, [id_of(member) for _, member, _ in rows]) if settings.vetting_on else {}
        untrained = await _untrained(db, rows) if settings.training_stage_on else set()

        def stage(member: Member, team: Team) -> str:
            if settings.vetting_on and results.get(id_of(member)) != VettingResult.passed:
                return "vetting"
            return "training" if (id_of(member), id_of(team)) in untrained else "approval"

        every = [
            PendingApplication(
                number=id_of(membership),
                name=member.name,
                phone_masked=mask_phone(member.phone),
                tags=list(member.tags),
                team_name=team.name,
                applied_at=membership.applied_at,
                member_number=id_of(member),
                stage=stage(member, team),
            )
            for membership, member, team in rows
        ]
        order = {"vetting": 0, "training": 1, "approval": 2}
        every.sort(key=lambda application: order[application.stage])  # stable: by stage, then as applied
        return every


@dataclass(frozen=True)
class Decision:
    number: int
    member: Member
    team: Team
    approved: bool
    changed: bool
    """False when the application had already been decided this way (a double click)."""
    reason: str | None
    applicant_platform: str | None
    applicant_group_id: str | None
    applicant_accounts: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ApplicationDecidedNotice:
    """To the applicant, privately and in the group they applied from: their application was decided."""

    name: str
    team: str
    member_number: int
    approved: bool
    reason: str | None


async def _refuse_untrained(db: AsyncSession, team: Team, unit: Unit, member: Member, number: int) -> None:
    """With the stage "trained": approval waits until the applicant completed the onboarding course."""
    course = await onboarding_course(db, team)
    if course is None:
        raise DomainError("membership.no_onboarding_course", course=settings.onboarding_course, unit=unit.name)
    if not await completed_course(db, course, id_of(member), local(utcnow()).date()):
        raise DomainError(
            "membership.waits_for_training",
            number=number,
            name=member.name,
            course_id=id_of(course),
            course=course.name,
            online=course.online and bool(course.quiz),
        )


@retry_on_conflict
async def decide_application(
    caller: Actor,
    *,
    approve: bool,
    number: int | None = None,
    person: PersonRef | None = None,
    where: Where | None = None,
    reason: str | None = None,
) -> Decision:
    """/通过 and /拒绝: a leader of the team or an officer of its unit decides; the caller is told who to notify."""
    reason = (reason or "").strip()[:200] or None
    async with session() as db:
        rights = await rights_of(db, caller)
        membership = await _find_application(db, number, person, where)
        team, unit, member = (
            await db.exec(
                select(Team, Unit, Member)
                .join(Unit, col(Unit.id) == col(Team.unit_id))
                .join(TeamMembership, col(TeamMembership.team_id) == col(Team.id))
                .join(Member, col(Member.id) == col(TeamMembership.member_id))
                .where(TeamMembership.id == membership.id)
            )
        ).one()
        if not rights.may_decide_for(team, unit):
            raise NotAllowed("membership.review_team_only", team=team.name)
        target_status = MembershipStatus.active if approve else MembershipStatus.rejected
        changed = membership.status != target_status
        if membership.status not in (MembershipStatus.applied, target_status):
            raise DomainError(
                "membership.decided_already", number=membership.id, name=member.name, status=membership.status
            )
        member_id = id_of(member)
        if changed and approve and settings.vetting_on and not await vetting_passed(db, member_id):
            raise DomainError("membership.waits_for_vetting", number=membership.id, name=member.name)
        if changed and approve and settings.training_stage_on:
            await _refuse_untrained(db, team, unit, member, id_of(membership))
        if changed:
            membership.status = target_status
            membership.decided_at = utcnow()
            membership.decided_by = rights.member.id if rights.member else None
            membership.reason = reason
            db.add(membership)
            if approve and member.status in (MemberStatus.applied, MemberStatus.left):
                member.status = MemberStatus.active
            if approve and member.joined_at is None:
                member.joined_at = utcnow()
            db.add(member)
            await audit(
                db,
                caller,
                rights.member,
                "approve_application" if approve else "reject_application",
                f"member:{member_id}",
                team=team.name,
                application=membership.id,
                reason=reason,
            )
        accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member_id))).all()
        addresses = [(account.platform, account.user_id) for account in accounts]
        if changed:
            notice = ApplicationDecidedNotice(
                name=member.name, team=team.name, member_number=member_id, approved=approve, reason=reason
            )
            await _tell_applicant(db, membership, notices.render(notice), addresses, where)
        return Decision(
            number=id_of(membership),
            member=member,
            team=team,
            approved=approve,
            changed=changed,
            reason=membership.reason,
            applicant_platform=membership.applied_platform,
            applicant_group_id=membership.applied_group_id,
            applicant_accounts=addresses,
        )


async def _tell_applicant(
    db: AsyncSession,
    membership: TeamMembership,
    text: str,
    accounts: list[tuple[str, str]],
    where: Where | None,
) -> None:
    """The applicant hears of the decision privately, and in the group they applied from unless it was decided there."""
    for platform, user_id in accounts:
        await enqueue(db, Destination(platform, user_id, private=True), text)
    platform, applied_in = membership.applied_platform, membership.applied_group_id
    decided_there = isinstance(where, ChatGroup) and (where.platform, where.group_id) == (platform, applied_in)
    if platform and applied_in and not decided_there:
        await enqueue(db, Destination(platform, applied_in), text)


async def _find_application(
    db: AsyncSession, number: int | None, person: PersonRef | None, where: Where | None
) -> TeamMembership:
    if number is not None:
        membership = await db.get(TeamMembership, number)
        if membership is None:
            raise DomainError("membership.no_such_application", number=number)
        return membership
    if person is None:
        raise DomainError("membership.which_application")
    member = await find_person(db, person)
    statement = select(TeamMembership).where(TeamMembership.member_id == member.id)
    if where is not None:
        located = await team_at(db, where)
        if located is not None:
            statement = statement.where(TeamMembership.team_id == located.team.id)
    memberships = (await db.exec(statement.order_by(col(TeamMembership.applied_at).desc()))).all()
    waiting = [membership for membership in memberships if membership.status == MembershipStatus.applied]
    if len(waiting) > 1:
        raise DomainError("membership.several_applications", name=member.name)
    if waiting:
        return waiting[0]
    if memberships:
        return memberships[0]
    raise DomainError("membership.nothing_to_decide", name=member.name)


@dataclass(frozen=True)
class TeamPlace:
    team_name: str
    unit_path: str
    status: str
    is_leader: bool


@dataclass(frozen=True)
class Profile:
    member: Member | None
    teams: list[TeamPlace]
    officer_units: list[str]
    is_admin: bool
    points: int = 0


_PROFILE = (  # the balance, and a row for each of the member's teams (one row with none when there are none)
    core_select(
        select(MemberTotal.spendable)
        .where(col(MemberTotal.member_id) == bindparam("member_id"), MemberTotal.period == ALL_TIME)
        .scalar_subquery()
        .label("balance"),
        col(TeamMembership.status).label("status"),
        col(Team.id).label("team_id"),
        col(Team.name).label("team_name"),
        col(Unit.path).label("unit_path"),
    )
    .select_from(Member)
    .outerjoin(TeamMembership, col(TeamMembership.member_id) == col(Member.id))
    .outerjoin(Team, col(Team.id) == col(TeamMembership.team_id))
    .outerjoin(Unit, col(Unit.id) == col(Team.unit_id))
    .where(col(Member.id) == bindparam("member_id"))
    .order_by(col(TeamMembership.id))
)


async def my_profile(caller: Actor) -> Profile:
    """/我的: the caller's member number, teams, tags, roles and status (two statements, Core rows)."""
    return await run_reading(_profile_on, caller)


def _profile_on(connection: Connection, caller: Actor) -> Profile:
    rights = rights_on(connection, caller)
    if rights.member is None:
        return Profile(member=None, teams=[], officer_units=[], is_admin=rights.is_admin)
    rows = connection.execute(_PROFILE, {"member_id": id_of(rights.member)}).all()
    teams = [
        TeamPlace(
            team_name=row.team_name,
            unit_path=row.unit_path,
            status=row.status,
            is_leader=row.team_id in rights.leader_team_ids,
        )
        for row in rows
        if row.status is not None and row.team_name is not None and row.unit_path is not None
    ]
    return Profile(
        member=rights.member,
        teams=teams,
        officer_units=[unit.path for unit in rights.officer_units],
        is_admin=rights.is_admin,
        points=int(rows[0].balance or 0) if rows else 0,
    )
