"""The application in private chat, one question at a time: one flow with two entrances.

`/加入 姓名` in a team's group begins it (begin_in_group) and it goes on in private, a phone typed with it kept;
`/加入 邀请码` in private begins it for someone in no team group yet (begin_with_invite). Either way the bot asks,
in this order, what is not known yet: name, phone, ID number (only with `[members] ask_id_number`), area, employer,
profession, specialties (无 skips them), an emergency contact, then the consent text, answered 同意 or 不同意.

Every answer is kept in the account's JoinRequest (answers, by field) as soon as it is checked, so a restart in the
middle loses nothing; the request expires JOIN_REQUEST_LIFETIME after the last answer. 不同意, a cancel word or
leaving for another command deletes it: nothing personal is kept. 同意 saves the member's file and the application
in one transaction, with the invite's place taken by a conditional UPDATE (storage/services/invites.take_place).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError
from storage.models import (
    Invite,
    JoinRequest,
    Member,
    MembershipStatus,
    Team,
    TeamMembership,
    id_of,
    utcnow,
)
from storage.services import claims, notices
from storage.services.actors import ChatAccount, ChatGroup
from storage.services.invites import refusal_for, refusal_now, take_place, usable_invite
from storage.services.membership import (
    JOIN_REQUEST_LIFETIME,
    Application,
    check_claim,
    join_request,
    submit_application,
    tell_deciders,
)
from storage.services.organisation import team_at
from storage.services.outbox import Destination, enqueue
from storage.services.people import (
    NOTHING_WORDS,
    find_phone,
    mask_emergency_contact,
    mask_id_number,
    mask_phone,
    member_of,
    normalise_emergency_contact,
    normalise_file_text,
    normalise_id_number,
    normalise_name,
    normalise_phone,
    parse_tags,
)
from storage.services.retry import retry_on_conflict
from storage.settings import settings

STEPS = ("name", "phone", "id_number", "area", "employer", "profession", "specialties", "emergency_contact", "consent")
AGREE, DISAGREE = "同意", "不同意"


@dataclass(frozen=True)
class Question:
    """What the application asks next."""

    step: str
    """One of STEPS."""
    team: str
    name: str
    """The applicant's name as given so far ("" before the first answer)."""
    left: int
    """Questions still to answer, this one included."""
    noted: str | list[str] | None = None
    """What the answer just given was taken as, masked where it is personal (138****8000)."""
    noted_step: str | None = None
    """The step that answer was for."""
    first: bool = False
    """True when the application has just begun."""


@dataclass(frozen=True)
class Declined:
    """不同意: the application ended and nothing of it was kept."""

    team: str


@dataclass(frozen=True)
class NewApplicationNotice:
    """To the team's leaders (or, without one, the officers of its unit), privately: someone applied in private.
    Nothing personal: the name, the application number and the team."""

    name: str
    team: str
    number: int
    by_invite: bool
    waits_for_vetting: bool
    onboarding_course: str = ""
    """With the stage "trained": the course the applicant is still to complete before approval."""


def _steps() -> list[str]:
    return [step for step in STEPS if step != "id_number" or settings.ask_id_number]


def _answered(request: JoinRequest, step: str) -> bool:
    if step == "name":
        return bool(request.name)
    return step in request.answers


def _question(
    request: JoinRequest,
    team: Team,
    noted: str | list[str] | None = None,
    noted_step: str | None = None,
    first: bool = False,
) -> Question:
    waiting = [step for step in _steps() if not _answered(request, step)]
    return Question(
        step=waiting[0],
        team=team.name,
        name=request.name,
        left=len(waiting),
        noted=noted,
        noted_step=noted_step,
        first=first,
    )


async def _team(db: AsyncSession, request: JoinRequest) -> Team:
    team = await db.get(Team, request.team_id)
    assert team is not None, "a join request's team is kept while the request is"
    return team


async def _standing(db: AsyncSession, caller: ChatAccount, team: Team) -> Application | None:
    """What stands already for someone who is in or applying to the team: their application, or None."""
    member = await member_of(db, caller.platform, caller.user_id)
    if member is None:
        return None
    existing = (
        await db.exec(
            select(TeamMembership).where(TeamMembership.team_id == team.id, TeamMembership.member_id == member.id)
        )
    ).first()
    if existing is None or existing.status not in (MembershipStatus.applied, MembershipStatus.active):
        return None
    return Application(
        number=id_of(existing),
        member=member,
        team=team,
        created=False,
        already_member=existing.status == MembershipStatus.active,
    )


async def _fresh_request(db: AsyncSession, caller: ChatAccount, team: Team) -> JoinRequest:
    """The caller's request, emptied for a new application to the team (an unfinished one is replaced)."""
    request = (
        await db.exec(
            select(JoinRequest).where(JoinRequest.platform == caller.platform, JoinRequest.user_id == caller.user_id)
        )
    ).first() or JoinRequest(
        platform=caller.platform, user_id=caller.user_id, team_id=id_of(team), group_id="", name=""
    )
    request.team_id, request.group_id, request.invite_id, request.claims_member_id = id_of(team), "", None, None
    request.name, request.tags, request.answers = "", [], {}
    request.created_at = utcnow()
    return request


@retry_on_conflict
async def begin_with_invite(caller: ChatAccount, code: str) -> Question | Application:
    """/加入 邀请码 in private: the application to the invite's team begins (replacing any unfinished one), or, for
    someone already in or applying to that team, what stands."""
    async with session() as db:
        invite = await usable_invite(db, code)
        assert invite.team_id is not None  # usable_invite refuses a code without a team
        team = await db.get(Team, invite.team_id)
        assert team is not None
        standing = await _standing(db, caller, team)
        if standing is not None:
            return standing
        request = await _fresh_request(db, caller, team)
        request.invite_id = id_of(invite)
        db.add(request)
        await db.flush()
        return _question(request, team, first=True)


@dataclass(frozen=True)
class BegunInGroup:
    """/加入 姓名 in a team's group: the application goes on in private, where the bot asks the rest of the file and
    the consent. Nothing personal is asked or said in the group."""

    team: Team
    name: str
    phone_noted: bool
    """The phone number came with it, typed into the group: kept for the application, never said back there."""
    application: Application | None = None
    """Set instead when the caller is in the team already, or has applied to it already."""


@dataclass(frozen=True)
class ContinueInPrivateNotice:
    """To the account that began an application in a group, privately: the next question."""

    question: Question


@retry_on_conflict
async def begin_in_group(
    caller: ChatAccount, group: ChatGroup, name_text: str, tag_words: list[str], phone_text: str | None = None
) -> BegunInGroup:
    """/加入 姓名 [手机号] [特长] in a bound group: the name, specialties and any phone are kept in the account's
    request, and the first open question goes to the applicant in private. A phone another member holds is not
    kept (the private question asks for it and says why there, not in the group)."""
    name = normalise_name(name_text)
    tags = parse_tags(tag_words)
    phone = normalise_phone(phone_text) if phone_text is not None else None
    async with session() as db:
        located = await team_at(db, group)
        if located is None:
            raise DomainError("membership.group_not_bound")
        team = located.team
        standing = await _standing(db, caller, team)
        if standing is not None:
            return BegunInGroup(team=team, name=name, phone_noted=False, application=standing)
        request = await _fresh_request(db, caller, team)
        request.group_id, request.name, request.tags = group.group_id, name, tags
        request.answers = {"specialties": tags} if tags else {}
        noted = None
        if phone is not None and await _phone_free(db, caller, request, phone):
            request.answers = {**request.answers, "phone": phone}
            noted = mask_phone(phone)
        db.add(request)
        question = _question(request, team, noted=noted, noted_step="phone" if noted else None)
        prompt = notices.render(ContinueInPrivateNotice(question=question))
        await enqueue(db, Destination(caller.platform, caller.user_id, private=True), prompt, best_effort=True)
        return BegunInGroup(team=team, name=name, phone_noted=noted is not None)


async def _phone_free(db: AsyncSession, caller: ChatAccount, request: JoinRequest, phone: str) -> bool:
    try:
        await _phone_usable(db, caller, request, phone)
    except DomainError:
        return False
    return True


async def current_question(caller: ChatAccount) -> Question | None:
    """The question the caller's unfinished application waits on, if one waits (and is not too old)."""
    async with session() as db:
        request = await join_request(db, caller)
        if request is None:
            return None
        return _question(request, await _team(db, request))


async def drop(caller: ChatAccount) -> bool:
    """A cancel word, or leaving for another command: the unfinished application and its answers are deleted."""
    async with session() as db:
        result = await db.exec(
            delete(JoinRequest).where(
                col(JoinRequest.platform) == caller.platform, col(JoinRequest.user_id) == caller.user_id
            )
        )
        return result.rowcount > 0


def _without_end_marks(text: str) -> str:
    """同意。 or 同意! is 同意: the answer without the punctuation after it."""
    word = text.strip()
    while word and unicodedata.category(word[-1]).startswith("P"):
        word = word[:-1]
    return word


async def forget_expired() -> int:
    """Delete the applications left unfinished longer than JOIN_REQUEST_LIFETIME, with the answers they hold (a
    phone, an ID number given before any consent): an expired one is never finished, so nothing keeps it."""
    async with session() as db:
        result = await db.exec(
            delete(JoinRequest).where(
                col(JoinRequest.created_at) < utcnow() - JOIN_REQUEST_LIFETIME,
                col(JoinRequest.claims_member_id).is_(None),  # a claim waits longer, and lapses saying so
            )
        )
        return result.rowcount


def _checked(step: str, text: str) -> tuple[object, str | list[str] | None]:
    """An answer checked by the rule for its field: the value to keep and what to show of it (masked)."""
    if step == "name":
        name = normalise_name(text)
        return name, name
    if step == "phone":
        found, _ = find_phone(text)
        if found is None:
            raise DomainError("applications.no_phone")
        phone = normalise_phone(found)
        return phone, mask_phone(phone)
    if step == "id_number":
        id_number = normalise_id_number(text)
        return id_number, mask_id_number(id_number)
    if step in ("area", "employer", "profession"):
        if text.strip() in NOTHING_WORDS:  # a retiree has no employer
            return None, None
        value = normalise_file_text(text)
        return value, value
    if step == "specialties":
        if text.strip() in NOTHING_WORDS:
            return [], None
        tags = parse_tags(text)
        return tags, tags
    if step == "emergency_contact":
        who, phone = normalise_emergency_contact(text)
        contact = f"{who} {phone}"
        return contact, mask_emergency_contact(contact)
    raise AssertionError(step)


async def _phone_usable(db: AsyncSession, caller: ChatAccount, request: JoinRequest, phone: str) -> None:
    """Refused at once, as the application would be at its end: a phone another member holds (a record the
    caller may not take, membership.check_claim)."""
    member = await member_of(db, caller.platform, caller.user_id)
    holder = (await db.exec(select(Member).where(Member.phone == phone))).first()
    if holder is None or (member is not None and holder.id == member.id):
        return
    if member is not None:
        raise DomainError("membership.phone_taken")
    await check_claim(db, holder, request.name, caller, request.team_id)


class _InviteGone(Exception):
    def __init__(self, refusal: DomainError) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal


async def answer(caller: ChatAccount, text: str) -> Question | Application | claims.ClaimWaiting | Declined:
    """The answer to the question the caller's application waits on: the next question, or at the consent the
    finished application (同意) or nothing kept (不同意). A wrong answer is refused saying what to write; the
    question stays."""
    try:
        return await _answer(caller, text)
    except _InviteGone as gone:
        await drop(caller)  # the invite ended while the applicant answered: nothing of theirs is kept
        raise gone.refusal from None


@retry_on_conflict
async def _answer(caller: ChatAccount, text: str) -> Question | Application | claims.ClaimWaiting | Declined:
    async with session() as db:
        request = await join_request(db, caller)
        if request is None:
            raise DomainError("membership.nothing_begun")
        team = await _team(db, request)
        step = _question(request, team).step
        if step == "consent":
            word = _without_end_marks(text)
            if word == DISAGREE:
                await db.delete(request)
                return Declined(team=team.name)
            if word != AGREE:
                raise DomainError("applications.agree_or_not")
            return await _finish(db, caller, request, team)
        value, shown = _checked(step, text)
        if step == "name":
            request.name = str(value)
        else:
            if step == "phone":
                await _phone_usable(db, caller, request, str(value))
            request.answers = {**request.answers, step: value}
        request.created_at = utcnow()  # the request lives JOIN_REQUEST_LIFETIME from its last answer
        db.add(request)
        return _question(request, team, noted=shown, noted_step=step)


async def _finish(
    db: AsyncSession, caller: ChatAccount, request: JoinRequest, team: Team
) -> Application | claims.ClaimWaiting:
    """同意: the member's file and the application saved, the invite's place taken, the team's leaders told; or,
    for a roster record of the team, the claim of it kept for the leader to confirm."""
    holder = await claims.record_to_claim(db, caller, request)
    if holder is not None:
        return await claims.wait_for_confirmation(db, request, holder, team)
    taken = await db.exec(delete(JoinRequest).where(col(JoinRequest.id) == request.id))
    if taken.rowcount != 1:  # the same 同意 twice at once: the other one finished it
        raise DomainError("membership.nothing_begun")
    answers = dict(request.answers)
    tags = list(answers.get("specialties") or request.tags)
    application = await submit_application(
        db,
        caller,
        team,
        request.group_id or None,
        request.name,
        str(answers["phone"]),
        tags,
        invite_id=request.invite_id,
    )
    if not application.created:
        return application
    if request.invite_id is not None:
        invite = await db.get(Invite, request.invite_id)
        if invite is None:
            raise _InviteGone(DomainError("invites.unknown"))
        refusal = await refusal_now(db, invite)  # its maker may have lost the right to invite meanwhile
        if refusal is None and not await take_place(db, request.invite_id):
            await db.refresh(invite)
            refusal = refusal_for(invite) or DomainError("invites.full")
        if refusal is not None:
            raise _InviteGone(refusal)
    member = application.member
    if settings.ask_id_number:
        member.id_number = answers.get("id_number")
    member.area = answers.get("area")
    member.employer = answers.get("employer")
    member.profession = answers.get("profession")
    member.emergency_contact = answers.get("emergency_contact")
    member.consented_at = utcnow()
    db.add(member)
    await _tell_leaders(db, team, application, by_invite=request.invite_id is not None)
    return application


async def _tell_leaders(db: AsyncSession, team: Team, application: Application, *, by_invite: bool) -> None:
    """The team's leaders hear of an application finished in private (where nobody else saw it); a team without a
    leader has its unit's officers told instead."""
    notice = NewApplicationNotice(
        name=application.member.name,
        team=team.name,
        number=application.number,
        by_invite=by_invite,
        waits_for_vetting=application.waits_for_vetting,
        onboarding_course=application.onboarding.course if application.onboarding else "",
    )
    await tell_deciders(db, team, notices.render(notice))  # once: the request was deleted in this transaction
