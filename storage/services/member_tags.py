"""/标签: a member's specialties. The member declares their own (`tags`); an officer of the member's unit verifies
a declared one, adds one verified, or removes one from both (`verified_tags`), audited, and the member is told in
private. What a task's or a call-out's `需要:` accepts of them, storage.services.people.accepted_tags decides."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import Member, id_of
from storage.services import notices
from storage.services.actors import Actor
from storage.services.organisation import audit, covers_member
from storage.services.outbox import tell_member
from storage.services.people import MAX_TAGS, Specialty, parse_tags, rights_of, specialties_of
from storage.services.retry import retry_on_conflict


@dataclass(frozen=True)
class TagChange:
    number: int
    name: str
    by_officer: bool
    """An officer's change (verified tags) rather than the member's own (declared tags)."""
    verified: tuple[str, ...]
    """Declared tags an officer marked verified."""
    added: tuple[str, ...]
    removed: tuple[str, ...]
    specialties: list[Specialty]
    """All of them, after the change."""

    @property
    def changed(self) -> bool:
        return bool(self.verified or self.added or self.removed)


@dataclass(frozen=True)
class TagsChangedNotice:
    """To the member whose specialties an officer changed."""

    verified: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    specialties: list[Specialty]


def _checked(add: list[str], remove: list[str]) -> tuple[list[str], list[str]]:
    added, removed = parse_tags(add), parse_tags(remove)
    if not added and not removed:
        raise DomainError("member_tags.nothing")
    both = [tag for tag in added if tag in removed]
    if both:
        raise DomainError("member_tags.both", tag=both[0])
    return added, removed


@retry_on_conflict
async def change_tags(caller: Actor, number: int | None, add: list[str], remove: list[str]) -> TagChange:
    """/标签 成员号 +救援 -驾驶 (an officer) or /标签 +驾驶 -摄影 (the member's own declared tags). Sent twice, the
    second changes nothing, writes nothing and tells no one."""
    added, removed = _checked(add, remove)
    async with session() as db:
        rights = await rights_of(db, caller)
        if number is None:
            if rights.member is None:
                raise DomainError("organisation.not_registered")
            change = _declare(rights.member, added, removed)
            db.add(rights.member)
            return change
        member = await db.get(Member, number)
        if not rights.is_officer:
            raise NotAllowed("member_tags.officers_only")
        if member is None or member.erased_at is not None or not await covers_member(db, rights, member):
            raise NotAllowed("member_tags.not_yours", number=number)  # the same whether the member exists or not
        change = _verify(member, added, removed)
        db.add(member)
        if change.changed:
            member_id = id_of(member)
            await audit(
                db,
                caller,
                rights.member,
                "tag_member",
                f"member:{member_id}",
                verified=list(change.verified),
                added=list(change.added),
                removed=list(change.removed),
            )
            notice = TagsChangedNotice(change.verified, change.added, change.removed, change.specialties)
            await tell_member(db, member_id, notices.render(notice))
        return change


def _declare(member: Member, added: list[str], removed: list[str]) -> TagChange:
    new = [tag for tag in added if tag not in member.tags]
    gone = [tag for tag in removed if tag in member.tags]
    tags = [tag for tag in member.tags if tag not in gone] + new
    if len(tags) > MAX_TAGS:
        raise DomainError("people.too_many_tags", most=MAX_TAGS)
    member.tags = tags
    return TagChange(id_of(member), member.name, False, (), tuple(new), tuple(gone), specialties_of(member))


def _verify(member: Member, added: list[str], removed: list[str]) -> TagChange:
    verified = [tag for tag in added if tag in member.tags and tag not in member.verified_tags]
    new = [tag for tag in added if tag not in member.tags and tag not in member.verified_tags]
    gone = [tag for tag in removed if tag in member.tags or tag in member.verified_tags]
    kept = [tag for tag in member.verified_tags if tag not in gone]
    if len(kept + verified + new) > MAX_TAGS:
        raise DomainError("people.too_many_tags", most=MAX_TAGS)
    member.tags = [tag for tag in member.tags if tag not in gone]
    member.verified_tags = kept + verified + new
    return TagChange(id_of(member), member.name, True, tuple(verified), tuple(new), tuple(gone), specialties_of(member))
