"""Emergency call-outs: an officer alerts every group of a unit, volunteers answer, the officer sees who and how
fast (the 1-3-5 minute response circle), and an alert short of its need is escalated once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    Alert,
    AlertResponse,
    GroupBinding,
    LedgerReason,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    Priority,
    Signup,
    Task,
    TaskStatus,
    Team,
    TeamMembership,
    Unit,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor
from storage.services.ledger import record_points
from storage.services.organisation import audit, in_unit_or_below, officer_unit, units_of_member
from storage.services.outbox import Destination, Message, enqueue, enqueue_all
from storage.services.people import member_for, missing_tags, rights_of
from storage.services.retry import retry_on_conflict
from storage.services.training.qualifications import qualified_members
from storage.settings import settings

MAX_TEXT = 500
OPEN, CLOSED = "open", "closed"
"""Alert.status."""
RESPOND_BUTTON = "响应"
"""The label of the button that answers a call-out (/respond N): the command's own name."""
AWARD_NOTE = "紧急呼叫{number}"
"""The ledger note of the points a call-out's responders are given."""


async def _groups_under(db: AsyncSession, unit: Unit) -> list[Destination]:
    statement = (
        select(GroupBinding)
        .join(Team, col(Team.id) == col(GroupBinding.team_id))
        .join(Unit, col(Unit.id) == col(Team.unit_id))
        .where(in_unit_or_below(unit))
        .order_by(col(GroupBinding.id))
    )
    return [Destination(binding.platform, binding.group_id) for binding in (await db.exec(statement)).all()]


async def _members_under(db: AsyncSession, unit: Unit) -> list[Member]:
    statement = (
        select(Member)
        .join(TeamMembership, col(TeamMembership.member_id) == col(Member.id))
        .join(Team, col(Team.id) == col(TeamMembership.team_id))
        .join(Unit, col(Unit.id) == col(Team.unit_id))
        .where(
            in_unit_or_below(unit),
            TeamMembership.status == MembershipStatus.active,
            Member.status == MemberStatus.active,
        )
    )
    members = {member.id: member for member in (await db.exec(statement)).all()}  # one per person, many teams
    return list(members.values())


async def _busy_member_ids(db: AsyncSession) -> set[int]:
    """Members checked in on a task right now."""
    statement = (
        select(Signup.member_id)
        .join(Task, col(Task.id) == col(Signup.task_id))
        .where(
            Task.status == TaskStatus.open,
            col(Signup.checked_in_at).is_not(None),
            col(Signup.checked_out_at).is_(None),
        )
    )
    return set((await db.exec(statement)).all())


@dataclass(frozen=True)
class AlertCallNotice:
    """The call-out, to the groups of the unit (escalated: of its parent unit too) and to members with the tags."""

    number: int
    unit_path: str
    text: str
    need: int
    tags: tuple[str, ...]
    escalated: bool = False


def _call(alert: Alert, unit: Unit, *, escalated: bool = False) -> AlertCallNotice:
    return AlertCallNotice(
        number=id_of(alert),
        unit_path=unit.path,
        text=alert.text,
        need=alert.need,
        tags=tuple(alert.required_tags),
        escalated=escalated,
    )


def _buttons(alert: Alert) -> list[tuple[str, str]]:
    return [(RESPOND_BUTTON, f"/respond {alert.id}")]


@dataclass
class Raised:
    alert: Alert
    unit_path: str
    groups: int
    people: int


@retry_on_conflict
async def raise_alert(caller: Actor, text: str, need: int, tags: list[str], unit_text: str | None) -> Raised:
    """/紧急: to every group of the unit and its sub-units at the highest priority; with tags, also privately to
    active members who have them and are not checked in on a task right now."""
    text = text.strip()
    if not text:
        raise DomainError("emergency.no_text")
    if len(text) > MAX_TEXT:
        raise DomainError("emergency.too_long", most=MAX_TEXT)
    if not 1 <= need <= 1000:
        raise DomainError("emergency.need_range")
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("organisation.officers_only", act="raise_alert")
        unit = await officer_unit(db, rights, unit_text, "raise_alert")
        officer_id = rights.member.id if rights.member else None
        alert = Alert(unit_id=id_of(unit), officer_id=officer_id, text=text, need=need)
        alert.required_tags = tags
        db.add(alert)
        await db.flush()
        message = notices.render(_call(alert, unit))
        buttons = _buttons(alert)
        groups = await _groups_under(db, unit)
        outgoing = [Message(group, message, priority=Priority.emergency, buttons=buttons) for group in groups]
        people = 0
        if tags:
            busy = await _busy_member_ids(db)
            free = [member for member in await _members_under(db, unit) if member.id not in busy]
            today = utcnow().astimezone(settings.timezone).date()
            held = await qualified_members(db, [id_of(member) for member in free], tags, today)
            chosen = [
                member
                for member in free
                if not missing_tags(tags, member.tags, member.verified_tags, held.get(id_of(member), ()))
            ]
            if chosen:
                accounts = (
                    await db.exec(
                        select(PlatformIdentity).where(col(PlatformIdentity.member_id).in_([m.id for m in chosen]))
                    )
                ).all()
                for account in accounts:
                    destination = Destination(account.platform, account.user_id, private=True)
                    outgoing.append(Message(destination, message, priority=Priority.emergency, buttons=buttons))
                people = len(chosen)
        await enqueue_all(db, outgoing)
        await audit(db, caller, rights.member, "raise_alert", f"alert:{alert.id}", unit=unit.path, need=need)
        return Raised(alert=alert, unit_path=unit.path, groups=len(groups), people=people)


@dataclass(frozen=True)
class Responder:
    name: str
    minutes_after: float
    eta_minutes: int | None


@dataclass(frozen=True)
class AlertState:
    """A call-out as its officer follows it: the count against the need, who answered and when."""

    number: int
    unit_path: str
    need: int
    closed: bool
    escalated: bool
    result: str | None
    responders: list[Responder]

    @property
    def count(self) -> int:
        return len(self.responders)


@dataclass(frozen=True)
class NeedReachedNotice:
    """To the officer who raised the call-out: enough people answered."""

    state: AlertState


async def _state(db: AsyncSession, alert: Alert) -> AlertState:
    unit = await db.get(Unit, alert.unit_id)
    rows = (
        await db.exec(
            select(AlertResponse, Member)
            .join(Member, col(Member.id) == col(AlertResponse.member_id))
            .where(AlertResponse.alert_id == alert.id)
            .order_by(col(AlertResponse.responded_at), col(AlertResponse.id))
        )
    ).all()
    responders = [
        Responder(member.name, (response.responded_at - alert.created_at).total_seconds() / 60, response.eta_minutes)
        for response, member in rows
    ]
    return AlertState(
        number=id_of(alert),
        unit_path=unit.path if unit else "",
        need=alert.need,
        closed=alert.status == CLOSED,
        escalated=alert.escalated_at is not None,
        result=alert.result,
        responders=responders,
    )


async def _officer_destinations(db: AsyncSession, alert: Alert) -> list[Destination]:
    if alert.officer_id is None:
        return []
    accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == alert.officer_id))).all()
    return [Destination(account.platform, account.user_id, private=True) for account in accounts]


@dataclass
class Response:
    state: AlertState
    changed: bool
    eta_updated: bool = False
    """Answered before: the arrival time given now replaced the one given then."""


@retry_on_conflict
async def respond(
    caller: Actor, alert_id: int | None, eta_minutes: int | None, now: datetime | None = None
) -> Response:
    """/响应: a volunteer can go; answering twice changes nothing. Reaching the need tells the officer."""
    now = now or utcnow()
    if eta_minutes is not None and not 0 <= eta_minutes <= 24 * 60:
        raise DomainError("emergency.bad_eta")
    async with session() as db:
        member = await member_for(db, caller)
        if member is None or member.status != MemberStatus.active:
            raise DomainError("emergency.members_only")
        member_id = id_of(member)
        units = await units_of_member(db, member_id)
        alert = await _alert_for(db, alert_id, units)
        if alert.status == CLOSED:
            raise DomainError("emergency.over", number=alert.id)
        existing = (
            await db.exec(
                select(AlertResponse).where(AlertResponse.alert_id == alert.id, AlertResponse.member_id == member.id)
            )
        ).first()
        if existing is not None:
            if eta_minutes is None:
                return Response(state=await _state(db, alert), changed=False)
            # a new estimate, from now: kept as minutes after the first answer, as the officer's view reads it
            since = max(int((now - existing.responded_at).total_seconds() // 60), 0)
            existing.eta_minutes = since + eta_minutes
            db.add(existing)
            await db.flush()
            return Response(state=await _state(db, alert), changed=False, eta_updated=True)
        db.add(AlertResponse(alert_id=id_of(alert), member_id=member_id, eta_minutes=eta_minutes, responded_at=now))
        await db.flush()
        state = await _state(db, alert)
        if state.count >= alert.need and alert.reached_at is None:
            alert.reached_at = now
            db.add(alert)
            text = notices.render(NeedReachedNotice(state=state))
            for destination in await _officer_destinations(db, alert):
                await enqueue(db, destination, text, priority=Priority.emergency)
        return Response(state=state, changed=True)


async def _alert_for(db: AsyncSession, alert_id: int | None, units: list[Unit]) -> Alert:
    def covers(alert_unit: Unit, escalated: bool) -> bool:
        for unit in units:
            if unit.path == alert_unit.path or unit.path.startswith(alert_unit.path + "/"):
                return True
            # an escalated alert also reaches the parent unit's groups
            if (
                escalated
                and "/" in alert_unit.path
                and (
                    unit.path == alert_unit.path.rsplit("/", 1)[0]
                    or unit.path.startswith(alert_unit.path.rsplit("/", 1)[0] + "/")
                )
            ):
                return True
        return False

    if alert_id is not None:
        alert = await db.get(Alert, alert_id)
        unit = await db.get(Unit, alert.unit_id) if alert else None
        if alert is None or unit is None or not covers(unit, alert.escalated_at is not None):
            raise DomainError("emergency.not_for_you", number=alert_id)
        return alert
    open_alerts = (
        await db.exec(
            select(Alert, Unit)
            .join(Unit, col(Unit.id) == col(Alert.unit_id))
            .where(Alert.status == OPEN)
            .order_by(col(Alert.id).desc())
        )
    ).all()
    for alert, unit in open_alerts:
        if covers(unit, alert.escalated_at is not None):
            return alert
    raise DomainError("emergency.none_for_you")


async def alert_state(caller: Actor, alert_id: int) -> AlertState:
    """/紧急 编号: the count against the need, who answered, how many minutes after the alert, and their ETA."""
    async with session() as db:
        rights = await rights_of(db, caller)
        alert = await db.get(Alert, alert_id)
        unit = await db.get(Unit, alert.unit_id) if alert else None
        if alert is None or unit is None or not (rights.is_officer and rights.covers_unit(unit)):
            raise NotAllowed("emergency.not_visible", number=alert_id)
        return await _state(db, alert)


@dataclass
class Escalation:
    alert: Alert
    groups: int


async def escalate_due(now: datetime | None = None) -> list[Escalation]:
    """Alerts short of their need after the configured time are sent once more, to the unit's groups and its
    parent unit's groups, marked as escalated."""
    now = now or utcnow()
    escalated: list[Escalation] = []
    async with session() as db:
        statement = (
            select(Alert)
            .where(
                Alert.status == OPEN,
                col(Alert.escalated_at).is_(None),
                col(Alert.reached_at).is_(None),
                col(Alert.created_at) <= now - settings.alert_escalate_after,
            )
            .with_for_update(skip_locked=True)
        )
        for alert in (await db.exec(statement)).all():
            unit = await db.get(Unit, alert.unit_id)
            assert unit is not None, "a call-out's unit is kept"
            alert.escalated_at = now
            db.add(alert)
            parent = await db.get(Unit, unit.parent_id) if unit.parent_id else None
            groups = await _groups_under(db, parent or unit)
            text = notices.render(_call(alert, unit, escalated=True))
            buttons = _buttons(alert)
            await enqueue_all(
                db,
                [Message(group, text, priority=Priority.emergency, buttons=buttons) for group in groups],
            )
            escalated.append(Escalation(alert=alert, groups=len(groups)))
    return escalated


@dataclass
class Closed:
    state: AlertState
    changed: bool
    awarded: int


@retry_on_conflict
async def close_alert(caller: Actor, alert_id: int, result: str | None, points: int | None) -> Closed:
    """/紧急 结束: closes; responders may be awarded points through the ledger, once each."""
    if points is not None and not 0 <= points <= 1000:
        raise DomainError("emergency.points_range")
    async with session() as db:
        rights = await rights_of(db, caller)
        alert = (await db.exec(select(Alert).where(Alert.id == alert_id).with_for_update())).first()
        unit = await db.get(Unit, alert.unit_id) if alert else None
        if alert is None or unit is None or not (rights.is_officer and rights.covers_unit(unit)):
            raise NotAllowed("emergency.not_closable", number=alert_id)
        changed = alert.status != CLOSED
        if changed:
            alert.status = CLOSED
            alert.closed_at = utcnow()
            alert.result = (result or "").strip()[:500] or None
            alert.points = points or 0
            db.add(alert)
            await audit(db, caller, rights.member, "close_alert", f"alert:{alert.id}", points=points)
        awarded = 0
        if points:
            number = id_of(alert)
            responses = (await db.exec(select(AlertResponse).where(AlertResponse.alert_id == number))).all()
            note = AWARD_NOTE.format(number=number)
            for response in responses:
                if await record_points(
                    db,
                    response.member_id,
                    points,
                    LedgerReason.award,
                    "alert",
                    number,
                    actor_member_id=rights.member.id if rights.member else None,
                    note=note,
                ):
                    awarded += 1
        return Closed(state=await _state(db, alert), changed=changed, awarded=awarded)
