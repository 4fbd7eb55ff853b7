"""Who is calling: platform accounts, members, their roles, and the rules for names, phones and tags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import DomainError, quoted
from storage.models import (
    Member,
    MemberStatus,
    PlatformIdentity,
    Role,
    RoleKind,
    Team,
    Unit,
    id_of,
)
from storage.services.actors import Actor, ChatAccount
from storage.settings import settings

PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
TAG_SEPARATORS = re.compile(r"[\s,，、;；/]+")
MAX_NAME_LENGTH = 20
MAX_TAGS = 10
MAX_TAG_LENGTH = 10
NAME_MARKS = frozenset(" ·•・-_()（）#＃")
"""Besides letters (Chinese characters included) and digits, what a name may hold: 阿卜杜·热合曼, Li Ming,
张伟(2), 第3巡逻队, 历下分局（东片）."""


def is_plain_name(text: str) -> bool:
    """Letters, digits and a few marks, with at least one letter: a name, not emoji, markup or code."""
    return any(ch.isalpha() for ch in text) and all(ch.isalpha() or ch.isdecimal() or ch in NAME_MARKS for ch in text)


@dataclass(frozen=True)
class PersonRef:
    """Someone a command names: by member number, or by a platform account (an @-mention)."""

    member_number: int | None = None
    platform: str | None = None
    user_id: str | None = None
    display_name: str = ""


@dataclass
class Rights:
    """What a caller may do: administrator, officer of units (with their sub-units), leader of teams."""

    member: Member | None
    is_admin: bool = False
    officer_units: list[Unit] = field(default_factory=list)
    leader_team_ids: set[int] = field(default_factory=set)

    @property
    def is_officer(self) -> bool:
        return self.is_admin or bool(self.officer_units)

    def covers_unit(self, unit: Unit) -> bool:
        """An officer of a unit acts for that unit and every unit below it; an administrator for all."""
        if self.is_admin:
            return True
        return any(unit.path == own.path or unit.path.startswith(own.path + "/") for own in self.officer_units)

    def may_decide_for(self, team: Team, unit: Unit) -> bool:
        """Leaders of the team and officers of its unit decide on applicants."""
        return team.id in self.leader_team_ids or self.covers_unit(unit)


NO_PHONE = "未登记"
"""Shown instead of a masked phone for a member who has none (a label)."""


def mask_phone(phone: str | None) -> str:
    """The phone as leaders and officers see it: 138****8000 (NO_PHONE when there is none)."""
    if not phone:
        return NO_PHONE
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def normalise_phone(text: str) -> str:
    digits = re.sub(r"[\s-]", "", text.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    if not PHONE_PATTERN.match(digits):
        raise DomainError("people.bad_phone")  # what was typed is never said back: it may be in a group
    return digits


PHONE_LIKE = re.compile(r"^\+?[\d\s-]{7,20}$")


def looks_like_phone(text: str) -> bool:
    """Typed as a phone number (right or wrong): digits with perhaps +86, spaces or dashes."""
    return bool(PHONE_LIKE.match(text.strip())) and sum(ch.isdigit() for ch in text) >= 7


def normalise_name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise DomainError("people.name_length", most=MAX_NAME_LENGTH)
    if PHONE_PATTERN.match(name) or name.isdigit():
        raise DomainError("people.name_is_a_number")
    if not is_plain_name(name):
        raise DomainError("people.name_not_plain")
    return name


def parse_tags(words: list[str] | str) -> list[str]:
    """Tags as typed: separated by spaces, commas or 、; duplicates dropped, order kept."""
    if isinstance(words, str):
        words = [words]
    tags: list[str] = []
    for word in words:
        for tag in TAG_SEPARATORS.split(word):
            tag = tag.strip()
            if not tag or tag in tags:
                continue
            if len(tag) > MAX_TAG_LENGTH:
                raise DomainError("people.tag_too_long", tag=quoted(tag), most=MAX_TAG_LENGTH)
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise DomainError("people.too_many_tags", most=MAX_TAGS)
    return tags


def member_by_account(platform: str, user_id: str):
    """The SELECT of the member behind an account."""
    return (
        select(Member)
        .join(PlatformIdentity, col(PlatformIdentity.member_id) == col(Member.id))
        .where(PlatformIdentity.platform == platform, PlatformIdentity.user_id == user_id)
    )


async def member_of(db: AsyncSession, platform: str, user_id: str) -> Member | None:
    return (await db.exec(member_by_account(platform, user_id))).first()


async def identity_of(db: AsyncSession, platform: str, user_id: str) -> PlatformIdentity | None:
    statement = select(PlatformIdentity).where(
        PlatformIdentity.platform == platform, PlatformIdentity.user_id == user_id
    )
    return (await db.exec(statement)).first()


async def link_identity(db: AsyncSession, member: Member, platform: str, user_id: str) -> None:
    db.add(PlatformIdentity(platform=platform, user_id=user_id, member_id=id_of(member)))
    await db.flush()


async def ensure_member(db: AsyncSession, platform: str, user_id: str, name: str) -> Member:
    """The member behind an account, created (active, no team yet) when the account is new."""
    member = await member_of(db, platform, user_id)
    if member is not None:
        return member
    member = Member(name=(name.strip() or f"{platform}:{user_id}")[:MAX_NAME_LENGTH], status=MemberStatus.active)
    db.add(member)
    await db.flush()
    await link_identity(db, member, platform, user_id)
    return member


async def member_for(db: AsyncSession, actor: Actor) -> Member | None:
    """The member who acts: behind a chat account (None when the account is unknown), or the one signed in."""
    if isinstance(actor, ChatAccount):
        return await member_of(db, actor.platform, actor.user_id)
    return await db.get(Member, actor.member_id)


async def _is_superuser(db: AsyncSession, actor: Actor, member: Member | None) -> bool:
    """Named in the superusers setting: the chat account itself, or one of the signed-in member's accounts."""
    if isinstance(actor, ChatAccount) or member is None:
        return actor.key in settings.superusers
    accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member.id))).all()
    return any(f"{account.platform}:{account.user_id}" in settings.superusers for account in accounts)


async def rights_of(db: AsyncSession, actor: Actor) -> Rights:
    """The caller's member and rights, read in one statement: the member, a row for each of their roles, and the
    unit of each officer role beside it."""
    statement = (
        select(Member, Role, Unit)
        .outerjoin(Role, col(Role.member_id) == col(Member.id))
        .outerjoin(Unit, (col(Unit.id) == col(Role.scope_id)) & (col(Role.kind) == RoleKind.officer))
        .order_by(col(Role.id))
    )
    if isinstance(actor, ChatAccount):
        statement = statement.join(PlatformIdentity, col(PlatformIdentity.member_id) == col(Member.id)).where(
            PlatformIdentity.platform == actor.platform, PlatformIdentity.user_id == actor.user_id
        )
    else:
        statement = statement.where(col(Member.id) == actor.member_id)
    rows = (await db.exec(statement)).all()
    member = rows[0][0] if rows else None
    rights = Rights(member=member, is_admin=await _is_superuser(db, actor, member))
    units: dict[int, Unit] = {}
    for _, role, unit in rows:
        if role is None:
            continue
        if role.kind == RoleKind.admin:
            rights.is_admin = True
        elif role.kind == RoleKind.leader:
            rights.leader_team_ids.add(role.scope_id)
        elif unit is not None:
            units[id_of(unit)] = unit
    rights.officer_units = [units[unit_id] for unit_id in sorted(units)]
    return rights


async def find_person(db: AsyncSession, ref: PersonRef, *, create: bool = False) -> Member:
    """The member a command names; with `create`, an @-mentioned account without a member gets one."""
    if ref.member_number is not None:
        member = await db.get(Member, ref.member_number)
        if member is None:
            raise DomainError("people.no_such_member", number=ref.member_number)
        return member
    if ref.platform and ref.user_id:
        if create:
            return await ensure_member(db, ref.platform, ref.user_id, ref.display_name)
        member = await member_of(db, ref.platform, ref.user_id)
        if member is None:
            raise DomainError("people.not_registered")
        return member
    raise DomainError("people.who")
