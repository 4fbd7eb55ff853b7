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
    utcnow,
)
from storage.services.ledger import record_points
from storage.services.organisation import audit, officer_unit, team_of_group
from storage.services.outbox import Destination, enqueue
from storage.services.people import Caller, Rights, mask_phone, member_of, rights_of
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


@dataclass(frozen=True)
class Photo:
    data: bytes
    suffix: str = ".jpg"


def check_category(text: str) -> str:
    category = text.strip()
    if category not in CATEGORIES:
        raise DomainError(f"线索类别请选：{'、'.join(CATEGORIES)}")
    return category


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise DomainError("请写下发生了什么：时间、地点、人和事。")
    if len(text) > MAX_TEXT:
        raise DomainError(f"内容太长：一次最多{MAX_TEXT}个字，其余可以用 /补充 发送。")
    return text


def _store_photos(tip_id: int, photos: list[Photo]) -> list[str]:
    """Keep the photos under the data directory (platform URLs expire), without their EXIF (storage/services/
    photos.py); names are content hashes."""
    if len(photos) > MAX_PHOTOS:
        raise DomainError(f"照片一次最多{MAX_PHOTOS}张。")
    folder = settings.data_dir / "tips" / str(tip_id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for photo in photos:
        if len(photo.data) > MAX_PHOTO_BYTES:
            raise DomainError("照片太大：每张不超过10MB。")
        data = cleaned(photo.data)
        if data is None:
            raise DomainError("有一张照片打不开，请换一张再发。")
        suffix = photo.suffix if photo.suffix in (".jpg", ".jpeg", ".png", ".gif", ".webp") else ".jpg"
        name = hashlib.sha256(data).hexdigest()[:32] + suffix
        path = folder / name
        if not path.exists():
            path.write_bytes(data)
        stored.append(str(path.relative_to(settings.data_dir)))
    return stored


def photo_path(relative: str) -> Path:
    return settings.data_dir / relative


async def _reporter(db: AsyncSession, caller: Caller) -> tuple[Member, Unit]:
    member = await member_of(db, caller.platform, caller.user_id)
    if member is None or member.status != MemberStatus.active:
        raise DomainError("报线索要先成为队员：在队伍群里发送 /加入 姓名，审核通过后再报。")
    statement = (
        select(Unit)
        .join(Team, col(Team.unit_id) == col(Unit.id))
        .join(TeamMembership, col(TeamMembership.team_id) == col(Team.id))
        .where(TeamMembership.member_id == member.id, TeamMembership.status == MembershipStatus.active)
        .order_by(col(TeamMembership.id))
    )
    unit = (await db.exec(statement)).first()
    if unit is None:
        raise DomainError("报线索要先成为队员：在队伍群里发送 /加入 姓名，审核通过后再报。")
    return member, unit


async def _officer_accounts(db: AsyncSession, unit_id: int) -> list[tuple[str, str]]:
    statement = (
        select(PlatformIdentity.platform, PlatformIdentity.user_id)
        .join(Role, col(Role.member_id) == col(PlatformIdentity.member_id))
        .where(Role.kind == RoleKind.officer, Role.scope_id == unit_id)
        .order_by(col(Role.id))
    )
    return list((await db.exec(statement)).all())


async def _tell_officers(db: AsyncSession, tip: Tip, unit: Unit, text: str, *, only: int | None = None) -> int:
    """Privately to the unit's officers (or to the one handling the tip), and in the unit's police groups."""
    if only is not None:
        accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == only))).all()
        destinations = [Destination(a.platform, a.user_id, private=True) for a in accounts]
    else:
        destinations = [Destination(p, u, private=True) for p, u in await _officer_accounts(db, unit.id)]
        groups = (await db.exec(select(PoliceGroup).where(PoliceGroup.unit_id == unit.id))).all()
        destinations += [Destination(group.platform, group.group_id) for group in groups]
    for destination in destinations:
        await enqueue(db, destination, text)
    return len(destinations)


async def _tell_reporter(db: AsyncSession, tip: Tip, text: str) -> None:
    accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == tip.reporter_id))).all()
    for account in accounts:
        await enqueue(db, Destination(account.platform, account.user_id, private=True), text)


@dataclass
class Receipt:
    tip: Tip
    unit_path: str


@retry_on_conflict
async def report_tip(
    caller: Caller,
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
        tip = Tip(
            reporter_id=member.id,
            unit_id=unit.id,
            category=category,
            anonymous=anonymous,
            latitude=location[0] if location else None,
            longitude=location[1] if location else None,
            location_text=(location_text or "").strip()[:200] or None,
        )
        db.add(tip)
        await db.flush()
        db.add(TipEntry(tip_id=tip.id, kind="report", text=text, photos=_store_photos(tip.id, photos or [])))
        announcement = f"新线索 {tip.id}（{category}），单位：{unit.path}。请私聊我发送 /线索 {tip.id} 查看。"
        await _tell_officers(db, tip, unit, announcement)
        return Receipt(tip=tip, unit_path=unit.path)


@dataclass
class MyTip:
    number: int
    category: str
    status: str
    created_at: datetime


async def my_tips(caller: Caller) -> list[MyTip]:
    async with session() as db:
        member = await member_of(db, caller.platform, caller.user_id)
        if member is None:
            return []
        tips = (
            await db.exec(select(Tip).where(Tip.reporter_id == member.id).order_by(col(Tip.id).desc()).limit(20))
        ).all()
        return [MyTip(tip.id, tip.category, tip.status, tip.created_at) for tip in tips]


@retry_on_conflict
async def add_to_tip(caller: Caller, tip_id: int, text: str, photos: list[Photo] | None = None) -> Tip:
    """/补充: the reporter adds text or photos to an open tip; whoever handles it is told there is more."""
    text = text.strip()
    if not text and not photos:
        raise DomainError("请写补充的内容，例如 /补充 12 他们每晚十点以后聚集")
    if len(text) > MAX_TEXT:
        raise DomainError(f"内容太长：一次最多{MAX_TEXT}个字。")
    async with session() as db:
        member = await member_of(db, caller.platform, caller.user_id)
        tip = await db.get(Tip, tip_id)
        if tip is None or member is None or tip.reporter_id != member.id:
            raise DomainError(f"你没有编号为 {tip_id} 的线索：发送 /我的线索 查看。")
        if tip.status not in OPEN:
            raise DomainError(f"线索 {tip_id} 已{STATUS_NAMES[tip.status]}，不能再补充；有新情况请重新报 /线索")
        db.add(TipEntry(tip_id=tip.id, kind="addition", text=text, photos=_store_photos(tip.id, photos or [])))
        unit = await db.get(Unit, tip.unit_id)
        await _tell_officers(
            db, tip, unit, f"线索 {tip.id} 有补充，请私聊我发送 /线索 {tip.id} 查看。", only=tip.claimed_by
        )
        return tip


def _member_id(rights: Rights) -> int | None:
    return rights.member.id if rights.member else None


def _officer_may_see(rights: Rights, unit: Unit) -> bool:
    return rights.is_officer and rights.covers_unit(unit)


async def _tip_for_officer(db: AsyncSession, caller: Caller, tip_id: int) -> tuple[Tip, Unit, Rights]:
    rights = await rights_of(db, caller)
    tip = await db.get(Tip, tip_id)
    unit = await db.get(Unit, tip.unit_id) if tip is not None else None
    if tip is None or unit is None or not _officer_may_see(rights, unit):
        # the same answer whether the tip exists or not: a number tells nothing to someone without the right
        raise NotAllowed(f"没有编号为 {tip_id} 的线索，或你无权查看（只有线索所在单位及上级单位的民警可以）。")
    return tip, unit, rights


@dataclass
class TipLine:
    at: datetime
    kind: str
    text: str
    photos: list[str] = field(default_factory=list)


@dataclass
class TipView:
    tip: Tip
    unit_path: str
    reporter: str
    """"匿名" for an anonymous tip; otherwise name, member number and masked phone."""
    handler: str | None
    history: list[TipLine]


@retry_on_conflict
async def view_tip(caller: Caller, tip_id: int) -> TipView:
    """/线索 编号 (officers, in private): the tip and its history; a new tip is claimed by the one who opens it."""
    async with session() as db:
        tip, unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status == TipStatus.new and rights.member is not None:
            tip.status = TipStatus.reviewing
            tip.claimed_by = rights.member.id
            db.add(tip)
            db.add(TipEntry(tip_id=tip.id, kind="status", text="核查中", officer_id=rights.member.id))
            await _tell_reporter(db, tip, f"你的线索 {tip.id} 已有民警在核查。")
        await audit(db, caller, rights.member, "view_tip", f"tip:{tip.id}")
        reporter = "匿名"
        if not tip.anonymous:
            member = await db.get(Member, tip.reporter_id)
            reporter = f"{member.name}（成员号 {member.id}，{mask_phone(member.phone)}）"
        handler = None
        if tip.claimed_by is not None:
            officer = await db.get(Member, tip.claimed_by)
            handler = officer.name if officer else None
        entries = (await db.exec(select(TipEntry).where(TipEntry.tip_id == tip.id).order_by(col(TipEntry.id)))).all()
        history = [TipLine(entry.at, entry.kind, entry.text, list(entry.photos)) for entry in entries]
        return TipView(tip=tip, unit_path=unit.path, reporter=reporter, handler=handler, history=history)


@dataclass
class TipSummary:
    number: int
    category: str
    status: str
    unit_path: str
    handler: str | None
    created_at: datetime


async def list_tips(caller: Caller, status: str | None = None, limit: int = 20) -> list[TipSummary]:
    """/线索列表 [状态] (officers): tips of the units they act for, newest first; no content, no reporter."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("只有民警可以查看线索列表。")
        statement = select(Tip, Unit).join(Unit, col(Unit.id) == col(Tip.unit_id))
        if status is not None:
            statement = statement.where(Tip.status == status)
        rows = (await db.exec(statement.order_by(col(Tip.id).desc()))).all()
        visible = [(tip, unit) for tip, unit in rows if rights.covers_unit(unit)][:limit]
        handler_ids = {tip.claimed_by for tip, _ in visible if tip.claimed_by}
        names = {}
        if handler_ids:
            officers = (await db.exec(select(Member).where(col(Member.id).in_(handler_ids)))).all()
            names = {officer.id: officer.name for officer in officers}
        await audit(db, caller, rights.member, "list_tips", status or "all", count=len(visible))
        return [
            TipSummary(tip.id, tip.category, tip.status, unit.path, names.get(tip.claimed_by), tip.created_at)
            for tip, unit in visible
        ]


@dataclass
class Decision:
    tip: Tip
    changed: bool
    points: int = 0


@retry_on_conflict
async def verify_tip(caller: Caller, tip_id: int, points: int | None, note: str | None) -> Decision:
    """/核实: verified, and the reporter rewarded once through the ledger."""
    async with session() as db:
        tip, _unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status == TipStatus.verified:
            return Decision(tip=tip, changed=False, points=tip.points or 0)
        if tip.status not in OPEN:
            raise DomainError(f"线索 {tip_id} 已{STATUS_NAMES[tip.status]}，不能再核实。")
        amount = settings.tip_points.get(tip.category, settings.tip_points_default) if points is None else points
        if not 0 <= amount <= 1000:
            raise DomainError("奖励积分要在 0 到 1000 之间。")
        tip.status = TipStatus.verified
        tip.points = amount
        tip.closed_at = utcnow()
        tip.claimed_by = tip.claimed_by or (rights.member.id if rights.member else None)
        db.add(tip)
        db.add(TipEntry(tip_id=tip.id, kind="status", text=f"已核实 {note or ''}".strip(), officer_id=tip.claimed_by))
        told = f"你的线索 {tip.id} 已核实{f'，奖励 {amount} 分' if amount else ''}。谢谢你！"
        if tip.anonymous and amount:
            # paid later with others of the unit, seen by the reporter alone (storage.services.anonymous_rewards)
            tip.reward_state = RewardState.due
            told += "为了不让人从时间和分数上认出你，匿名线索的奖励每周和同单位的其他奖励一起发放，到账时会告诉你。"
        elif amount:
            await record_points(db, tip.reporter_id, amount, LedgerReason.tip, "tip", tip.id, note="线索奖励")
        if not tip.anonymous:  # the tips leaderboard names reporters, so it counts only those who gave their name
            await add_to_totals(db, tip.reporter_id, tips=1, at=tip.closed_at)
        await audit(db, caller, rights.member, "verify_tip", f"tip:{tip.id}", points=amount)
        await _tell_reporter(db, tip, told)
        return Decision(tip=tip, changed=True, points=amount)


@retry_on_conflict
async def dismiss_tip(caller: Caller, tip_id: int, reason: str, duplicate_of: int | None = None) -> Decision:
    """/驳回: rejected with a reason, or marked a duplicate of an earlier tip (not rewarded)."""
    reason = reason.strip()[:200]
    if not reason and duplicate_of is None:
        raise DomainError("请写驳回理由，例如 /驳回 12 经核查不属实；重复的写 /驳回 12 重复 8")
    async with session() as db:
        tip, _unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status not in OPEN:
            raise DomainError(f"线索 {tip_id} 已{STATUS_NAMES[tip.status]}。")
        if duplicate_of is not None:
            original = await db.get(Tip, duplicate_of)
            if original is None or original.id == tip.id or (original.unit_id != tip.unit_id and not rights.is_admin):
                raise DomainError(f"没有可以对应的线索 {duplicate_of}：重复的线索要是同一单位更早的一条。")
            tip.status = TipStatus.duplicate
            tip.duplicate_of = original.id
            told = f"你的线索 {tip.id} 与更早的一条相同，已合并处理。谢谢你！"
        else:
            tip.status = TipStatus.rejected
            told = f"你的线索 {tip.id} 经核查未予采纳：{reason}"
        tip.closed_at = utcnow()
        db.add(tip)
        db.add(
            TipEntry(tip_id=tip.id, kind="status", text=told, officer_id=rights.member.id if rights.member else None)
        )
        await audit(db, caller, rights.member, "dismiss_tip", f"tip:{tip.id}", duplicate_of=duplicate_of)
        await _tell_reporter(db, tip, told)
        return Decision(tip=tip, changed=True)


@retry_on_conflict
async def reply_to_tip(caller: Caller, tip_id: int, text: str) -> Tip:
    """/回复线索: an officer's question reaches the reporter, without the officer's name."""
    text = text.strip()
    if not text:
        raise DomainError("请写要问的话，例如 /回复线索 12 请问大概几点开始？")
    if len(text) > MAX_TEXT:
        raise DomainError(f"内容太长：一次最多{MAX_TEXT}个字。")
    async with session() as db:
        tip, _unit, rights = await _tip_for_officer(db, caller, tip_id)
        if tip.status not in OPEN:
            raise DomainError(f"线索 {tip_id} 已{STATUS_NAMES[tip.status]}。")
        db.add(
            TipEntry(tip_id=tip.id, kind="question", text=text, officer_id=rights.member.id if rights.member else None)
        )
        await audit(db, caller, rights.member, "reply_tip", f"tip:{tip.id}")
        await _tell_reporter(db, tip, f"民警回复（线索 {tip.id}）：{text}\n回答请发送：/补充 {tip.id} 你的回答")
        return tip


@retry_on_conflict
async def set_police_group(caller: Caller, group_id: str, unit_text: str | None) -> Unit:
    """/设为警务群: an officer marks this group as the police group of their unit (tip announcements go there)."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer or rights.member is None:
            raise NotAllowed("只有民警可以设置警务群。")
        unit = await officer_unit(db, rights, unit_text, "/设为警务群 历下分局")
        if await team_of_group(db, caller.platform, group_id) is not None:
            raise DomainError("这是队员的队伍群，不能设为警务群：线索的消息只能发到只有民警的群。")
        existing = (
            await db.exec(
                select(PoliceGroup).where(PoliceGroup.platform == caller.platform, PoliceGroup.group_id == group_id)
            )
        ).first()
        police_group = existing or PoliceGroup(platform=caller.platform, group_id=group_id, unit_id=unit.id)
        police_group.unit_id = unit.id
        police_group.set_by = rights.member.id
        db.add(police_group)
        await audit(db, caller, rights.member, "set_police_group", f"{caller.platform}:{group_id}", unit=unit.path)
        return unit
