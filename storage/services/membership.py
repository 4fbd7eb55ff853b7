"""Joining a team and vetting applicants; a member's own profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    JoinRequest,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    Team,
    TeamMembership,
    Unit,
    utcnow,
)
from storage.services.ledger import balance_of
from storage.services.organisation import audit, team_of_group
from storage.services.outbox import Destination, enqueue
from storage.services.people import (
    Caller,
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
)
from storage.services.retry import retry_on_conflict


@dataclass(frozen=True)
class Application:
    number: int
    member: Member
    team: Team
    created: bool
    """False when the same application already existed (a repeated /加入 changes nothing)."""
    already_member: bool = False


JOIN_REQUEST_LIFETIME = timedelta(days=3)
"""How long an application begun in a group waits for the phone number in private."""


@retry_on_conflict
async def apply_to_team(
    caller: Caller, group_id: str, name_text: str, phone_text: str, tag_words: list[str]
) -> Application:
    """/加入 姓名 手机号 in a bound group: apply to that group's team with name, phone and specialties at once."""
    name = normalise_name(name_text)
    phone = normalise_phone(phone_text)
    tags = parse_tags(tag_words)
    async with session() as db:
        located = await team_of_group(db, caller.platform, group_id)
        if located is None:
            raise DomainError("本群还没有绑定队伍，暂时不能加入。请联系民警先发送 /绑定队伍 队伍名")
        return await _apply(db, caller, located.team, group_id, name, phone, tags)


@dataclass(frozen=True)
class JoinStarted:
    """/加入 姓名 in a group: what happened."""

    team: Team
    name: str
    waiting_for_phone: bool
    """True when the application now waits for the phone number in private."""
    application: Application | None = None
    """Set when the caller is a member of the team already, or has applied to it already."""


@retry_on_conflict
async def start_application(caller: Caller, group_id: str, name_text: str, tag_words: list[str]) -> JoinStarted:
    """/加入 姓名 [特长] in a bound group: the name and specialties are kept until the phone number comes in
    private (finish_application); nothing personal is asked or said in the group."""
    name = normalise_name(name_text)
    tags = parse_tags(tag_words)
    async with session() as db:
        located = await team_of_group(db, caller.platform, group_id)
        if located is None:
            raise DomainError("本群还没有绑定队伍，暂时不能加入。请联系民警先发送 /绑定队伍 队伍名")
        member = await member_of(db, caller.platform, caller.user_id)
        if member is not None:
            existing = await _membership(db, located.team.id, member.id)
            if existing is not None and existing.status in (MembershipStatus.applied, MembershipStatus.active):
                application = Application(
                    number=existing.id,
                    member=member,
                    team=located.team,
                    created=False,
                    already_member=existing.status == MembershipStatus.active,
                )
                return JoinStarted(team=located.team, name=name, waiting_for_phone=False, application=application)
        request = await _join_request(db, caller)
        request = request or JoinRequest(platform=caller.platform, user_id=caller.user_id, team_id=located.team.id)
        request.team_id, request.group_id, request.name, request.tags = located.team.id, group_id, name, tags
        request.created_at = utcnow()
        db.add(request)
        prompt = (
            f"{name}，你在“{located.team.name}”的群里申请加入。请直接回复你的手机号（11位，例如 13800138000），"
            "只有队长和民警能看到，显示时会隐去中间四位。"
        )
        await enqueue(db, Destination(caller.platform, caller.user_id, private=True), prompt, best_effort=True)
        return JoinStarted(team=located.team, name=name, waiting_for_phone=True)


async def pending_join(caller: Caller) -> JoinRequest | None:
    """The application the caller began in a group and has not finished, if any (and not too old)."""
    async with session() as db:
        return await _join_request(db, caller)


@retry_on_conflict
async def finish_application(caller: Caller, phone_text: str, name_text: str | None = None) -> Application:
    """The phone number, sent in private, finishes the application begun in a group."""
    phone = normalise_phone(phone_text)
    async with session() as db:
        request = await _join_request(db, caller)
        if request is None:
            raise DomainError("请先在你的队伍群里发送 /加入 姓名，再私聊我发送手机号。")
        team = await db.get(Team, request.team_id)
        name = normalise_name(name_text) if name_text else request.name
        application = await _apply(db, caller, team, request.group_id, name, phone, list(request.tags))
        await db.delete(request)
        return application


async def _join_request(db: AsyncSession, caller: Caller) -> JoinRequest | None:
    request = (
        await db.exec(
            select(JoinRequest).where(JoinRequest.platform == caller.platform, JoinRequest.user_id == caller.user_id)
        )
    ).first()
    if request is None or request.created_at < utcnow() - JOIN_REQUEST_LIFETIME:
        return None
    return request


async def _membership(db: AsyncSession, team_id: int, member_id: int) -> TeamMembership | None:
    statement = select(TeamMembership).where(TeamMembership.team_id == team_id, TeamMembership.member_id == member_id)
    return (await db.exec(statement)).first()


async def _apply(
    db: AsyncSession, caller: Caller, team: Team, group_id: str, name: str, phone: str, tags: list[str]
) -> Application:
    """The application itself (checked values): to the team, from the group it was begun in."""
    member = await member_of(db, caller.platform, caller.user_id)
    holder = (await db.exec(select(Member).where(Member.phone == phone))).first()
    if member is None:
        if holder is not None:
            member = await _claim_imported_member(db, holder, name, caller)
        else:
            member = Member(name=name, phone=phone, tags=tags, status=MemberStatus.applied)
            db.add(member)
            await db.flush()
            await link_identity(db, member, caller.platform, caller.user_id)
    elif holder is not None and holder.id != member.id:
        raise DomainError("这个手机号已被别人登记：请检查号码，或联系队长。")
    membership = await _membership(db, team.id, member.id)
    if membership is not None and membership.status in (MembershipStatus.applied, MembershipStatus.active):
        return Application(
            number=membership.id,
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
        membership = TeamMembership(team_id=team.id, member_id=member.id)
    membership.status = MembershipStatus.applied
    membership.applied_at = utcnow()
    membership.decided_at = None
    membership.decided_by = None
    membership.reason = None
    membership.applied_platform = caller.platform
    membership.applied_group_id = group_id
    db.add(membership)
    await db.flush()
    return Application(number=membership.id, member=member, team=team, created=True)


async def _claim_imported_member(db: AsyncSession, holder: Member, name: str, caller: Caller) -> Member:
    """A roster import may have registered this phone already: the account joins that record if the name matches."""
    if holder.name != name:
        raise DomainError("这个手机号已登记在别的姓名下：请检查姓名和号码，或联系队长。")
    on_platform = (
        await db.exec(
            select(PlatformIdentity).where(
                PlatformIdentity.member_id == holder.id, PlatformIdentity.platform == caller.platform
            )
        )
    ).first()
    if on_platform is not None and on_platform.user_id == caller.user_id:
        return holder  # this account's own record, committed by a simultaneous /加入 after we looked
    if on_platform is not None:
        raise DomainError("这个手机号已绑定了另一个账号：请用原账号操作，或联系队长。")
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


def _decidable_teams(rights: Rights):
    """A query of the teams whose applicants the caller may decide on."""
    statement = select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id))
    if rights.is_admin:
        return statement
    conditions = [col(Team.id).in_(rights.leader_team_ids)] if rights.leader_team_ids else []
    for unit in rights.officer_units:
        conditions.append(Unit.path == unit.path)
        conditions.append(col(Unit.path).startswith(unit.path + "/"))
    if not conditions:
        return None
    return statement.where(or_(*conditions))


async def list_pending(caller: Caller, group_id: str | None, limit: int = 20) -> tuple[list[PendingApplication], int]:
    """/审核: applications waiting for the caller (in a group: that group's team only). Returns a page and the total."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if group_id is not None:
            located = await team_of_group(db, caller.platform, group_id)
            if located is None:
                raise DomainError("本群还没有绑定队伍。私聊我发送 /审核 可以看你管的所有队伍。")
            if not rights.may_decide_for(located.team, located.unit):
                raise NotAllowed("只有本队队长和民警可以审核。")
            team_ids = [located.team.id]
        else:
            teams = _decidable_teams(rights)
            if teams is None:
                raise NotAllowed("只有队长和民警可以审核。")
            team_ids = [team.id for team, _unit in (await db.exec(teams)).all()]
        if not team_ids:
            return [], 0
        statement = (
            select(TeamMembership, Member, Team)
            .join(Member, col(Member.id) == col(TeamMembership.member_id))
            .join(Team, col(Team.id) == col(TeamMembership.team_id))
            .where(col(TeamMembership.team_id).in_(team_ids), TeamMembership.status == MembershipStatus.applied)
            .order_by(col(TeamMembership.applied_at), col(TeamMembership.id))
        )
        rows = (await db.exec(statement)).all()
        page = [
            PendingApplication(
                number=membership.id,
                name=member.name,
                phone_masked=mask_phone(member.phone),
                tags=list(member.tags),
                team_name=team.name,
                applied_at=membership.applied_at,
            )
            for membership, member, team in rows[:limit]
        ]
        return page, len(rows)


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


@retry_on_conflict
async def decide_application(
    caller: Caller,
    *,
    approve: bool,
    number: int | None = None,
    person: PersonRef | None = None,
    group_id: str | None = None,
    reason: str | None = None,
) -> Decision:
    """/通过 and /拒绝: a leader of the team or an officer of its unit decides; the caller is told who to notify."""
    reason = (reason or "").strip()[:200] or None
    async with session() as db:
        rights = await rights_of(db, caller)
        membership = await _find_application(db, caller, rights, number, person, group_id)
        team = await db.get(Team, membership.team_id)
        unit = await db.get(Unit, team.unit_id)
        if not rights.may_decide_for(team, unit):
            raise NotAllowed(f"只有“{team.name}”的队长和民警可以审核。")
        member = await db.get(Member, membership.member_id)
        target_status = MembershipStatus.active if approve else MembershipStatus.rejected
        changed = membership.status != target_status
        if membership.status not in (MembershipStatus.applied, target_status):
            state = {"active": "已是正式队员", "rejected": "已被拒绝", "left": "已退出"}[membership.status]
            raise DomainError(f"申请 {membership.id}（{member.name}）{state}，无需再审。")
        if changed:
            membership.status = target_status
            membership.decided_at = utcnow()
            membership.decided_by = rights.member.id if rights.member else None
            membership.reason = reason
            db.add(membership)
            if approve and member.status in (MemberStatus.applied, MemberStatus.left):
                member.status = MemberStatus.active
                db.add(member)
            await audit(
                db,
                caller,
                rights.member,
                "approve_application" if approve else "reject_application",
                f"member:{member.id}",
                team=team.name,
                application=membership.id,
                reason=reason,
            )
        accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member.id))).all()
        addresses = [(account.platform, account.user_id) for account in accounts]
        if changed:
            await _tell_applicant(db, membership, member, team, approve, addresses, caller, group_id)
        return Decision(
            number=membership.id,
            member=member,
            team=team,
            approved=approve,
            changed=changed,
            reason=membership.reason,
            applicant_platform=membership.applied_platform,
            applicant_group_id=membership.applied_group_id,
            applicant_accounts=[(account.platform, account.user_id) for account in accounts],
        )


def decision_notice(member: Member, team: Team, approved: bool, reason: str | None) -> str:
    if approved:
        return f"{member.name}，你加入“{team.name}”的申请已通过，成员号 {member.id}。发送 /帮助 看看能做什么。"
    because = f"，理由：{reason}" if reason else ""
    return f"{member.name}，你加入“{team.name}”的申请没有通过{because}。有疑问请联系队长。"


async def _tell_applicant(
    db: AsyncSession,
    membership: TeamMembership,
    member: Member,
    team: Team,
    approved: bool,
    accounts: list[tuple[str, str]],
    caller: Caller,
    group_id: str | None,
) -> None:
    """The applicant hears of the decision privately, and in the group they applied from unless it was decided there."""
    notice = decision_notice(member, team, approved, membership.reason)
    for platform, user_id in accounts:
        await enqueue(db, Destination(platform, user_id, private=True), notice)
    applied_in = (membership.applied_platform, membership.applied_group_id)
    if all(applied_in) and applied_in != (caller.platform, group_id):
        await enqueue(db, Destination(membership.applied_platform, membership.applied_group_id), notice)


async def _find_application(
    db: AsyncSession,
    caller: Caller,
    rights: Rights,
    number: int | None,
    person: PersonRef | None,
    group_id: str | None,
) -> TeamMembership:
    if number is not None:
        membership = await db.get(TeamMembership, number)
        if membership is None:
            raise DomainError(f"没有编号为 {number} 的申请：发送 /审核 查看待审核的申请。")
        return membership
    if person is None:
        raise DomainError("请写申请编号或 @ 申请人，例如 /通过 12（编号见 /审核）。")
    member = await find_person(db, person)
    statement = select(TeamMembership).where(TeamMembership.member_id == member.id)
    if group_id is not None:
        located = await team_of_group(db, caller.platform, group_id)
        if located is not None:
            statement = statement.where(TeamMembership.team_id == located.team.id)
    memberships = (await db.exec(statement.order_by(col(TeamMembership.applied_at).desc()))).all()
    waiting = [membership for membership in memberships if membership.status == MembershipStatus.applied]
    if len(waiting) > 1:
        raise DomainError(f"{member.name}申请了几个队伍：请用申请编号，发送 /审核 查看。")
    if waiting:
        return waiting[0]
    if memberships:
        return memberships[0]
    raise DomainError(f"{member.name}没有待审核的申请。")


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


async def my_profile(caller: Caller) -> Profile:
    """/我的: the caller's member number, teams, tags, roles and status."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if rights.member is None:
            return Profile(member=None, teams=[], officer_units=[], is_admin=rights.is_admin)
        statement = (
            select(TeamMembership, Team, Unit)
            .join(Team, col(Team.id) == col(TeamMembership.team_id))
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(TeamMembership.member_id == rights.member.id)
            .order_by(col(TeamMembership.id))
        )
        teams = [
            TeamPlace(
                team_name=team.name,
                unit_path=unit.path,
                status=membership.status,
                is_leader=team.id in rights.leader_team_ids,
            )
            for membership, team, unit in (await db.exec(statement)).all()
        ]
        return Profile(
            member=rights.member,
            teams=teams,
            officer_units=[unit.path for unit in rights.officer_units],
            is_admin=rights.is_admin,
            points=await balance_of(db, rights.member.id),
        )
