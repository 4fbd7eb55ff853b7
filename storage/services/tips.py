"""Tips (线索): reported in private, reviewed by the officers of the reporter's unit and the units above it.

The people who report may be reporting neighbours for gambling, drugs or fraud. For an anonymous tip nothing an
officer sees (views, lists, announcements, relayed messages) names the reporter, their member number, phone or
platform account, and the reward entry in the ledger carries no tip number in its note.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    LedgerReason,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    PoliceGroup,
    RewardState,
    Role,
    RoleKind,
    Team,
    TeamMembership,
    Tip,
    TipEntry,
    TipStatus,
    Unit,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor, ChatGroup
from storage.services.ledger import record_points
from storage.services.organisation import audit, officer_unit, team_at
from storage.services.outbox import Destination, enqueue
from storage.services.people import Rights, mask_phone, member_for, rights_of
from storage.services.photos import cleaned
from storage.services.retry import retry_on_conflict
from storage.services.totals import add_to_totals
from storage.settings import settings

CATEGORIES = ("治安", "盗窃", "赌博", "毒品", "诈骗", "安全隐患", "矛盾纠纷", "其他")
MAX_TEXT = 2000
MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 10 * 1024 * 1024
OPEN = (TipStatus.new, TipStatus.reviewing)
STATUS_NAMES = {
    TipStatus.new.value: "新线索",
    TipStatus.reviewing.value: "核查中",
    TipStatus.verified.value: "已核实",
    TipStatus.rejected.value: "已驳回",
    TipStatus.duplicate.value: "重复线索",
}
"""The statuses as officers and reporters read them (labels of the stored values)."""
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
REWARD_NOTE = "线索奖励"
"""The ledger note of a named tip's reward."""

REPORT, ADDITION, QUESTION = "report", "addition", "question"
"""Kinds of a tip's history entries (TipEntry.kind) besides the status changes, whose kind is the new status
(reviewing, verified, rejected, duplicate) and whose text is the officer's note or reason."""
OLD_STATUS = "status"
"""A status change recorded before the kinds above: its text is shown as it was written."""


@dataclass(frozen=True)
class Photo:
    data: bytes
    suffix: str = ".jpg"


def check_category(text: str) -> str:
    category = text.strip()
    if category not in CATEGORIES:
        raise DomainError("tips.bad_category")
    return category


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise DomainError("tips.no_text")
    if len(text) > MAX_TEXT:
        raise DomainError("tips.report_too_long", most=MAX_TEXT)
    return text


def _store_photos(tip_id: int, photos: list[Photo]) -> list[str]:
    """Keep the photos under the data directory (platform URLs expire), without their EXIF (storage/services/
    photos.py); names are content hashes."""
    if len(photos) > MAX_PHOTOS:
        raise DomainError("tips.too_many_photos", most=MAX_PHOTOS)
    folder = settings.data_dir / "tips" / str(tip_id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for photo in photos:
        if len(photo.data) > MAX_PHOTO_BYTES:
            raise DomainError("tips.photo_too_big", most_mb=MAX_PHOTO_BYTES // (1024 * 1024))
        data = cleaned(photo.data)
        if data is None:
            raise DomainError("tips.photo_unreadable")
        suffix = photo.suffix if photo.suffix in PHOTO_SUFFIXES else ".jpg"
        name = hashlib.sha256(data).hexdigest()[:32] + suffix
        path = folder / name
        if not path.exists():
            path.write_bytes(data)
        stored.append(str(path.relative_to(settings.data_dir)))
    return stored


def photo_path(relative: str) -> Path:
    return settings.data_dir / relative


async def _reporter(db: AsyncSession, caller: Actor) -> tuple[Member, Unit]:
    member = await member_for(db, caller)
    if member is None or member.status != MemberStatus.active:
        raise DomainError("tips.members_only")
    statement = (
        select(Unit)
        .join(Team, col(Team.unit_id) == col(Unit.id))
        .join(TeamMembership, col(TeamMembership.team_id) == col(Team.id))
        .where(TeamMembership.member_id == member.id, TeamMembership.status == MembershipStatus.active)
        .order_by(col(TeamMembership.id))
    )
    unit = (await db.exec(statement)).first()
    if unit is None:
        raise DomainError("tips.members_only")
    return member, unit


async def _officer_accounts(db: AsyncSession, unit_id: int) -> list[tuple[str, str]]:
    statement = (
        select(PlatformIdentity.platform, PlatformIdentity.user_id)
        .join(Role, col(Role.member_id) == col(PlatformIdentity.member_id))
        .where(Role.kind == RoleKind.officer, Role.scope_id == unit_id)
        .order_by(col(Role.id))
    )
    return list((await db.exec(statement)).all())


async def _tell_officers(db: AsyncSession, unit_id: int, notice: object, *, only: int | None = None) -> int:
    """Privately to the unit's officers (or to the one handling the tip), and in the unit's police groups."""
    if only is not None:
        accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == only))).all()
        destinations = [Destination(a.platform, a.user_id, private=True) for a in accounts]
    else:
        destinations = [Destination(p, u, private=True) for p, u in await _officer_accounts(db, unit_id)]
        groups = (await db.exec(select(PoliceGroup).where(PoliceGroup.unit_id == unit_id))).all()
        destinations += [Destination(group.platform, group.group_id) for group in groups]
    text = notices.render(notice)
    for destination in destinations:
        await enqueue(db, destination, text)
    return len(destinations)


async def _tell_reporter(db: AsyncSession, tip: Tip, notice: object) -> None:
    accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == tip.reporter_id))).all()
    text = notices.render(notice)
    for account in accounts:
        await enqueue(db, Destination(account.platform, account.user_id, private=True), text)


@dataclass(frozen=True)
class NewTipNotice:
    """To the unit's officers and police groups: there is a tip. Not what it says, nor anything of who sent it."""

    number: int
    category: str
    unit_path: str


@dataclass(frozen=True)
class TipAddedNotice:
    """To the officer handling the tip (or the unit's officers): the reporter added to it."""

    number: int


@dataclass(frozen=True)
class TipTakenNotice:
    """To the reporter: an officer opened the tip and is looking into it."""

    number: int


@dataclass(frozen=True)
class TipVerifiedNotice:
    """To the reporter: the tip was verified, with the reward (an anonymous one is paid with the weekly payout)."""

    number: int
    points: int
    anonymous: bool


@dataclass(frozen=True)
class TipDismissedNotice:
    """To the reporter: the tip was rejected with a reason, or merged into an earlier one."""

    number: int
    reason: str
    duplicate: bool


@dataclass(frozen=True)
class TipQuestionNotice:
    """To the reporter: an officer's question, without the officer's name."""

    number: int
    question: str


@dataclass
class Receipt:
    tip: Tip
    unit_path: str


@retry_on_conflict
async def report_tip(
    caller: Actor,
    category: str,
    text: str,
    *,
    photos: list[Photo] | None = None,
    location: tuple[float, float] | None = None,
    location_text: str | None = None,
    anonymous: bool = True,
) -> Receipt:
    """/线索: a member reports; the unit's officers hear that there is a tip, not what it says or who sent it."""
    category = check_category(category)
    text = check_text(text)
    async with session() as db:
        member, unit = await _reporter(db, caller)
        unit_id = id_of(unit)
        tip = Tip(
            reporter_id=id_of(member),
            unit_id=unit_id,
            category=category,
            anonymous=anonymous,
            latitude=location[0] if location else None,
            longitude=location[1] if location else None,
            location_text=(location_text or "").strip()[:200] or None,
        )
        db.add(tip)
        await db.flush()
        number = id_of(tip)
        db.add(TipEntry(tip_id=number, kind=REPORT, text=text, photos=_store_photos(number, photos or [])))
        await _tell_officers(db, unit_id, NewTipNotice(number=number, category=category, unit_path=unit.path))
        return Receipt(tip=tip, unit_path=unit.path)


@dataclass
class MyTip:
    number: int
    category: str
    status: str
    created_at: datetime


async def my_tips(caller: Actor) -> list[MyTip]:
    async with session() as db:
        member = await member_for(db, caller)
        if member is None:
            return []
        tips = (
            await db.exec(select(Tip).where(Tip.reporter_id == member.id).order_by(col(Tip.id).desc()).limit(20))
        ).all()
        return [MyTip(id_of(tip), tip.category, tip.status, tip.created_at) for tip in tips]


@retry_on_conflict
async def add_to_tip(caller: Actor, tip_id: int, text: str, photos: list[Photo] | None = None) -> Tip:
    """/补充: the reporter adds text or photos to an open tip; whoever handles it is told there is more."""
    text = text.strip()
    if not text and not photos:
        raise DomainError("tips.nothing_added")
    if len(text) > MAX_TEXT:
        raise DomainError("tips.too_long", most=MAX_TEXT)
    async with session() as db:
        member = await member_for(db, caller)
        tip = await db.get(Tip, tip_id)
        if tip is None or member is None or tip.reporter_id != member.id:
            raise DomainError("tips.not_yours", number=tip_id)
        if tip.status not in OPEN:
            raise DomainError("tips.closed_to_additions", number=tip_id, status=tip.status)
        db.add(TipEntry(tip_id=tip_id, kind=ADDITION, text=text, photos=_store_photos(tip_id, photos or [])))
        await _tell_officers(db, tip.unit_id, TipAddedNotice(number=tip_id), only=tip.claimed_by)
        return tip


def _officer_may_see(rights: Rights, unit: Unit) -> bool:
    return rights.is_officer and rights.covers_unit(unit)


async def _tip_for_officer(db: AsyncSession, caller: Actor, tip_id: int) -> tuple[Tip, Unit, Rights]:
    rights = await rights_of(db, caller)
    tip = await db.get(Tip, tip_id)
    unit = await db.get(Unit, tip.unit_id) if tip is not None else None
    if tip is None or unit is None or not _officer_may_see(rights, unit):
        # the same answer whether the tip exists or not: a number tells nothing to someone without the right
        raise NotAllowed("tips.not_visible", number=tip_id)
    return tip, unit, rights


@dataclass(frozen=True)
class TipLine:
    at: datetime
    kind: str
    """REPORT, ADDITION, QUESTION, a status the tip changed to (its text the officer's note or reason), or
    OLD_STATUS."""
    text: str
    photos: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NamedReporter:
    """Who reported a tip they gave their name to, as officers see them (the phone masked)."""

    name: str
    member_number: int
    phone_masked: str


@dataclass(frozen=True)
class TipView:
    """A tip as an officer sees it. For an anonymous tip nothing here tells who reported it."""

    number: int
    category: str
    status: str
    unit_path: str
    created_at: datetime
    latitude: float | None
    longitude: float | None
    location_text: str | None
    reporter: NamedReporter | None
    """None for an anonymous tip."""
    handler: str | None
    history: list[TipLine]


@retry_on_conflict
async def view_tip(caller: Actor, tip_id: int) -> TipView:
    """/线索 编号 (officers, in private): the tip and its history; a new tip is claimed by the one who opens it."""
    async with session() as db:
        tip, unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status == TipStatus.new and rights.member is not None:
            tip.status = TipStatus.reviewing
            tip.claimed_by = id_of(rights.member)
            db.add(tip)
            db.add(TipEntry(tip_id=tip_id, kind=TipStatus.reviewing.value, officer_id=tip.claimed_by))
            await _tell_reporter(db, tip, TipTakenNotice(number=tip_id))
        await audit(db, caller, rights.member, "view_tip", f"tip:{tip_id}")
        reporter = None
        if not tip.anonymous:
            member = await db.get(Member, tip.reporter_id)
            assert member is not None, "a tip's reporter is kept"
            reporter = NamedReporter(
                name=member.name, member_number=id_of(member), phone_masked=mask_phone(member.phone)
            )
        handler = None
        if tip.claimed_by is not None:
            officer = await db.get(Member, tip.claimed_by)
            handler = officer.name if officer else None
        entries = (await db.exec(select(TipEntry).where(TipEntry.tip_id == tip_id).order_by(col(TipEntry.id)))).all()
        return TipView(
            number=tip_id,
            category=tip.category,
            status=tip.status,
            unit_path=unit.path,
            created_at=tip.created_at,
            latitude=tip.latitude,
            longitude=tip.longitude,
            location_text=tip.location_text,
            reporter=reporter,
            handler=handler,
            history=[TipLine(entry.at, entry.kind, entry.text, list(entry.photos)) for entry in entries],
        )


@dataclass
class TipSummary:
    number: int
    category: str
    status: str
    unit_path: str
    handler: str | None
    created_at: datetime


async def list_tips(caller: Actor, status: str | None = None, limit: int = 20) -> list[TipSummary]:
    """/线索列表 [状态] (officers): tips of the units they act for, newest first; no content, no reporter."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("organisation.officers_only", act="list_tips")
        statement = select(Tip, Unit).join(Unit, col(Unit.id) == col(Tip.unit_id))
        if status is not None:
            statement = statement.where(Tip.status == status)
        rows = (await db.exec(statement.order_by(col(Tip.id).desc()))).all()
        visible = [(tip, unit) for tip, unit in rows if rights.covers_unit(unit)][:limit]
        handler_ids = {tip.claimed_by for tip, _ in visible if tip.claimed_by}
        names: dict[int, str] = {}
        if handler_ids:
            officers = (await db.exec(select(Member).where(col(Member.id).in_(handler_ids)))).all()
            names = {id_of(officer): officer.name for officer in officers}
        await audit(db, caller, rights.member, "list_tips", status or "all", count=len(visible))
        return [
            TipSummary(
                id_of(tip),
                tip.category,
                tip.status,
                unit.path,
                names.get(tip.claimed_by) if tip.claimed_by is not None else None,
                tip.created_at,
            )
            for tip, unit in visible
        ]


@dataclass(frozen=True)
class Decision:
    """What an officer's /核实 or /驳回 did (nothing of who reported the tip)."""

    number: int
    status: str
    anonymous: bool
    changed: bool
    points: int = 0


@retry_on_conflict
async def verify_tip(caller: Actor, tip_id: int, points: int | None, note: str | None) -> Decision:
    """/核实: verified, and the reporter rewarded once through the ledger."""
    async with session() as db:
        tip, _unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status == TipStatus.verified:
            return Decision(tip_id, tip.status, tip.anonymous, changed=False, points=tip.points or 0)
        if tip.status not in OPEN:
            raise DomainError("tips.closed_to_verifying", number=tip_id, status=tip.status)
        amount = settings.tip_points.get(tip.category, settings.tip_points_default) if points is None else points
        if not 0 <= amount <= 1000:
            raise DomainError("tips.points_range")
        reporter = await db.get(Member, tip.reporter_id)
        erased = reporter is not None and reporter.erased_at is not None
        if erased and not tip.anonymous:
            amount = 0  # the reporter asked to be erased (/删除我的信息): nobody is left to reward
        # an anonymous tip's reward reads the same whether its reporter is still here or not, and waits for the
        # weekly payout like any other (the placeholder reporter's points nobody can spend): a 0, or a payout
        # short of it, would tell the officer that the reporter is one of those erased
        closed_at = utcnow()
        tip.status = TipStatus.verified
        tip.points = amount
        tip.closed_at = closed_at
        tip.claimed_by = tip.claimed_by or (rights.member.id if rights.member else None)
        db.add(tip)
        db.add(TipEntry(tip_id=tip_id, kind=TipStatus.verified.value, text=note or "", officer_id=tip.claimed_by))
        if tip.anonymous and amount:
            # paid later with others of the unit, seen by the reporter alone (storage.services.anonymous_rewards)
            tip.reward_state = RewardState.due
        elif amount:
            await record_points(db, tip.reporter_id, amount, LedgerReason.tip, "tip", tip_id, note=REWARD_NOTE)
        if (
            not tip.anonymous and not erased
        ):  # the tips leaderboard names reporters, so it counts only those who gave their name
            await add_to_totals(db, tip.reporter_id, tips=1, at=closed_at)
        await audit(db, caller, rights.member, "verify_tip", f"tip:{tip_id}", points=amount)
        await _tell_reporter(db, tip, TipVerifiedNotice(number=tip_id, points=amount, anonymous=tip.anonymous))
        return Decision(tip_id, TipStatus.verified.value, tip.anonymous, changed=True, points=amount)


@retry_on_conflict
async def dismiss_tip(caller: Actor, tip_id: int, reason: str, duplicate_of: int | None = None) -> Decision:
    """/驳回: rejected with a reason, or marked a duplicate of an earlier tip (not rewarded)."""
    reason = reason.strip()[:200]
    if not reason and duplicate_of is None:
        raise DomainError("tips.no_reason")
    async with session() as db:
        tip, _unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status not in OPEN:
            raise DomainError("tips.closed", number=tip_id, status=tip.status)
        if duplicate_of is not None:
            original = await db.get(Tip, duplicate_of)
            if original is None or original.id == tip.id or (original.unit_id != tip.unit_id and not rights.is_admin):
                raise DomainError("tips.no_original", number=duplicate_of)
            status = TipStatus.duplicate.value
            tip.duplicate_of = original.id
            reason = ""
        else:
            status = TipStatus.rejected.value
        tip.status = status
        tip.closed_at = utcnow()
        db.add(tip)
        officer_id = rights.member.id if rights.member else None
        db.add(TipEntry(tip_id=tip_id, kind=status, text=reason, officer_id=officer_id))
        await audit(db, caller, rights.member, "dismiss_tip", f"tip:{tip_id}", duplicate_of=duplicate_of)
        duplicate = duplicate_of is not None
        await _tell_reporter(db, tip, TipDismissedNotice(number=tip_id, reason=reason, duplicate=duplicate))
        return Decision(tip_id, status, tip.anonymous, changed=True)


@retry_on_conflict
async def reply_to_tip(caller: Actor, tip_id: int, text: str) -> int:
    """/回复线索: an officer's question reaches the reporter, without the officer's name. The tip's number."""
    text = text.strip()
    if not text:
        raise DomainError("tips.no_question")
    if len(text) > MAX_TEXT:
        raise DomainError("tips.too_long", most=MAX_TEXT)
    async with session() as db:
        tip, _unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status not in OPEN:
            raise DomainError("tips.closed", number=tip_id, status=tip.status)
        officer_id = rights.member.id if rights.member else None
        db.add(TipEntry(tip_id=tip_id, kind=QUESTION, text=text, officer_id=officer_id))
        await audit(db, caller, rights.member, "reply_tip", f"tip:{tip_id}")
        await _tell_reporter(db, tip, TipQuestionNotice(number=tip_id, question=text))
        return tip_id


@retry_on_conflict
async def set_police_group(caller: Actor, group: ChatGroup, unit_text: str | None) -> Unit:
    """/设为警务群: an officer marks this group as the police group of their unit (tip announcements go there)."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer or rights.member is None:
            raise NotAllowed("organisation.officers_only", act="set_police_group")
        unit = await officer_unit(db, rights, unit_text, "set_police_group")
        if await team_at(db, group) is not None:
            raise DomainError("tips.team_group")
        existing = (
            await db.exec(
                select(PoliceGroup).where(
                    PoliceGroup.platform == group.platform, PoliceGroup.group_id == group.group_id
                )
            )
        ).first()
        unit_id = id_of(unit)
        police_group = existing or PoliceGroup(platform=group.platform, group_id=group.group_id, unit_id=unit_id)
        police_group.unit_id = unit_id
        police_group.set_by = id_of(rights.member)
        db.add(police_group)
        await audit(db, caller, rights.member, "set_police_group", group.key, unit=unit.path)
        return unit
