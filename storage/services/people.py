"""Who is calling: platform accounts, members, their roles, and the rules for names, phones and tags."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, Row, Select, Subquery, bindparam, true
from sqlalchemy import select as core_select
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
    detached,
    id_of,
    table_of,
)
from storage.services.actors import Actor, ChatAccount
from storage.settings import TagSource, settings

PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
TAG_SEPARATORS = re.compile(r"[\s,，、;；/]+")
MIN_NAME_LENGTH = 2
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
        return self.covers_path(unit.path)

    def covers_path(self, path: str) -> bool:
        """covers_unit for the unit of this path (read as a column, without its Unit)."""
        if self.is_admin:
            return True
        return any(path == own.path or path.startswith(own.path + "/") for own in self.officer_units)

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


def mask_id_number(id_number: str | None) -> str:
    """A resident ID number as anyone sees it: the first 4 and last 4 characters, 3701**********1234 (NO_PHONE when
    there is none)."""
    if not id_number:
        return NO_PHONE
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LONG_NUMBER = re.compile(r"\d{7,}")


def mask_contact(contact: str | None) -> str:
    """An emergency contact as shown (李四 母亲 139****0000): a mobile number in it masked as mask_phone does, any
    other run of 7 digits or more (a landline) masked to its last 4 digits."""
    if not contact:
        return NO_PHONE
    masked = PHONE_IN_TEXT.sub(lambda found: mask_phone(found.group()), contact)
    return LONG_NUMBER.sub(lambda found: "*" * (len(found.group()) - 4) + found.group()[-4:], masked)


def accepted_tags(declared: list[str], verified: list[str]) -> set[str]:
    """The one rule for which of a member's specialties a task's or a call-out's `需要:` accepts
    (`[members] required_tags_from`): all of them (declared or verified), only those an officer verified, or none
    (only qualifications count). Valid qualifications always count besides (storage/services/training)."""
    if settings.required_tags_from == TagSource.verified:
        return set(verified)
    if settings.required_tags_from == TagSource.qualified:
        return set()
    return {*declared, *verified}


def missing_tags(
    required: list[str], declared: list[str], verified: list[str], qualified: Iterable[str] = ()
) -> list[str]:
    """The required tags the member lacks, in the task's order (empty: the member qualifies); `qualified` are the
    tags they hold a valid qualification for."""
    accepted = accepted_tags(declared, verified) | set(qualified)
    return [tag for tag in required if tag not in accepted]


@dataclass(frozen=True)
class Specialty:
    tag: str
    verified: bool
    """An officer verified it or added it (/标签)."""


def specialties_of(member: Member) -> list[Specialty]:
    """A member's specialties: the declared ones in their order, then those only an officer added."""
    verified = set(member.verified_tags)
    declared = [Specialty(tag, tag in verified) for tag in member.tags]
    return declared + [Specialty(tag, True) for tag in member.verified_tags if tag not in member.tags]


PHONE_SEPARATORS = re.compile(r"[\s\-.()—–]")
"""What people put between a phone's digits: spaces, dashes, dots, brackets (after NFKC: full-width ones too)."""
PHONE_PIECE = re.compile(r"^\+?[\d\-.()—–]*\d[\d\-.()—–]*$")
"""A word that is a piece of a phone number: 137, 0013-7000, +86, (0531)."""
PHONE_WITH_LETTERS = re.compile(r"^\+?[\dA-Za-z\-]+$")
"""A word of digits and letters: a phone typed with o for 0 or l for 1 (138oo138ooo) when it has 5 digits or more."""


def _plain(text: str) -> str:
    """Full-width digits, letters and signs (１３８、＋、－) as their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def _digit_count(text: str) -> int:
    return sum("0" <= ch <= "9" for ch in text)


def _with_letters(word: str) -> bool:
    """A phone typed with letters for digits (138oo138ooo): digits and letters, 5 digits or more."""
    plain = _plain(word)
    return bool(PHONE_WITH_LETTERS.match(plain)) and _digit_count(plain) >= 5 and any(ch.isalpha() for ch in plain)


def _phone_piece(word: str) -> bool:
    return bool(PHONE_PIECE.match(_plain(word))) or _with_letters(word)


def find_phone(text: str) -> tuple[str | None, list[str]]:
    """The phone number in what was typed, and the other words: `张三 137 0013 7000 驾驶` gives
    (`137 0013 7000`, [`张三`, `驾驶`]). A phone is a run of number-like words holding 7 digits or more, or a word of
    digits and letters (a mistyped number); whether it is right, normalise_phone says. None when there is none."""
    words = text.split()
    start = 0
    while start < len(words):
        end = start
        while end < len(words) and _phone_piece(words[end]):
            end += 1
        run = words[start:end]
        if _digit_count(_plain("".join(run))) >= 7 or any(_with_letters(word) for word in run):
            return " ".join(run), words[:start] + words[end:]
        start = max(end, start + 1)
    return None, words


def normalise_phone(text: str) -> str:
    """The one rule for what a phone is: 11 digits starting with 1 (a mainland mobile), written any way people do
    (`137 0013 7000`, `137-0013-7000`, full-width `１３７…`, `+86 137…`, `86-137…`, `0086…`), stored as the 11
    digits. A wrong number is refused saying what is wrong (letters, the count of digits, the first digit); what was
    typed is never said back: it may be in a group."""
    compact = PHONE_SEPARATORS.sub("", _plain(text).strip())
    if compact.startswith("+"):
        compact = compact[1:]
    if compact.startswith("0086"):
        compact = compact[4:]
    elif compact.startswith("86") and len(compact) == 13:
        compact = compact[2:]
    if any(ch.isalpha() for ch in compact):
        raise DomainError("people.phone_has_letters")
    if not (compact.isascii() and compact.isdigit()):
        raise DomainError("people.bad_phone")
    if len(compact) != 11:
        raise DomainError("people.phone_length", count=len(compact))
    if not compact.startswith("1"):
        raise DomainError("people.phone_not_mobile")
    if not PHONE_PATTERN.match(compact):
        raise DomainError("people.bad_phone")
    return compact


NAME_DOTS = re.compile(r"\s*[·•・‧∙⋅]\s*")
"""The dot between the parts of a name (阿依古丽·买买提) as people type it; kept as ·."""
LATIN = re.compile(r"[^\W\d_]", re.ASCII)
"""A Latin letter (A–Z, a–z): names may have a space between Latin words (Li Ming), nowhere else."""


def _latin(ch: str) -> bool:
    return bool(LATIN.match(ch)) or ("À" <= ch <= "ɏ" and ch.isalpha())


def normalise_name(text: str) -> str:
    """The one rule for a person's name (/加入, the roster import): 2 to 20 letters (Chinese or Latin), a · between
    parts (阿依古丽·买买提), a space between Latin words (Li Ming); no digits, emoji, markup or CQ-like text.
    Full-width Latin letters are read as their ASCII forms; spaces next to Chinese characters are dropped."""
    name = unicodedata.normalize("NFKC", text).strip()
    name = NAME_DOTS.sub("·", " ".join(name.split()))
    name = "".join(ch for i, ch in enumerate(name) if ch != " " or (_latin(name[i - 1]) and _latin(name[i + 1])))
    if name and (PHONE_PATTERN.match(name) or name.isdigit()):
        raise DomainError("people.name_is_a_number")
    parts = name.replace(" ", "·").split("·")
    if not all(part and all(ch.isalpha() for ch in part) for part in parts):
        raise DomainError("people.name_not_plain", least=MIN_NAME_LENGTH, most=MAX_NAME_LENGTH)
    if not MIN_NAME_LENGTH <= len(name) <= MAX_NAME_LENGTH:
        raise DomainError("people.name_length", least=MIN_NAME_LENGTH, most=MAX_NAME_LENGTH)
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
    unit of each officer role beside it. The member and units are the session's (to change and save); a service
    that only reads uses rights_on, its twin on a Core connection."""
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
    return _rights(member, [(role.kind, role.scope_id, unit) for _, role, unit in rows if role is not None],
                   await _is_superuser(db, actor, member))  # fmt: skip


def _rights(member: Member | None, roles: list[tuple[str, int, Unit | None]], superuser: bool) -> Rights:
    """Rights from a member's roles, each as (kind, scope id, the unit of an officer role)."""
    rights = Rights(member=member, is_admin=superuser)
    units: dict[int, Unit] = {}
    for kind, scope_id, unit in roles:
        if kind == RoleKind.admin:
            rights.is_admin = True
        elif kind == RoleKind.leader:
            rights.leader_team_ids.add(scope_id)
        elif unit is not None:
            units[id_of(unit)] = unit
    rights.officer_units = [units[unit_id] for unit_id in sorted(units)]
    return rights


_member_table, _role_table, _unit_table = table_of(Member), table_of(Role), table_of(Unit)
_identity_table = table_of(PlatformIdentity)
_RIGHTS = (
    core_select(_member_table, _role_table.c.kind.label("role_kind"), _role_table.c.scope_id.label("role_scope"))
    .add_columns(*_unit_table.columns)
    .outerjoin(_role_table, _role_table.c.member_id == _member_table.c.id)
    .outerjoin(
        _unit_table, (_unit_table.c.id == _role_table.c.scope_id) & (_role_table.c.kind == RoleKind.officer.value)
    )
    .order_by(_role_table.c.id)
)
RIGHTS_OF_ACCOUNT = _RIGHTS.join(_identity_table, _identity_table.c.member_id == _member_table.c.id).where(
    _identity_table.c.platform == bindparam("platform"), _identity_table.c.user_id == bindparam("user_id")
)
RIGHTS_OF_MEMBER = _RIGHTS.where(_member_table.c.id == bindparam("member_id"))
"""rights_on's statements, built once: the member's columns, a row for each role (kind and scope) and the columns of
an officer role's unit."""
_ACCOUNTS_OF_MEMBER = core_select(_identity_table.c.platform, _identity_table.c.user_id).where(
    _identity_table.c.member_id == bindparam("member_id")
)


def rights_on(connection: Connection, actor: Actor) -> Rights:
    """rights_of for a service that only reads, on a Core connection (storage.db.run_reading): the same statement,
    built once, and detached models (storage.models.detached): a third of the CPU of rights_of."""
    return rights_and_place_on(connection, actor, (RIGHTS_OF_ACCOUNT, RIGHTS_OF_MEMBER), {})[0]


def rights_beside(
    place: Subquery, *columns: ColumnElement, order_by: tuple[ColumnElement, ...] = ()
) -> tuple[Select, Select]:
    """The rights statements (by account, by member) with the rows of `place` (a subquery, such as
    organisation.GROUP_PLACE) beside each of theirs (LEFT JOIN … ON TRUE), and `columns` (which may refer to both,
    e.g. whether the member is in the place's team): who asks and where, in one statement instead of two. A member
    with R roles and a place of P rows gives R × P rows, ordered by role and then `order_by`. Built once, by the
    module that reads them."""
    return (
        RIGHTS_OF_ACCOUNT.outerjoin(place, true()).add_columns(*place.c, *columns).order_by(*order_by),
        RIGHTS_OF_MEMBER.outerjoin(place, true()).add_columns(*place.c, *columns).order_by(*order_by),
    )


def rights_and_place_on(
    connection: Connection, actor: Actor, statements: tuple[Select, Select], params: Mapping[str, object]
) -> tuple[Rights, list[Row]]:
    """The caller's rights and the rows of rights_beside's statements (none without a member: the place is then
    not read, and the caller reads it on its own if it needs it). `params`: the place's parameters."""
    if isinstance(actor, ChatAccount):
        by_account = {"platform": actor.platform, "user_id": actor.user_id, **params}
        rows = connection.execute(statements[0], by_account).all()
    else:
        rows = connection.execute(statements[1], {"member_id": actor.member_id, **params}).all()
    member = detached(Member, rows[0]) if rows else None
    if isinstance(actor, ChatAccount) or member is None:
        superuser = actor.key in settings.superusers
    else:
        accounts = connection.execute(_ACCOUNTS_OF_MEMBER, {"member_id": actor.member_id}).all()
        superuser = any(f"{platform}:{user_id}" in settings.superusers for platform, user_id in accounts)
    roles = [(row.role_kind, row.role_scope, detached(Unit, row)) for row in rows if row.role_kind is not None]
    return _rights(member, roles, superuser), list(rows)


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


ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECKS = "10X98765432"
"""The resident ID number's check character (GB 11643, ISO 7064 MOD 11-2), by the weighted sum modulo 11."""


def normalise_id_number(text: str) -> str:
    """The one rule for a resident ID number: 18 characters, 17 digits and a check digit or X that matches them,
    written with spaces or a lower-case x as people do. A wrong number is refused saying what is wrong (length,
    characters, the check digit); what was typed is never said back."""
    compact = "".join(_plain(text).split()).upper()
    if len(compact) != 18:
        raise DomainError("people.id_number_length", count=len(compact))
    if not (compact[:17].isascii() and compact[:17].isdigit()) or compact[17] not in "0123456789X":
        raise DomainError("people.id_number_characters")
    total = sum(int(digit) * weight for digit, weight in zip(compact[:17], ID_NUMBER_WEIGHTS, strict=True))
    if ID_NUMBER_CHECKS[total % 11] != compact[17]:
        raise DomainError("people.id_number_check")
    return compact


MAX_FILE_TEXT = 30
NOTHING_WORDS = ("无", "没有", "暂无", "跳过", "不填")
"""An answer that gives nothing for an optional field of the member file (specialties)."""


def normalise_file_text(text: str) -> str:
    """An answer for the member file's area, employer or profession: one line of 1 to 30 characters, with a
    letter or digit in it (退休, 历下区, 济南市第一中学)."""
    value = " ".join(unicodedata.normalize("NFKC", text).split())
    if not value or not any(ch.isalnum() for ch in value):
        raise DomainError("people.file_text_empty")
    if len(value) > MAX_FILE_TEXT:
        raise DomainError("people.file_text_long", most=MAX_FILE_TEXT)
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise DomainError("people.file_text_empty")
    return value


def normalise_emergency_contact(text: str) -> tuple[str, str]:
    """An emergency contact: who (a name or a relation: 李四, 妻子 王芳) and their mobile number, in any order.
    Returns (who, the 11 digits)."""
    phone_text, others = find_phone(text)
    if phone_text is None:
        raise DomainError("people.contact_needs_phone")
    phone = normalise_phone(phone_text)
    who = " ".join(others)
    if not who:
        raise DomainError("people.contact_needs_name")
    return normalise_file_text(who), phone


def mask_emergency_contact(contact: str | None) -> str:
    """The emergency contact as it is shown: who, and the phone masked (妻子 王芳 139****9000)."""
    if not contact:
        return NO_PHONE
    who, _, phone = contact.rpartition(" ")
    return f"{who} {mask_phone(phone)}" if who else mask_phone(phone)
