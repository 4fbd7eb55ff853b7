"""Invitation codes (/招募): a leader or an officer lets people who are in no team group yet apply in private.

A code is 8 characters from an alphabet without the look-alikes 0, O, 1, I and l, with at least two digits and two
letters, so it is never taken for a name (names hold no digits) nor a phone number. It admits applications to one
team until it expires, is revoked, its places are used up, or its maker may no longer invite for the team; a
place is taken when an application is finished (storage/services/applications.py), by a conditional UPDATE, so
two strangers racing for the last place cannot both have it.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import reading, session
from storage.errors import DomainError, NotAllowed
from storage.models import Invite, Team, Unit, id_of, utcnow
from storage.services.actors import Actor, SignedInMember, Where
from storage.services.organisation import GroupTeam, audit, locate_team
from storage.services.people import Rights, rights_of
from storage.services.retry import retry_on_conflict
from storage.settings import settings

CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_DIGITS = "23456789"
CODE_LENGTH = 8
MIN_DIGITS = 2
MIN_LETTERS = 2
CODE_SHAPE = re.compile(r"^[A-Z0-9]{8}$")
MAX_VALID = timedelta(days=366)
MAX_PLACES = 100_000


def new_code() -> str:
    """A fresh random code: 8 characters of CODE_LETTERS and CODE_DIGITS, at least two of each."""
    alphabet = CODE_LETTERS + CODE_DIGITS
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(CODE_LENGTH))
        digits = sum(ch in CODE_DIGITS for ch in code)
        if digits >= MIN_DIGITS and CODE_LENGTH - digits >= MIN_LETTERS:
            return code


def as_code(text: str) -> str | None:
    """What was typed as an invite code (any case, full-width too), or None when it does not look like one: 8
    letters and digits with at least two digits and a letter."""
    plain = unicodedata.normalize("NFKC", text).strip().upper()
    if not CODE_SHAPE.match(plain):
        return None
    digits = sum(ch.isdigit() for ch in plain)
    return plain if digits >= MIN_DIGITS and digits < CODE_LENGTH else None


@dataclass(frozen=True)
class InviteFacts:
    code: str
    team: str
    unit_path: str
    expires_at: datetime
    places: int | None
    used: int
    revoked: bool = False


def _facts(invite: Invite, team: Team, unit: Unit) -> InviteFacts:
    return InviteFacts(
        code=invite.code,
        team=team.name,
        unit_path=unit.path,
        expires_at=invite.expires_at,
        places=invite.places,
        used=invite.used,
        revoked=invite.revoked_at is not None,
    )


async def _team_for_invite(db: AsyncSession, rights: Rights, where: Where | None, team_name: str | None) -> GroupTeam:
    """The team an invite is for: named, or the group's, or the caller's own team as its only leader."""
    if not rights.is_officer and not rights.leader_team_ids:
        raise NotAllowed("invites.leaders_and_officers_only")
    if not team_name and where is None and len(rights.leader_team_ids) == 1 and not rights.is_officer:
        (team_id,) = rights.leader_team_ids
        row = (
            await db.exec(select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id)).where(Team.id == team_id))
        ).one()
        return GroupTeam(team=row[0], unit=row[1])
    try:
        located = await locate_team(db, rights, where, team_name)
    except DomainError as error:
        if error.code == "organisation.team_needed":
            raise DomainError("invites.team_needed") from None
        raise
    if located.team.id not in rights.leader_team_ids and not rights.covers_unit(located.unit):
        raise NotAllowed("invites.not_your_team", team=located.team.name)
    return located


@retry_on_conflict
async def make_invite(
    caller: Actor,
    where: Where | None,
    team_name: str | None = None,
    valid_for: timedelta | None = None,
    places: int | None = None,
    *,
    unlimited: bool = False,
) -> InviteFacts:
    """/招募: a new code for a team; an officer's for any team of their units, a leader's for their own team.
    Without a validity or places the configured defaults apply; `unlimited` admits any number of applications."""
    valid_for = valid_for if valid_for is not None else settings.invite_valid_for
    if not timedelta(hours=1) <= valid_for <= MAX_VALID:
        raise DomainError("invites.bad_validity")
    if unlimited:
        places = None
    elif places is None:
        places = settings.invite_places
    if places is not None and not 1 <= places <= MAX_PLACES:
        raise DomainError("invites.bad_places", most=MAX_PLACES)
    async with session() as db:
        rights = await rights_of(db, caller)
        located = await _team_for_invite(db, rights, where, team_name)
        invite = Invite(
            code=new_code(),
            unit_id=id_of(located.unit),
            team_id=id_of(located.team),
            created_by=rights.member.id if rights.member else None,
            expires_at=utcnow() + valid_for,
            places=places,
        )
        db.add(invite)
        await db.flush()  # a code already taken fails here, and the whole transaction runs again with a new one
        await audit(
            db,
            caller,
            rights.member,
            "make_invite",
            f"invite:{invite.id}",
            team=located.team.name,
            places=places,
            expires_at=invite.expires_at.isoformat(),
        )
        return _facts(invite, located.team, located.unit)


async def my_invites(caller: Actor) -> list[InviteFacts]:
    """/招募 alone: the invites the caller made that still admit applications (neither expired nor revoked)."""
    async with reading() as db:
        rights = await rights_of(db, caller)
        if rights.member is None or (not rights.is_officer and not rights.leader_team_ids):
            raise NotAllowed("invites.leaders_and_officers_only")
        rows = (
            await db.exec(
                select(Invite, Team, Unit)
                .join(Team, col(Team.id) == col(Invite.team_id))
                .join(Unit, col(Unit.id) == col(Team.unit_id))
                .where(
                    Invite.created_by == rights.member.id,
                    col(Invite.revoked_at).is_(None),
                    col(Invite.expires_at) > utcnow(),
                )
                .order_by(col(Invite.id))
            )
        ).all()
        return [_facts(invite, team, unit) for invite, team, unit in rows]


@dataclass(frozen=True)
class Revoked:
    invite: InviteFacts
    changed: bool


@retry_on_conflict
async def revoke_invite(caller: Actor, code_text: str) -> Revoked:
    """/招募 撤销 CODE: its maker, a leader of its team or an officer of its unit ends it; applications it
    brought stay. Revoking twice changes nothing."""
    code = as_code(code_text)
    if code is None:
        raise DomainError("invites.not_a_code")
    async with session() as db:
        rights = await rights_of(db, caller)
        row = (
            await db.exec(
                select(Invite, Team, Unit)
                .join(Team, col(Team.id) == col(Invite.team_id))
                .join(Unit, col(Unit.id) == col(Team.unit_id))
                .where(Invite.code == code)
            )
        ).first()
        if row is None:
            raise DomainError("invites.unknown")
        invite, team, unit = row
        mine = rights.member is not None and invite.created_by == rights.member.id
        if not (mine or team.id in rights.leader_team_ids or rights.covers_unit(unit)):
            raise DomainError("invites.unknown")  # someone else's code: nothing about it is told
        if invite.revoked_at is not None:
            return Revoked(_facts(invite, team, unit), changed=False)
        invite.revoked_at = utcnow()
        db.add(invite)
        await audit(db, caller, rights.member, "revoke_invite", f"invite:{invite.id}", team=team.name)
        return Revoked(_facts(invite, team, unit), changed=True)


async def usable_invite(db: AsyncSession, code: str) -> Invite:
    """The invite of this code if it still admits an application; otherwise refused with why, plainly."""
    invite = (await db.exec(select(Invite).where(Invite.code == code))).first()
    if invite is None or invite.team_id is None:
        raise DomainError("invites.unknown")
    refusal = refusal_for(invite) or await _maker_refusal(db, invite)
    if refusal is not None:
        raise refusal
    return invite


async def _maker_refusal(db: AsyncSession, invite: Invite) -> DomainError | None:
    """An invite admits applications only while its maker may still make it: a leader of its team, an officer over
    its team's unit, or an administrator. A leader removed (/撤销队长), an officer whose role ended or a member who
    left the team cannot go on bringing strangers in with the codes they handed out; their codes read as revoked.
    (An invite made by an administrator who is no member has no maker to ask.)"""
    if invite.created_by is None or invite.team_id is None:
        return None
    row = (
        await db.exec(select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id)).where(Team.id == invite.team_id))
    ).first()
    if row is None:
        return DomainError("invites.unknown")
    team, unit = row
    rights = await rights_of(db, SignedInMember(invite.created_by))
    if team.id in rights.leader_team_ids or rights.covers_unit(unit):
        return None
    return DomainError("invites.revoked")


async def refusal_now(db: AsyncSession, invite: Invite) -> DomainError | None:
    """refusal_for, and whether its maker may still make it (at the end of an application, as at its start)."""
    return refusal_for(invite) or await _maker_refusal(db, invite)


def refusal_for(invite: Invite) -> DomainError | None:
    """Why an invite admits no more applications (revoked, expired, its places used up), or None."""
    if invite.revoked_at is not None:
        return DomainError("invites.revoked")
    if invite.expires_at <= utcnow():
        return DomainError("invites.expired")
    if invite.places is not None and invite.used >= invite.places:
        return DomainError("invites.full")
    return None


async def take_place(db: AsyncSession, invite_id: int) -> bool:
    """Count one more application on the invite, in the caller's transaction, if it still admits one: a
    conditional UPDATE, so that of two applications for its last place only one gets it."""
    result = await db.exec(
        update(Invite)
        .where(
            col(Invite.id) == invite_id,
            col(Invite.revoked_at).is_(None),
            col(Invite.expires_at) > utcnow(),
            or_(col(Invite.places).is_(None), col(Invite.used) < col(Invite.places)),
        )
        .values(used=col(Invite.used) + 1)
    )
    return result.rowcount == 1
