"""Taking over a roster record: an applicant whose phone and name match a member an officer imported (a roster row
has no chat account) becomes that member only once a leader of the team or an officer of its unit has confirmed
that it is the same person.

A name and a phone are easily known (a neighbour, a colleague, an old sign-up sheet). Taken at once, the record's
points, sign-ups and file, with the ID number an import put there and /我的数据 sends whole, would belong to whoever
typed them first in the team's group or with the team's invite code.

The claim is the applicant's JoinRequest, kept after the consent with `claims_member_id` set: /审核 lists it, and
`/认领 编号 通过|拒绝 [理由]` decides. It lapses CLAIM_LIFETIME after the consent, and the applicant is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import JoinRequest, Member, PlatformIdentity, Team, Unit, id_of, utcnow
from storage.services import notices
from storage.services.actors import Actor, ChatAccount, Where
from storage.services.membership import check_claim, decidable_team_ids, tell_deciders
from storage.services.organisation import audit
from storage.services.outbox import Destination, enqueue
from storage.services.people import link_identity, mask_phone, member_of, rights_of

CLAIM_LIFETIME = timedelta(days=14)
"""How long a claim waits for the leader's or officer's confirmation after the applicant agreed."""


@dataclass(frozen=True)
class ClaimWaiting:
    """同意 on an application whose phone and name match a roster record of the team: it waits for confirmation."""

    number: int
    name: str
    team: str


@dataclass(frozen=True)
class ClaimNotice:
    """To the team's leaders (or, without one, its unit's officers), privately: someone claims a roster record."""

    number: int
    name: str
    member_number: int
    team: str


@dataclass(frozen=True)
class PendingClaim:
    number: int
    name: str
    member_number: int
    phone_masked: str
    team_name: str
    claimed_at: datetime


@dataclass(frozen=True)
class ClaimDecided:
    number: int
    name: str
    member_number: int
    team: str
    approved: bool


@dataclass(frozen=True)
class ClaimDecidedNotice:
    """To the account that claimed, privately."""

    name: str
    member_number: int
    team: str
    approved: bool
    reason: str | None


@dataclass(frozen=True)
class ClaimLapsedNotice:
    """To the account that claimed, privately: nobody confirmed it within CLAIM_LIFETIME."""

    name: str
    team: str


async def record_to_claim(db: AsyncSession, caller: ChatAccount, request: JoinRequest) -> Member | None:
    """The roster record this finished application would take over, if it would take one over (check_claim
    refuses what may not be taken at all; an account's own record is not a claim)."""
    if await member_of(db, caller.platform, caller.user_id) is not None:
        return None
    phone = str(request.answers.get("phone") or "")
    holder = (await db.exec(select(Member).where(Member.phone == phone))).first()
    if holder is None or await check_claim(db, holder, request.name, caller, request.team_id):
        return None
    return holder


async def wait_for_confirmation(db: AsyncSession, request: JoinRequest, holder: Member, team: Team) -> ClaimWaiting:
    """The request is kept as the claim; the team's leaders (or officers) are asked to confirm. Once: the same 同意
    twice at once finds the claim made already."""
    kept = await db.exec(
        update(JoinRequest)
        .where(col(JoinRequest.id) == request.id, col(JoinRequest.claims_member_id).is_(None))
        .values(claims_member_id=id_of(holder), created_at=utcnow())
    )
    if kept.rowcount != 1:
        raise DomainError("membership.nothing_begun")
    number = id_of(request)
    notice = ClaimNotice(number=number, name=holder.name, member_number=id_of(holder), team=team.name)
    await tell_deciders(db, team, notices.render(notice))
    return ClaimWaiting(number=number, name=holder.name, team=team.name)


async def waiting(caller: Actor, where: Where | None, limit: int = 20) -> tuple[list[PendingClaim], int]:
    """Claims waiting for the caller (in a group: that group's team only): a page and how many there are. Nobody
    who may not decide on the team's applicants sees any; refusals as /审核's."""
    async with session() as db:
        team_ids = await decidable_team_ids(db, await rights_of(db, caller), where)
        if not team_ids:
            return [], 0
        statement = (
            select(JoinRequest, Member, Team)
            .join(Member, col(Member.id) == col(JoinRequest.claims_member_id))
            .join(Team, col(Team.id) == col(JoinRequest.team_id))
            .where(col(JoinRequest.team_id).in_(team_ids), col(JoinRequest.claims_member_id).is_not(None))
            .order_by(col(JoinRequest.created_at), col(JoinRequest.id))
        )
        rows = (await db.exec(statement)).all()
    claims = [
        PendingClaim(
            number=id_of(request),
            name=member.name,
            member_number=id_of(member),
            phone_masked=mask_phone(member.phone),
            team_name=team.name,
            claimed_at=request.created_at,
        )
        for request, member, team in rows
    ]
    return claims[:limit], len(claims)


async def decide(caller: Actor, number: int, *, approve: bool, reason: str | None = None) -> ClaimDecided:
    """/认领 编号 通过|拒绝: a leader of the team or an officer of its unit confirms the account is the record's
    person (the account becomes that member, the answers it gave fill what the record lacks) or refuses; either
    way the claimant is told privately, and it is audited."""
    reason = (reason or "").strip()[:200] or None
    async with session() as db:
        rights = await rights_of(db, caller)
        request = await db.get(JoinRequest, number)
        if request is None or request.claims_member_id is None:
            raise DomainError("claims.no_such_claim", number=number)
        team, unit = (
            await db.exec(
                select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id)).where(Team.id == request.team_id)
            )
        ).one()
        if not rights.may_decide_for(team, unit):
            raise NotAllowed("membership.review_team_only", team=team.name)
        holder = await db.get(Member, request.claims_member_id)
        assert holder is not None
        claimant = ChatAccount(request.platform, request.user_id)
        if approve:
            await _take_over(db, claimant, request, holder)
        await db.delete(request)
        await audit(
            db,
            caller,
            rights.member,
            "approve_claim" if approve else "reject_claim",
            f"member:{id_of(holder)}",
            team=team.name,
            claim=number,
            reason=reason,
        )
        notice = ClaimDecidedNotice(
            name=holder.name, member_number=id_of(holder), team=team.name, approved=approve, reason=reason
        )
        await enqueue(db, Destination(claimant.platform, claimant.user_id, private=True), notices.render(notice))
        return ClaimDecided(
            number=number, name=holder.name, member_number=id_of(holder), team=team.name, approved=approve
        )


async def _take_over(db: AsyncSession, claimant: ChatAccount, request: JoinRequest, holder: Member) -> None:
    """The account becomes the record's member, unless something changed while the claim waited."""
    if holder.erased_at is not None:
        raise DomainError("claims.record_gone", number=id_of(request))
    if await member_of(db, claimant.platform, claimant.user_id) is not None:
        raise DomainError("claims.account_joined_meanwhile", number=id_of(request))
    taken = (
        await db.exec(
            select(PlatformIdentity).where(
                PlatformIdentity.member_id == holder.id, PlatformIdentity.platform == claimant.platform
            )
        )
    ).first()
    if taken is not None:
        raise DomainError("claims.record_taken_meanwhile", number=id_of(request), name=holder.name)
    await link_identity(db, holder, claimant.platform, claimant.user_id)
    answers = request.answers
    for field in ("id_number", "area", "employer", "profession", "emergency_contact"):
        if getattr(holder, field) is None and answers.get(field):
            setattr(holder, field, answers[field])
    holder.tags = list(dict.fromkeys([*holder.tags, *(answers.get("specialties") or request.tags)]))
    holder.consented_at = utcnow()
    db.add(holder)


async def lapse_expired() -> int:
    """Claims nobody decided within CLAIM_LIFETIME are deleted, with the answers they hold; the claimant is told."""
    async with session() as db:
        statement = (
            select(JoinRequest, Member, Team)
            .join(Member, col(Member.id) == col(JoinRequest.claims_member_id))
            .join(Team, col(Team.id) == col(JoinRequest.team_id))
            .where(col(JoinRequest.created_at) < utcnow() - CLAIM_LIFETIME)
        )
        rows = (await db.exec(statement)).all()
        for request, member, team in rows:
            notice = ClaimLapsedNotice(name=member.name, team=team.name)
            await enqueue(db, Destination(request.platform, request.user_id, private=True), notices.render(notice))
            await db.delete(request)
        return len(rows)
