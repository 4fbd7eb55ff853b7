"""/删除我的信息: a member erased at their own request (PIPL), and the erasure list a restored backup is held to.

What an erasure scrubs, store by store (tests/test_erasure.py tests each):
- the member row: name replaced by ERASED_NAME; phone, ID number, emergency contact, area, employer, industry,
  profession, declared and verified tags, consent and suspension reason removed; status left, erased_at set.
  The row stays, naming no one, so that the figures (ledger, attendance, hours, MemberTotal) stay where they were;
- platform accounts (PlatformIdentity) deleted: the same account can join again, as a new member;
- roles deleted; team places left, without the group the application came from or the reason it was decided;
- applications begun in a group (JoinRequest, by account) deleted;
- vetting notes emptied (the result and date stay) and insurance policies deleted;
- tips they reported: unlinked, handed to one shared placeholder reporter (REPORTER_NAME) whom no one can be told
  apart by; the tips and their photos stay for the police (photos are evidence, and the bot keeps no other
  photos of a member); an anonymous reward still due stays due and goes, with the unit's weekly payout, to the
  placeholder, whose points nobody can spend: forfeited, while the payout's sum and count (which officers read
  in /导出) stay what the officers' /核实 answers add up to, so they cannot tell whose tip it was;
- the audit log: their account as actor replaced by ERASED_ACTOR, the words they typed into the entries they made
  removed, and their name, phone, ID number and account replaced wherever an entry by or about them holds them;
- the outbox: messages addressed to their accounts deleted (pending ones are not sent; sent ones leave no copy),
  their name and phone replaced in every other message's text, their account taken off the @-mentions;
- the dispatcher's sent journal holds message numbers only; the lines of messages deleted here go too
  (plugins/mydata does it, the journal is the chat face's file);
- exports written and not yet sent (under data_dir/exports) that name them are deleted.

The audit log records that an erasure happened (action ERASED_ACTION) and not who; the Erasure table, and the
erasure list file beside the data (LIST_FILE), hold the member number and when. After a backup is restored the
bot applies the list again at start-up (reapply_erasures), so a restored backup does not bring the person back.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import String, cast, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError
from storage.models import (
    AuditLog,
    Erasure,
    Insurance,
    JoinRequest,
    Member,
    MembershipStatus,
    MemberStatus,
    OutboxMessage,
    PlatformIdentity,
    PointEntry,
    Redemption,
    RedemptionStatus,
    Role,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    TeamMembership,
    Tip,
    Vetting,
    id_of,
    utcnow,
)
from storage.services.actors import Actor
from storage.services.people import member_for
from storage.services.retry import retry_on_conflict
from storage.settings import settings

ERASED_NAME = "已注销队员"
"""The name an erased member's row carries from then on (boards, rosters and exports show it)."""
REPORTER_NAME = "已注销的报告人"
"""The one placeholder member every erased reporter's tips are handed to."""
ERASED_ACTOR = "erased"
"""The audit log's actor for entries made by an erased member."""
ERASED_ACTION = "erase_member"
REMOVED = "（已删除）"
TYPED_DETAIL = frozenset({"reason", "name", "note", "text", "question"})
"""Audit detail fields that hold words the actor typed: removed from the entries an erased member made."""
LIST_FILE = "erasures.list"
"""Under data_dir: one line per erasure, `<member number> <when, ISO 8601>`; never part of a database backup."""


@dataclass(frozen=True)
class ErasureCheck:
    """What /删除我的信息 asks before it erases: the member may be erased."""

    member_id: int


@dataclass(frozen=True)
class Erased:
    member_id: int
    erased_at: datetime
    outbox_deleted: tuple[int, ...]
    """Outbox messages deleted: the sent journal's lines for them go too."""
    exports_deleted: int


async def _busy(db: AsyncSession, member_id: int) -> None:
    """Refused while a redemption waits to be handed over, or while the member holds a place (signed up or
    waiting) on a task not yet over: today's, one in progress or one to come. The member cancels those first
    (/取消报名, /兑换 取消), so that the waiting list moves up and everyone affected is told."""
    redemptions = (
        await db.exec(
            select(Redemption.id).where(
                Redemption.member_id == member_id, Redemption.status == RedemptionStatus.pending
            )
        )
    ).all()
    if redemptions:
        raise DomainError("erasure.redemption_open", redemption=redemptions[0])
    task = (
        await db.exec(
            select(Task.id)
            .join(Signup, col(Signup.task_id) == col(Task.id))
            .where(
                Signup.member_id == member_id,
                col(Signup.status).in_([SignupStatus.signed, SignupStatus.waiting]),
                Task.status == TaskStatus.open,
            )
            .order_by(col(Task.start_at))
        )
    ).first()
    if task is not None:
        raise DomainError("erasure.signed_up", task=task)


async def _member(db: AsyncSession, caller: Actor, *, lock: bool = False) -> Member:
    member = await member_for(db, caller)
    if member is None:
        raise DomainError("erasure.not_a_member")
    if lock:
        member = await db.get(Member, id_of(member), with_for_update=True, populate_existing=True)
        assert member is not None
    return member


async def check_erasable(caller: Actor) -> ErasureCheck:
    """Before the confirmation: refused now rather than after the member has confirmed."""
    async with session() as db:
        member = await _member(db, caller)
        await _busy(db, id_of(member))
        return ErasureCheck(member_id=id_of(member))


@retry_on_conflict
async def erase_me(caller: Actor, now: datetime | None = None) -> Erased:
    """Erase the caller, in one transaction (see the module's list); then files that name them go."""
    now = now or utcnow()
    async with session() as db:
        member = await _member(db, caller, lock=True)
        await _busy(db, id_of(member))
        scrubbed = await _scrub(db, member, now)
        db.add(AuditLog(actor=ERASED_ACTOR, action=ERASED_ACTION))
    await asyncio.to_thread(_append_to_list, [(scrubbed.member_id, now)])
    exports = await asyncio.to_thread(_delete_exports, scrubbed.words)
    return Erased(scrubbed.member_id, now, scrubbed.outbox_deleted, exports)


@dataclass(frozen=True)
class _Scrubbed:
    member_id: int
    words: tuple[str, ...]
    """What named them in an export (their name, phone, ID number): files holding any are deleted."""
    outbox_deleted: tuple[int, ...]


async def _scrub(db: AsyncSession, member: Member, now: datetime) -> _Scrubbed:
    member_id = id_of(member)
    accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member_id))).all()
    keys = [(account.platform, account.user_id) for account in accounts]
    names = [member.name] if len(member.name) >= 2 else []
    personal = [value for value in (member.phone, member.id_number) if value]
    account_keys = [f"{platform}:{user_id}" for platform, user_id in keys]
    replacements = [(word, ERASED_NAME) for word in names + personal + account_keys]

    member.name = ERASED_NAME
    for field in ("phone", "id_number", "emergency_contact", "area", "employer", "industry", "profession"):
        setattr(member, field, None)
    member.tags, member.verified_tags = [], []
    member.consented_at = member.status_reason = None
    member.status = MemberStatus.left
    member.erased_at = now
    db.add(member)

    await db.exec(delete(PlatformIdentity).where(col(PlatformIdentity.member_id) == member_id))
    await db.exec(delete(Role).where(col(Role.member_id) == member_id))
    for place in (await db.exec(select(TeamMembership).where(TeamMembership.member_id == member_id))).all():
        if place.status in (MembershipStatus.active, MembershipStatus.applied):
            place.status = MembershipStatus.left
            place.decided_at = place.decided_at or now
        place.reason = place.applied_platform = place.applied_group_id = None
        db.add(place)
    for platform, user_id in keys:
        await db.exec(
            delete(JoinRequest).where(col(JoinRequest.platform) == platform, col(JoinRequest.user_id) == user_id)
        )
    for vetting in (await db.exec(select(Vetting).where(Vetting.member_id == member_id))).all():
        vetting.note = ""
        db.add(vetting)
    await db.exec(delete(Insurance).where(col(Insurance.member_id) == member_id))
    for entry in (await db.exec(select(PointEntry).where(PointEntry.member_id == member_id))).all():
        if (note := _replaced(entry.note, replacements)) != entry.note:
            entry.note = note  # an officer's words about them (an award's reason); the amount stays
            db.add(entry)
    # their own open sign-ups are refused before; past ones on a task never closed go with the figures
    await _unlink_tips(db, member_id, now)
    await _scrub_audit(db, member_id, account_keys, replacements)
    deleted = await _scrub_outbox(db, keys, replacements)
    if (await db.exec(select(Erasure).where(Erasure.member_id == member_id))).first() is None:
        db.add(Erasure(member_id=member_id, erased_at=now))
    await db.flush()
    return _Scrubbed(member_id, tuple(names + personal), deleted)


async def _placeholder_reporter(db: AsyncSession, now: datetime) -> int:
    found = (
        await db.exec(
            select(Member.id)
            .where(Member.name == REPORTER_NAME, col(Member.erased_at).is_not(None), col(Member.phone).is_(None))
            .order_by(col(Member.id))
        )
    ).first()
    if found is not None:
        return found
    placeholder = Member(name=REPORTER_NAME, status=MemberStatus.left, erased_at=now)
    db.add(placeholder)
    await db.flush()
    return id_of(placeholder)


async def _unlink_tips(db: AsyncSession, member_id: int, now: datetime) -> None:
    tips = (await db.exec(select(Tip).where(Tip.reporter_id == member_id))).all()
    if not tips:
        return
    placeholder = await _placeholder_reporter(db, now)
    for tip in tips:
        tip.reporter_id = placeholder  # an anonymous reward still due stays due (see the module's list)
        db.add(tip)


def _replaced(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for word, label in replacements:
            value = value.replace(word, label)
        return value
    if isinstance(value, list):
        return [_replaced(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _replaced(item, replacements) for key, item in value.items()}
    return value


async def _scrub_audit(
    db: AsyncSession, member_id: int, account_keys: list[str], replacements: list[tuple[str, str]]
) -> None:
    condition = (col(AuditLog.actor_member_id) == member_id) | (col(AuditLog.target) == f"member:{member_id}")
    if account_keys:
        condition = condition | col(AuditLog.actor).in_(account_keys)
    for entry in (await db.exec(select(AuditLog).where(condition))).all():
        detail = dict(entry.detail)
        if entry.actor_member_id == member_id or entry.actor in account_keys:
            entry.actor = ERASED_ACTOR
            detail = {key: REMOVED if key in TYPED_DETAIL and value else value for key, value in detail.items()}
        entry.detail = _replaced(detail, replacements)
        entry.target = _replaced(entry.target, replacements)
        db.add(entry)


async def _scrub_outbox(db: AsyncSession, keys: list[tuple[str, str]], replacements: list[tuple[str, str]]) -> tuple:
    deleted: list[int] = []
    for platform, user_id in keys:
        ids = (
            await db.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.platform == platform, OutboxMessage.chat_key == f"user:{user_id}"
                )
            )
        ).all()
        deleted += [number for number in ids if number is not None]
    if deleted:
        await db.exec(delete(OutboxMessage).where(col(OutboxMessage.id).in_(deleted)))
    naming = [col(OutboxMessage.text).contains(word, autoescape=True) for word, _ in replacements]
    # a picture to draw (a certificate, a board) names people too; SQLite keeps JSON with \\u escapes
    pictures = cast(col(OutboxMessage.image), String)
    for word, _ in replacements:
        naming += [pictures.contains(form, autoescape=True) for form in {word, json.dumps(word)[1:-1]}]
    mentioning = [
        (col(OutboxMessage.platform) == platform) & cast(col(OutboxMessage.mentions), String).contains(json.dumps(uid))
        for platform, uid in keys
    ]
    if naming or mentioning:
        condition = naming[0] if naming else mentioning[0]
        for part in (naming + mentioning)[1:]:
            condition = condition | part
        user_ids = {user_id for _, user_id in keys}
        for message in (await db.exec(select(OutboxMessage).where(condition))).all():
            message.text = _replaced(message.text, replacements)
            message.mentions = [mention for mention in message.mentions if mention not in user_ids]
            if message.image is not None:
                message.image = _replaced(message.image, replacements)
            db.add(message)
    return tuple(deleted)


def list_path() -> Path:
    return Path(settings.data_dir) / LIST_FILE


def read_list() -> dict[int, datetime]:
    """The erasure list file: member number → when (a line cut short or garbled is passed over)."""
    try:
        text = list_path().read_text("utf-8")
    except FileNotFoundError:
        return {}
    found: dict[int, datetime] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            number, when = int(parts[0]), datetime.fromisoformat(parts[1])
        except ValueError:
            continue
        if when.tzinfo is not None:
            found.setdefault(number, when)
    return found


def _append_to_list(entries: list[tuple[int, datetime]]) -> None:
    if not entries:
        return
    path = list_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = "".join(f"{number} {when.isoformat()}\n" for number, when in entries)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, text.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _delete_exports(words: tuple[str, ...]) -> int:
    """Exports written and not yet sent (a send cut short, or the console's, which stay) that name them."""
    folder = Path(settings.data_dir) / "exports"
    wanted = [word for word in words if word]
    if not wanted or not folder.is_dir():
        return 0
    deleted = 0
    for path in sorted(folder.rglob("*.xlsx")):
        if _names_any(path, wanted):
            path.unlink(missing_ok=True)
            deleted += 1
            if path.parent != folder and not any(path.parent.iterdir()):
                path.parent.rmdir()
    return deleted


def _names_any(path: Path, words: list[str]) -> bool:
    try:
        book = load_workbook(path, read_only=True)
    except Exception:  # a file that is not a workbook (cut short): it cannot be read to tell, so it goes
        return True
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, str) and any(word in value for word in words):
                        return True
    finally:
        book.close()
    return False


@dataclass(frozen=True)
class Reapplied:
    erased: tuple[int, ...]
    """Members a restored database had brought back, erased again."""
    listed: int
    """Erasures the database knew and the list file did not, written to it."""


async def reapply_erasures() -> Reapplied:
    """At start-up: every erasure in the list file holds in the database, and every one in the database is in the
    file. A member row is erased again only if it was made before the erasure: a number a restored database gave
    to someone new since is not theirs."""
    listed = await asyncio.to_thread(read_list)
    erased: list[int] = []
    words: list[str] = []
    async with session() as db:
        for number, when in sorted(listed.items()):
            member = await db.get(Member, number, with_for_update=True)
            if member is None or member.created_at > when:
                continue
            if member.erased_at is None:
                await _cancel_places(db, number)
                scrubbed = await _scrub(db, member, when)
                words += scrubbed.words
                erased.append(number)
                db.add(AuditLog(actor=ERASED_ACTOR, action=ERASED_ACTION, detail={"after_restore": True}))
            elif (await db.exec(select(Erasure).where(Erasure.member_id == number))).first() is None:
                db.add(Erasure(member_id=number, erased_at=when))
        known = (await db.exec(select(Erasure))).all()
    missing = [(row.member_id, row.erased_at) for row in known if row.member_id not in listed]
    await asyncio.to_thread(_append_to_list, missing)
    if words:
        await asyncio.to_thread(_delete_exports, tuple(words))
    return Reapplied(tuple(erased), len(missing))


async def _cancel_places(db: AsyncSession, member_id: int) -> None:
    """A restored database may hold places the person had then: they are given up (the roster shows them free)."""
    for signup in (
        await db.exec(
            select(Signup).where(
                Signup.member_id == member_id, col(Signup.status).in_([SignupStatus.signed, SignupStatus.waiting])
            )
        )
    ).all():
        signup.status = SignupStatus.cancelled
        db.add(signup)
