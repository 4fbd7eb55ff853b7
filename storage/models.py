"""The tables. Every time is stored in UTC; the configured time zone only applies when showing or parsing."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum, IntEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import JSON, Column, DateTime, Index, Row, Table, Text, TypeDecorator, UniqueConstraint, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Saved(Protocol):
    id: int | None


def id_of(row: _Saved) -> int:
    """The primary key of a row already saved (flushed or loaded): SQLModel types every `id` `int | None`,
    because a row has none until the database gives it one."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id: it has not been saved")
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model (SQLModel does not declare `__table__` to type checkers)."""
    table = vars(model)["__table__"]
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


M = TypeVar("M", bound=SQLModel)


def detached(model: type[M], row: Row) -> M | None:
    """The model of a Core row that selected all its table's columns (None when its id is NULL: an outer join
    found nothing), made as the ORM makes one it loads, without a session, and detached
    (`make_transient_to_detached`): nothing can load into it, and adding it to a session never inserts it again.

    For the read-only services on storage.db.run_reading, whose callers (the rights, a team) want models: a
    member, its roles and their units through a session cost about 1 ms of CPU, most of it the ORM's loading."""
    table = table_of(model)
    values = row._mapping
    if values[table.c.id] is None:
        return None
    return detached_of(model, {column.key: values[column] for column in table.columns})


def detached_of(model: type[M], values: dict[str, Any]) -> M:
    """detached, from the values of every column of the model's table by name (a row that labelled them)."""
    instance = inspect(model).class_manager.new_instance()  # what the ORM's loading calls for a row
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    return instance


class UTCDateTime(TypeDecorator):
    """A moment, always aware and in UTC in Python; SQLite (which keeps no offset) stores it as naive UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JSONValue = JSON().with_variant(JSONB(), "postgresql")
"""A JSON document: JSON on SQLite, JSONB on PostgreSQL, whose plain `json` has no equality (a DISTINCT, GROUP BY
or UNION over a row holding one fails there)."""
JSONValueOrNull = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _time_column(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_column_kwargs=kwargs, sa_type=UTCDateTime)


class MemberStatus(str, Enum):
    applied = "applied"
    active = "active"
    suspended = "suspended"
    left = "left"


class MembershipStatus(str, Enum):
    applied = "applied"
    active = "active"
    rejected = "rejected"
    left = "left"


class RoleKind(str, Enum):
    admin = "admin"
    officer = "officer"
    leader = "leader"


class Unit(SQLModel, table=True):
    """A police unit; units form a tree (city bureau → branch → station → workstation)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    path: str = Field(max_length=512, unique=True, description="names from the root, joined by '/'")
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    created_at: datetime = _time_column()


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("unit_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    created_at: datetime = _time_column()


class GroupBinding(SQLModel, table=True):
    """A group chat on one platform that belongs to a team."""

    __table_args__ = (UniqueConstraint("platform", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    group_id: str = Field(max_length=64)
    team_id: int = Field(foreign_key="team.id", index=True)
    bound_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class Member(SQLModel, table=True):
    """A person. The id is the short member number people use in commands."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=20, unique=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    status: str = Field(default=MemberStatus.applied.value, max_length=16)
    created_at: datetime = _time_column()
    welcomed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When /帮助 in a group first showed them what volunteers do (None: not yet; /帮助 shows it once)."""
    # the member file (一人一档): what the person gave when applying, shown masked where it is personal
    id_number: str | None = Field(default=None, max_length=18)
    """Resident ID number, when the programme asks for it (`[members] ask_id_number`): stored whole, shown masked."""
    emergency_contact: str | None = Field(default=None, max_length=100)
    area: str | None = Field(default=None, max_length=64)
    employer: str | None = Field(default=None, max_length=64)
    industry: str | None = Field(default=None, max_length=64)
    profession: str | None = Field(default=None, max_length=64)
    verified_tags: list[str] = Field(
        default_factory=list, sa_column=Column(JSONValue, nullable=False, server_default="[]")
    )
    """Tags an officer has verified or added (`/标签`); `tags` are the ones the member declared."""
    consented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the member agreed to the processing of their personal data (the text of `[members] consent_text`)."""
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the member first became active (the joining date of the file)."""
    status_reason: str | None = Field(default=None, max_length=200)
    """Why an officer suspended the member (status suspended), for the member and the file."""
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the person was erased at their request (/删除我的信息): the row stays for the figures, naming no one."""


class PlatformIdentity(SQLModel, table=True):
    """One platform account of a member (a person may reach the bot from several platforms)."""

    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = _time_column()


class TeamMembership(SQLModel, table=True):
    """A member's place in a team; while applied, its id is the application number."""

    __table_args__ = (UniqueConstraint("team_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(default=MembershipStatus.applied.value, max_length=16)
    applied_at: datetime = _time_column()
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    reason: str | None = Field(default=None, max_length=200)
    applied_platform: str | None = Field(default=None, max_length=16)
    applied_group_id: str | None = Field(default=None, max_length=64)
    invite_id: int | None = Field(default=None, foreign_key="invite.id")
    """The invite that brought the application, if one did."""


class Invite(SQLModel, table=True):
    """An invitation code (/招募) with which someone not yet in any team group applies to the bot in private."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)
    places: int | None = Field(default=None, description="how many applications it admits; None: no limit")
    used: int = 0
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _time_column()


class VettingResult(str, Enum):
    passed = "passed"
    failed = "failed"


class Vetting(SQLModel, table=True):
    """The result of an applicant's background check (政审), recorded by an officer (a leader cannot)."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    result: str = Field(max_length=8)
    checked_on: date
    officer_id: int | None = Field(default=None, foreign_key="member.id")
    note: str = Field(default="", max_length=200)
    created_at: datetime = _time_column()


class Insurance(SQLModel, table=True):
    """A member's accident insurance policy; the newest by valid_until is the one that counts."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    insurer: str = Field(max_length=64)
    policy_number: str = Field(max_length=64)
    valid_until: date = Field(index=True)
    recorded_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class Erasure(SQLModel, table=True):
    """A member erased at their request: ids only, applied again after a backup is restored so that a restored
    backup does not bring the person back."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(unique=True)
    erased_at: datetime = _time_column()


class JoinRequest(SQLModel, table=True):
    """An application begun with /加入 in a team's group and finished in private, where the phone number is asked:
    a number typed into a group is read by everyone in it. One per account; the newest replaces the older."""

    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    team_id: int = Field(foreign_key="team.id", index=True)
    group_id: str = Field(max_length=64, description="the group the application was begun in")
    name: str = Field(max_length=64)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    invite_id: int | None = Field(default=None, foreign_key="invite.id")
    """The invite the applicant came with (/加入 邀请码); None for /加入 begun in a team's group."""
    answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONValue, nullable=False, server_default="{}")
    )
    """The member-file answers given so far in the private application (area, employer, …), by field name."""
    claims_member_id: int | None = Field(default=None, foreign_key="member.id")
    """Set once the applicant agreed, when the phone and name are a roster record's of the team without an account:
    the request is then a claim of that member, waiting for the leader's or an officer's /认领 (services/claims)."""
    created_at: datetime = _time_column()


class Role(SQLModel, table=True):
    """A right: administrator (scope 0), officer of a unit (scope = unit id), leader of a team (scope = team id)."""

    __table_args__ = (UniqueConstraint("member_id", "kind", "scope_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(max_length=16)
    scope_id: int = Field(default=0)
    granted_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class AuditLog(SQLModel, table=True):
    """Every officer or administrator action."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time_column(index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    actor: str = Field(max_length=100, description="platform:user_id, or cli")
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONValue, nullable=False))


class TaskStatus(str, Enum):
    open = "open"
    cancelled = "cancelled"
    closed = "closed"


class SignupStatus(str, Enum):
    signed = "signed"
    waiting = "waiting"
    cancelled = "cancelled"
    attended = "attended"
    no_show = "no_show"


class Task(SQLModel, table=True):
    """A task officers post: a patrol, a school-gate guard, publicity, event security, …"""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    place: str = Field(max_length=100)
    start_at: datetime = Field(sa_type=UTCDateTime, index=True)
    end_at: datetime = Field(sa_type=UTCDateTime, index=True)
    signup_deadline: datetime = Field(sa_type=UTCDateTime)
    capacity: int
    points: int = 0
    required_tags: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None
    repeat_weekly: bool = False
    series_id: int | None = Field(default=None, index=True, description="the first task of a weekly series")
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True)
    """A training session (a 培训 task posted with 课程:编号): at close, who attended completes the course."""
    unit_id: int = Field(foreign_key="unit.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    status: str = Field(default=TaskStatus.open.value, max_length=16, index=True)
    cancel_reason: str | None = Field(default=None, max_length=200)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _time_column()


class TaskTeam(SQLModel, table=True):
    """A team a task is for (a whole unit's task is stored as each of its teams)."""

    __table_args__ = (UniqueConstraint("task_id", "team_id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)


class Signup(SQLModel, table=True):
    """A member's place on a task: signed or waiting in arrival order, then attended or no-show."""

    __table_args__ = (UniqueConstraint("task_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(default=SignupStatus.signed.value, max_length=16)
    arrived_at: datetime = _time_column()
    """When the sign-up came; the waiting list moves up in this order."""
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    checked_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    checkout_automatic: bool = False
    latitude: float | None = None
    longitude: float | None = None
    distance_m: int | None = None
    outside_radius: bool = False
    minutes_served: int | None = None


class LedgerReason(str, Enum):
    attendance = "attendance"
    no_show = "no_show"
    tip = "tip"
    award = "award"
    penalty = "penalty"
    redemption = "redemption"
    refund = "refund"
    correction = "correction"


class PointEntry(SQLModel, table=True):
    """The append-only points ledger: one entry per member, reason and reference, enforced here."""

    __table_args__ = (UniqueConstraint("member_id", "reason", "ref_type", "ref_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    amount: int
    reason: str = Field(max_length=16)
    ref_type: str = Field(max_length=16)
    ref_id: int
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    note: str = Field(default="", max_length=200)
    private: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    """Seen by the member alone: an anonymous tip's reward. It counts in what the member can spend and in no board,
    sheet, cap or figure anyone else reads."""
    created_at: datetime = _time_column(index=True)


class OutboxState(str, Enum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    parked = "parked"
    dropped = "dropped"
    """A best-effort message the platform refused (a private chat the person never opened): not tried again."""


class Priority(IntEnum):
    """Lower goes first."""

    emergency = 0
    personal = 1
    task_card = 2
    reminder = 3
    digest = 4


class OutboxMessage(SQLModel, table=True):
    """A message the bot sends on its own, kept until it has been sent (or parked after failing for good)."""

    __table_args__ = (Index("ix_outbox_due", "state", "priority", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_key: str = Field(max_length=80, index=True, description="group:ID or user:ID, for limits and merging")
    target: dict[str, Any] = Field(sa_column=Column(JSONValue, nullable=False), description="an alconna Target, dumped")
    text: str = Field(sa_type=Text)
    buttons: list[list[str]] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    mentions: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    priority: int = Field(default=Priority.personal.value)
    not_before: datetime = _time_column()
    state: str = Field(default=OutboxState.pending.value, max_length=16)
    attempts: int = 0
    best_effort: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    """Worth one try: a refusal drops it instead of retrying and parking it (a private prompt to someone who may
    never have opened a private chat with the bot)."""
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    dedupe_key: str | None = Field(default=None, max_length=160, unique=True)
    image: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSONValueOrNull, nullable=True),
        description="a picture to draw when sending",
    )
    created_at: datetime = _time_column()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReminderState(str, Enum):
    pending = "pending"
    sent = "sent"
    dropped = "dropped"
    """Found too late to be of use (after downtime): not sent, on purpose, and counted."""
    cancelled = "cancelled"


class TaskReminder(SQLModel, table=True):
    """A reminder due for a task, derived from the task and the configured reminder times."""

    __table_args__ = (UniqueConstraint("task_id", "kind"), Index("ix_reminder_due", "state", "due_at"))

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    kind: str = Field(max_length=32, description="before:<minutes>, checkin, or deadline")
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=ReminderState.pending.value, max_length=16)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TipStatus(str, Enum):
    new = "new"
    reviewing = "reviewing"
    verified = "verified"
    rejected = "rejected"
    duplicate = "duplicate"


class RewardState(str, Enum):
    due = "due"
    """Verified and anonymous: waits for the next payout that pays at least k reporters of the unit at once."""
    paid = "paid"


class AnonymousPayout(SQLModel, table=True):
    """Anonymous tips' rewards paid together, in one unit, at the weekly payout time, to at least
    `[tips] anonymous_min_reporters` reporters: no payout points at one person. At most one per unit and week."""

    __table_args__ = (UniqueConstraint("unit_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    period: str = Field(max_length=12, description="the week it was paid in, as in MemberTotal")
    reporters: int
    points: int
    paid_at: datetime = _time_column()


class Tip(SQLModel, table=True):
    """A tip (线索) a member reports in private. For an anonymous tip no officer-facing view names the reporter."""

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="member.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    category: str = Field(max_length=16)
    anonymous: bool = True
    latitude: float | None = None
    longitude: float | None = None
    location_text: str | None = Field(default=None, max_length=200)
    status: str = Field(default=TipStatus.new.value, max_length=16, index=True)
    claimed_by: int | None = Field(default=None, foreign_key="member.id")
    duplicate_of: int | None = Field(default=None, foreign_key="tip.id")
    points: int | None = None
    reward_state: str | None = Field(default=None, max_length=8, index=True)
    """For an anonymous tip's reward: due until a payout pays it (RewardState); None for a named tip."""
    payout_id: int | None = Field(default=None, foreign_key="anonymouspayout.id")
    created_at: datetime = _time_column(index=True)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TipEntry(SQLModel, table=True):
    """A tip's history: the report, additions, officers' questions, status changes."""

    id: int | None = Field(default=None, primary_key=True)
    tip_id: int = Field(foreign_key="tip.id", index=True)
    kind: str = Field(max_length=16, description="report, addition, question, status")
    text: str = Field(default="", sa_type=Text)
    officer_id: int | None = Field(default=None, foreign_key="member.id")
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    """Files under the data directory (relative paths)."""
    at: datetime = _time_column()


class PoliceGroup(SQLModel, table=True):
    """A group chat of a unit's officers, where new tips are announced (number, category and unit only)."""

    __table_args__ = (UniqueConstraint("platform", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    platform: str = Field(max_length=16)
    group_id: str = Field(max_length=64)
    set_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class Alert(SQLModel, table=True):
    """An emergency call-out to every group of a unit and its sub-units."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    officer_id: int | None = Field(default=None, foreign_key="member.id")
    text: str = Field(sa_type=Text)
    need: int = 1
    required_tags: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    status: str = Field(default="open", max_length=16, index=True)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: str | None = Field(default=None, max_length=500)
    points: int = 0
    created_at: datetime = _time_column(index=True)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AlertResponse(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("alert_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    eta_minutes: int | None = None
    responded_at: datetime = _time_column()


class MemberTotal(SQLModel, table=True):
    """A member's points, service minutes and verified named tips in one period ("all", "y2026", "m2026-11",
    "w2026-48"), changed in the same transaction as the ledger entry, check-out or tip that it counts: balances
    and leaderboards read these rows, never the whole ledger."""

    __table_args__ = (
        UniqueConstraint("period", "member_id"),
        Index("ix_membertotal_period_points", "period", "points"),
        Index("ix_membertotal_period_minutes", "period", "minutes"),
        Index("ix_membertotal_period_tips", "period", "tips"),
    )
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    period: str = Field(max_length=12)
    points: int = 0
    """Points earned in the period, as everyone may see them: without spending, refunds and anonymous rewards."""
    minutes: int = 0
    tips: int = 0
    spendable: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """On the all-time row only: what the member can spend (every ledger entry, their anonymous rewards included).
    Only the member sees it."""
    points_at: datetime = _time_column()
    """When the points last changed: of two members with the same points, the one who got there first ranks first."""


class Reward(SQLModel, table=True):
    """Something in the rewards shop. Without a unit it is offered everywhere (rewards from the configuration)."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    name: str = Field(max_length=40)
    cost: int
    stock: int | None = Field(default=None, description="None: no limit")
    per_member_limit: int | None = None
    active: bool = True
    from_config: bool = False
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class RedemptionStatus(str, Enum):
    pending = "pending"
    fulfilled = "fulfilled"
    cancelled = "cancelled"


class Redemption(SQLModel, table=True):
    """Points spent on a reward: pending until an officer hands it over; cancelling refunds the points."""

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = Field(foreign_key="reward.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    cost: int
    status: str = Field(default=RedemptionStatus.pending.value, max_length=16, index=True)
    created_at: datetime = _time_column()
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    reason: str | None = Field(default=None, max_length=200)


class Broadcast(SQLModel, table=True):
    """A periodic post (the weekly leaderboard, the monthly honours) made once per period, however many
    processes run: the unique key is the guard. It is made a batch of teams at a time, in team order;
    `through_team` is the last team done, so a post cut short goes on from there."""

    __table_args__ = (UniqueConstraint("kind", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    period: str = Field(max_length=12)
    messages: int = 0
    through_team: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _time_column()


class Course(SQLModel, table=True):
    """A training course a unit defines (/课程): what completing it grants and for how long, and its online part
    (material and a quiz taken in private with /学习). Retired courses stay for the qualifications they granted."""

    __table_args__ = (UniqueConstraint("unit_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=30)
    description: str = Field(default="", sa_type=Text)
    validity_months: int | None = None
    """How long a completion counts; None: for good (长期)."""
    grants: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    """The qualifications (tags a task's 需要: names) a completion grants."""
    pass_mark: int = 80
    """The quiz's pass mark, out of 100."""
    online: bool = False
    """Passing the quiz completes the course by itself; otherwise a member completes it by attending a session
    (and passing the quiz first, when the course has one)."""
    quiz: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    """The questions (storage.services.training.quiz): text, kind, options, the right options' indexes."""
    material_text: str = Field(default="", sa_type=Text)
    material_link: str = Field(default="", max_length=500)
    material_photos: list[str] = Field(default_factory=list, sa_column=Column(JSONValue, nullable=False))
    """Pictures of the material, files under the data directory (relative paths), metadata stripped."""
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CompletionSource(str, Enum):
    session = "session"
    """Attended a training session of the course (a 培训 task), with the quiz passed where it has one."""
    quiz = "quiz"
    """Passed the quiz of an online course."""
    manual = "manual"
    """Marked by an officer (/结业), for someone without a phone."""


class CourseCompletion(SQLModel, table=True):
    """A member completed a course: once a day at most (a second close, a double /结业 count once)."""

    __table_args__ = (UniqueConstraint("course_id", "member_id", "completed_on"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    completed_on: date
    valid_until: date | None = None
    """The last day it counts; None: for good."""
    source: str = Field(max_length=8)
    task_id: int | None = Field(default=None, foreign_key="task.id")
    recorded_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _time_column()


class Qualification(SQLModel, table=True):
    """A qualification a completion granted (资质): the tag, valid through valid_until (None: for good). A task's
    需要: for the tag accepts a member holding one valid on the task's day, whatever [members] required_tags_from."""

    __table_args__ = (
        UniqueConstraint("completion_id", "tag"),
        Index("ix_qualification_member_tag", "member_id", "tag"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    tag: str = Field(max_length=20)
    course_id: int = Field(foreign_key="course.id", index=True)
    completion_id: int = Field(foreign_key="coursecompletion.id")
    valid_until: date | None = Field(default=None, index=True)


class QuizAttempt(SQLModel, table=True):
    """A finished quiz (/学习): recorded only once the last question is answered, in one transaction."""

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    score: int
    """Out of 100."""
    correct: int
    questions: int
    passed: bool
    created_at: datetime = _time_column(index=True)
