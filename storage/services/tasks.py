"""Tasks: posting, the sign-up list with its waiting list, check-in and check-out, closing and attendance points."""

from __future__ import annotations

import asyncio
import math
import re
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import cast

from sqlalchemy import Connection, Integer, Table, and_, bindparam, case, exists, func, insert, or_, update
from sqlalchemy.sql import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import run_transaction, session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import (
    GroupBinding,
    LedgerReason,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    Priority,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    TaskTeam,
    Team,
    TeamMembership,
    Unit,
    UTCDateTime,
    utcnow,
)
from storage.services.ledger import record_points
from storage.services.organisation import audit, find_unit, in_unit_or_below, team_of_group
from storage.services.outbox import Destination, enqueue_many
from storage.services.people import Caller, Rights, member_of, parse_tags, rights_of
from storage.services.reminders import cancel_reminders, schedule_reminders
from storage.services.retry import retry_on_conflict
from storage.services.totals import add_to_totals
from storage.services.when import describe, looks_like_time, parse_duration, parse_span
from storage.settings import settings

KINDS = ("巡逻", "宣传", "护学岗", "安保", "调解", "隐患排查", "培训", "应急")
MAX_CAPACITY = 1000
MAX_POINTS = 1000
DEFAULT_RADIUS_M = 500
NOT_REGISTERED = "你还没有加入队伍：在队伍群里发送 /加入 姓名"
NO_SUCH_TASK = "没有你能看到的任务 {task_id}：发送 /任务 查看你的队伍的任务。"
"""Said alike whether the task does not exist or is not the caller's to see or act on: task numbers are
sequential, and a stranger trying them learns nothing."""
NOT_SIGNED_UP = "你没有报名任务 {task_id}，不能{action}。发送 /任务 查看你的队伍的任务。"
NOTHING_TO_CANCEL = "你没有报名任务 {task_id}，不用取消。"
NEWTASK_EXAMPLE = "/发布任务 巡逻 明天19:00 2小时 闫千户片区 10人 5分"

COUNT = re.compile(r"^(\d+)\s*(人|名)$")
POINTS = re.compile(r"^(\d+)\s*(分|积分)$")
RADIUS = re.compile(r"^(?:半径[:：]?)?(\d+)\s*(米|m)$")
KEYED = re.compile(r"^(需要|特长|截止|报名截止|队伍|单位|坐标|半径)[:：](.+)$")
COORDINATES = re.compile(r"^(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)$")
REPEAT_WORDS = ("每周", "每周重复", "每周一次")


@dataclass
class TaskSpec:
    """A task as an officer wrote it, checked but not yet saved."""

    kind: str = ""
    place: str = ""
    start: datetime | None = None
    end: datetime | None = None
    capacity: int | None = None
    points: int = 0
    required_tags: list[str] = field(default_factory=list)
    deadline: datetime | None = None
    team_names: list[str] = field(default_factory=list)
    unit_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None
    repeat_weekly: bool = False

    def missing(self) -> list[str]:
        wanted = {"类型": self.kind, "时间": self.start, "地点": self.place, "人数": self.capacity}
        missing = [name for name, value in wanted.items() if not value]
        if self.start is not None and self.end is None:
            missing.append("时长")
        return missing


def parse_task_words(words: list[str], now: datetime | None = None) -> TaskSpec:
    """Read /发布任务's words in any order: kind first, then time, duration, place, 10人, 5分, 需要:…, 截止:…"""
    now = now or utcnow()
    spec = TaskSpec()
    words = [word for word in (w.strip() for w in words) if word]
    if not words:
        raise DomainError(f"请写任务内容，例如 {NEWTASK_EXAMPLE}")
    spec.kind = words[0][:20]
    if looks_like_time(spec.kind) or COUNT.match(spec.kind):
        raise DomainError(f"第一个词写任务类型（{'、'.join(KINDS)}），例如 {NEWTASK_EXAMPLE}")
    place: list[str] = []
    time_words: list[str] = []
    duration: timedelta | None = None
    rest = words[1:]
    index = 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if keyed := KEYED.match(word):
            _apply_keyed(spec, keyed.group(1), keyed.group(2), now)
        elif match := COUNT.match(word):
            spec.capacity = _bounded(match.group(1), 1, MAX_CAPACITY, "人数")
        elif match := POINTS.match(word):
            spec.points = _bounded(match.group(1), 0, MAX_POINTS, "积分")
        elif match := RADIUS.match(word):
            spec.radius_m = _bounded(match.group(1), 10, 100_000, "半径")
        elif word in REPEAT_WORDS:
            spec.repeat_weekly = True
        elif (length := parse_duration(word)) is not None:
            if not time_words:
                raise DomainError(f"先写开始时间，再写时长，例如 {NEWTASK_EXAMPLE}")
            duration = length
        elif looks_like_time(word) and not place:
            time_words.append(word)
        else:
            place.append(word)
    if time_words:
        span = parse_span(" ".join(time_words), now)
        spec.start = span.start
        if span.end is not None:
            spec.end = span.end
    if spec.start is not None and duration is not None:
        spec.end = spec.start + duration
    spec.place = " ".join(place)[:100]
    if spec.deadline is not None and spec.start is not None and spec.deadline > spec.start:
        raise DomainError("报名截止时间不能晚于任务开始时间。")
    if spec.radius_m is not None and spec.latitude is None:
        raise DomainError("半径要和坐标一起写，例如 坐标:36.6512,117.1201 半径:300米")
    if spec.latitude is not None and spec.radius_m is None:
        spec.radius_m = DEFAULT_RADIUS_M
    return spec


def _bounded(digits: str, low: int, high: int, name: str) -> int:
    """The number written with these digits, refused unless it lies in [low, high]."""
    value = int(digits) if len(digits) <= 9 else None  # int() refuses over 4,300 digits
    if value is None or not low <= value <= high:
        raise DomainError(f"{name}要在 {low} 到 {high} 之间。")
    return value


def _apply_keyed(spec: TaskSpec, key: str, value: str, now: datetime) -> None:
    value = value.strip()
    if key in ("需要", "特长"):
        spec.required_tags = parse_tags(value)
    elif key in ("截止", "报名截止"):
        spec.deadline = parse_span(value, now).start
    elif key == "队伍":
        spec.team_names = [name for name in re.split(r"[,，、]", value) if name.strip()]
    elif key == "单位":
        spec.unit_text = value
    elif key == "坐标":
        match = COORDINATES.match(value)
        if not match:
            raise DomainError("坐标写成 坐标:纬度,经度，例如 坐标:36.6512,117.1201")
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise DomainError("坐标超出范围：纬度在 -90 到 90，经度在 -180 到 180 之间。")
        spec.latitude, spec.longitude = latitude, longitude
    elif key == "半径":
        match = RADIUS.match(value) or RADIUS.match(value + "米")
        if not match:
            raise DomainError("半径写成 半径:300米")
        spec.radius_m = _bounded(match.group(1), 10, 100_000, "半径")


def check_spec(spec: TaskSpec) -> None:
    missing = spec.missing()
    if missing:
        raise DomainError(f"还缺{'、'.join(missing)}：例如 {NEWTASK_EXAMPLE}")
    assert spec.start is not None
    assert spec.end is not None
    if spec.end <= spec.start:
        raise DomainError("结束时间要晚于开始时间。")
    if spec.end - spec.start > timedelta(hours=24):
        raise DomainError("一个任务最长24小时：更长的请分几次发布。")


@dataclass(frozen=True)
class GroupAddress:
    platform: str
    group_id: str


@dataclass(frozen=True)
class MemberAddress:
    member_id: int
    name: str
    accounts: tuple[tuple[str, str], ...]


@dataclass
class TaskView:
    task: Task
    team_names: list[str]
    signed: int
    waiting: int

    @property
    def places_left(self) -> int:
        return max(self.task.capacity - self.signed, 0)


@dataclass
class PostedTask:
    view: TaskView
    groups: list[GroupAddress]
    announced: int = 0
    """How many other groups the card was queued for."""


def _except_here(groups: list[GroupAddress], caller: Caller | None, group_id: str | None) -> list[Destination]:
    """The groups to post to: all of them but the one the command came from (which gets the reply)."""
    here = (caller.platform, group_id) if caller is not None and group_id is not None else None
    return [Destination(g.platform, g.group_id) for g in groups if (g.platform, g.group_id) != here]


def signup_buttons(task_id: int) -> list[tuple[str, str]]:
    """Buttons under a task card (on platforms that have them): they fill in the command."""
    return [("报名", f"/signup {task_id}"), ("取消报名", f"/cancel {task_id}")]


def _private(member: MemberAddress) -> list[Destination]:
    return [Destination(platform, user_id, private=True) for platform, user_id in member.accounts]


_task_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def task_lock(task_id: int) -> asyncio.Lock:
    """Sign-ups for one task are taken one at a time, in the order they arrived (asyncio's locks are FIFO).

    The database lock (FOR UPDATE on PostgreSQL, the single writer on SQLite) keeps capacity exact across
    processes; this one keeps arrival order within a process and spares SQLite retries.
    """
    lock = _task_locks.get(task_id)
    if lock is None:
        lock = asyncio.Lock()
        _task_locks[task_id] = lock
    return lock


async def _teams_for_target(db: AsyncSession, caller: Caller, rights: Rights, spec: TaskSpec, group_id: str | None):
    if spec.unit_text:
        unit = await find_unit(db, spec.unit_text)
        if unit is None:
            raise DomainError(f"没有单位“{quoted(spec.unit_text)}”：请写单位全名，例如 单位:历下分局")
        if not rights.covers_unit(unit):
            raise NotAllowed(f"你不是“{unit.path}”的民警，不能给它发任务。")
        statement = (
            select(Team)
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(in_unit_or_below(unit))
            .order_by(col(Team.id))
        )
        teams = list((await db.exec(statement)).all())
        if not teams:
            raise DomainError(f"“{unit.path}”下面还没有队伍。")
        return unit, teams
    if spec.team_names:
        teams = []
        owner: Unit | None = None
        for name in spec.team_names:
            candidates = (
                await db.exec(select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id)).where(Team.name == name))
            ).all()
            mine = [(team, unit) for team, unit in candidates if rights.covers_unit(unit)]
            if not mine:
                raise DomainError(f"没有你能发任务的队伍“{quoted(name)}”：请检查队名。")
            if len(mine) > 1:
                raise DomainError(f"有几个队伍叫“{quoted(name)}”：请改用 单位:单位名。")
            teams.append(mine[0][0])
            owner = owner or mine[0][1]
        assert owner is not None
        return owner, teams
    if group_id is None:
        raise DomainError("私聊发布时请写明对象：队伍:队名 或 单位:单位名。")
    located = await team_of_group(db, caller.platform, group_id)
    if located is None:
        raise DomainError("本群还没有绑定队伍：先 /绑定队伍 队伍名，或写明 队伍:队名。")
    if not rights.covers_unit(located.unit):
        raise NotAllowed(f"“{located.team.name}”不归你的单位管，不能发任务。")
    return located.unit, [located.team]


async def _groups_of(db: AsyncSession, team_ids: list[int]) -> list[GroupAddress]:
    if not team_ids:
        return []
    bindings = (
        await db.exec(
            select(GroupBinding).where(col(GroupBinding.team_id).in_(team_ids)).order_by(col(GroupBinding.id))
        )
    ).all()
    return [GroupAddress(binding.platform, binding.group_id) for binding in bindings]


async def _view(db: AsyncSession, task: Task) -> TaskView:
    teams = (
        await db.exec(
            select(Team.name).join(TaskTeam, col(TaskTeam.team_id) == col(Team.id)).where(TaskTeam.task_id == task.id)
        )
    ).all()
    statuses = (await db.exec(select(Signup.status).where(Signup.task_id == task.id))).all()
    signed = sum(
        1 for status in statuses if status in (SignupStatus.signed, SignupStatus.attended, SignupStatus.no_show)
    )
    waiting = sum(1 for status in statuses if status == SignupStatus.waiting)
    return TaskView(task=task, team_names=list(teams), signed=signed, waiting=waiting)


async def _save_task(db: AsyncSession, spec: TaskSpec, unit: Unit, teams: list[Team], author: int | None) -> Task:
    assert spec.start is not None
    assert spec.end is not None
    assert spec.capacity is not None
    task = Task(
        kind=spec.kind,
        place=spec.place,
        start_at=spec.start,
        end_at=spec.end,
        signup_deadline=spec.deadline or spec.start,
        capacity=spec.capacity,
        points=spec.points,
        required_tags=spec.required_tags,
        latitude=spec.latitude,
        longitude=spec.longitude,
        radius_m=spec.radius_m,
        repeat_weekly=spec.repeat_weekly,
        unit_id=unit.id,
        created_by=author,
    )
    db.add(task)
    await db.flush()
    for team in teams:
        db.add(TaskTeam(task_id=task.id, team_id=team.id))
    await db.flush()
    return task


@retry_on_conflict
async def post_task(caller: Caller, group_id: str | None, spec: TaskSpec) -> PostedTask:
    """/发布任务: an officer posts a task to this group's team, named teams, or a whole unit and its sub-units."""
    check_spec(spec)
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("只有民警可以发布任务。")
        unit, teams = await _teams_for_target(db, caller, rights, spec, group_id)
        author = rights.member.id if rights.member else None
        task = await _save_task(db, spec, unit, teams, author)
        if task.repeat_weekly:
            task.series_id = task.id
            db.add(task)
        await schedule_reminders(db, task)
        await audit(db, caller, rights.member, "post_task", f"task:{task.id}", kind=task.kind, teams=len(teams))
        view = await _view(db, task)
        groups = await _groups_of(db, [team.id for team in teams])
        elsewhere = _except_here(groups, caller, group_id)
        await enqueue_many(db, elsewhere, task_card(view), priority=Priority.task_card, buttons=signup_buttons(task.id))
        return PostedTask(view=view, groups=groups, announced=len(elsewhere))


def task_card(view: TaskView) -> str:
    """The card posted to the task's groups."""
    task = view.task
    lines = [
        f"【任务 {task.id}】{task.kind}",
        f"时间：{describe(task.start_at, task.end_at)}",
        f"地点：{task.place}",
        f"名额：{task.capacity}人，已报 {min(view.signed, task.capacity)}，还剩 {view.places_left}"
        + (f"，候补 {view.waiting}" if view.waiting else ""),
    ]
    extras = []
    if task.points:
        extras.append(f"积分：{task.points}分")
    if task.required_tags:
        extras.append(f"需要：{'、'.join(task.required_tags)}")
    if extras:
        lines.append("　".join(extras))
    if task.signup_deadline < task.start_at:
        lines.append(f"报名截止：{describe(task.signup_deadline)}")
    if task.repeat_weekly:
        lines.append("每周重复")
    lines.append(f"报名：/报名 {task.id}　取消：/取消报名 {task.id}")
    return "\n".join(lines)


_TASK_BY_ID = select(Task).where(col(Task.id) == bindparam("task_id"))
_TASK_BY_ID_LOCKED = _TASK_BY_ID.with_for_update()
"""Built once: /任务 N, /取消任务, /取消报名 and closing read a task by number (locked: until the transaction ends)."""


async def _task_or_refuse(db: AsyncSession, task_id: int, *, lock: bool = False) -> Task:
    statement = _TASK_BY_ID_LOCKED if lock else _TASK_BY_ID
    task = (await db.exec(statement, params={"task_id": task_id})).first()
    if task is None:
        raise DomainError(NO_SUCH_TASK.format(task_id=task_id))
    return task


async def _registered_member(db: AsyncSession, caller: Caller) -> Member:
    member = await member_of(db, caller.platform, caller.user_id)
    if member is None:
        raise DomainError(NOT_REGISTERED)
    return member


async def _task_team_ids(db: AsyncSession, task_id: int) -> list[int]:
    return list((await db.exec(select(TaskTeam.team_id).where(TaskTeam.task_id == task_id))).all())


async def _member_team_ids(db: AsyncSession, member_id: int) -> list[int]:
    statement = select(TeamMembership.team_id).where(
        TeamMembership.member_id == member_id, TeamMembership.status == MembershipStatus.active
    )
    return list((await db.exec(statement)).all())


async def list_open_tasks(caller: Caller, group_id: str | None, now: datetime | None = None) -> list[TaskView]:
    """/任务: open tasks of this group's team, or in private of the caller's teams."""
    now = now or utcnow()
    async with session() as db:
        if group_id is not None:
            located = await team_of_group(db, caller.platform, group_id)
            if located is None:
                raise DomainError("本群还没有绑定队伍。")
            team_ids = [located.team.id]
        else:
            member = await _registered_member(db, caller)
            team_ids = await _member_team_ids(db, member.id)
        if not team_ids:
            return []
        for_the_teams = select(TaskTeam.task_id).where(col(TaskTeam.team_id).in_(team_ids))
        statement = (
            select(Task)
            .where(col(Task.id).in_(for_the_teams), Task.status == TaskStatus.open, col(Task.end_at) > now)
            .order_by(col(Task.start_at), col(Task.id))
            .limit(20)
        )
        tasks = (await db.exec(statement)).all()
        return [await _view(db, task) for task in tasks]


@dataclass
class RosterLine:
    name: str
    status: str
    checked_in: bool
    checked_out: bool
    outside_radius: bool
    minutes: int | None


@dataclass
class TaskDetail:
    view: TaskView
    signed: list[RosterLine]
    waiting: list[RosterLine]
    absent: list[RosterLine]


async def may_see_roster(db: AsyncSession, rights: Rights, task: Task) -> bool:
    """A task's roster is for the members of its teams, their leaders, and the officers covering the task or one of
    its teams."""
    if rights.is_admin:
        return True
    teams = (
        await db.exec(
            select(Team, Unit)
            .join(TaskTeam, col(TaskTeam.team_id) == col(Team.id))
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(TaskTeam.task_id == task.id)
        )
    ).all()
    owner = await db.get(Unit, task.unit_id)
    if rights.officer_units and any(rights.covers_unit(unit) for unit in [owner, *(u for _, u in teams)] if unit):
        return True
    team_ids = {team.id for team, _ in teams}
    if team_ids & rights.leader_team_ids:
        return True
    if rights.member is None:
        return False
    return bool(team_ids & set(await _member_team_ids(db, rights.member.id)))


async def task_detail(caller: Caller, task_id: int) -> TaskDetail:
    """/任务 编号: the task and its roster (names only, never a phone number), for those who may see it."""
    async with session() as db:
        task = (await db.exec(_TASK_BY_ID, params={"task_id": task_id})).first()
        if task is None or not await may_see_roster(db, await rights_of(db, caller), task):
            raise NotAllowed(NO_SUCH_TASK.format(task_id=task_id))
        rows = (
            await db.exec(
                select(Signup, Member)
                .join(Member, col(Member.id) == col(Signup.member_id))
                .where(Signup.task_id == task_id, Signup.status != SignupStatus.cancelled)
                .order_by(col(Signup.arrived_at), col(Signup.id))
            )
        ).all()
        lines = {
            status: [
                RosterLine(
                    name=member.name,
                    status=signup.status,
                    checked_in=signup.checked_in_at is not None,
                    checked_out=signup.checked_out_at is not None,
                    outside_radius=signup.outside_radius,
                    minutes=signup.minutes_served,
                )
                for signup, member in rows
                if signup.status == status
            ]
            for status in SignupStatus
        }
        return TaskDetail(
            view=await _view(db, task),
            signed=lines[SignupStatus.signed] + lines[SignupStatus.attended],
            waiting=lines[SignupStatus.waiting],
            absent=lines[SignupStatus.no_show],
        )


async def _addresses(db: AsyncSession, member_ids: list[int]) -> list[MemberAddress]:
    if not member_ids:
        return []
    members = {m.id: m for m in (await db.exec(select(Member).where(col(Member.id).in_(member_ids)))).all()}
    identities = (await db.exec(select(PlatformIdentity).where(col(PlatformIdentity.member_id).in_(member_ids)))).all()
    accounts: dict[int, list[tuple[str, str]]] = {}
    for identity in identities:
        accounts.setdefault(identity.member_id, []).append((identity.platform, identity.user_id))
    return [
        MemberAddress(member_id=mid, name=members[mid].name, accounts=tuple(accounts.get(mid, ())))
        for mid in member_ids
        if mid in members
    ]


def _officer_check(rights: Rights, unit: Unit | None, task_id: int) -> None:
    """An officer acts on the tasks of their units; for any other task the answer is the one for no task at all."""
    if unit is None or not rights.covers_unit(unit):
        raise NotAllowed(NO_SUCH_TASK.format(task_id=task_id))


@dataclass
class CancelledTask:
    view: TaskView
    changed: bool
    affected: list[MemberAddress]
    groups: list[GroupAddress]


@retry_on_conflict
async def cancel_task(caller: Caller, task_id: int, reason: str | None, group_id: str | None = None) -> CancelledTask:
    """/取消任务: everyone signed up or waiting is told."""
    reason = (reason or "").strip()[:200] or None
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("只有民警可以取消任务。")
        task = await _task_or_refuse(db, task_id, lock=True)
        _officer_check(rights, await db.get(Unit, task.unit_id), task_id)
        if task.status == TaskStatus.closed:
            raise DomainError(f"任务 {task_id} 已经结束，不能取消。")
        changed = task.status != TaskStatus.cancelled
        affected_ids: list[int] = []
        if changed:
            task.status = TaskStatus.cancelled
            task.cancel_reason = reason
            db.add(task)
            await cancel_reminders(db, task.id)
            signups = (
                await db.exec(
                    select(Signup).where(
                        Signup.task_id == task_id,
                        col(Signup.status).in_([SignupStatus.signed, SignupStatus.waiting]),
                    )
                )
            ).all()
            affected_ids = [signup.member_id for signup in signups]
            await audit(db, caller, rights.member, "cancel_task", f"task:{task_id}", reason=reason)
        team_ids = await _task_team_ids(db, task_id)
        result = CancelledTask(
            view=await _view(db, task),
            changed=changed,
            affected=await _addresses(db, affected_ids),
            groups=await _groups_of(db, team_ids),
        )
        if changed:
            notice = cancellation_notice(task)
            for member in result.affected:
                await enqueue_many(db, _private(member), f"{member.name}，你报名的{notice}")
            await enqueue_many(db, _except_here(result.groups, caller, group_id), notice, priority=Priority.task_card)
        return result


def cancellation_notice(task: Task) -> str:
    because = f"，原因：{task.cancel_reason}" if task.cancel_reason else ""
    return f"任务 {task.id}（{task.kind}，{describe(task.start_at, task.end_at)}）已取消{because}。"


@dataclass(frozen=True)
class TaskHeading:
    """What a reply about a task names: its number, kind, place and time."""

    id: int
    kind: str
    place: str
    start_at: datetime
    end_at: datetime


@dataclass
class SignupResult:
    task: TaskHeading
    status: str
    changed: bool
    position: int | None = None
    """Place on the waiting list (1 = next to move up)."""
    places_left: int = 0


async def signup_for_task(caller: Caller, task_id: int, now: datetime | None = None) -> SignupResult:
    """/报名: an active member of a target team signs up; past capacity they wait, in order of arrival."""
    async with task_lock(task_id):
        return await _signup(caller, task_id, now or utcnow())


@retry_on_conflict
async def _signup(caller: Caller, task_id: int, now: datetime) -> SignupResult:
    return await run_transaction(_signup_in_transaction, caller, task_id, now)


# /报名 is the busiest write at the evening peak. Its statements are SQLAlchemy Core, built once and run on one
# connection in one greenlet (storage.db.run_transaction): through the ORM each of them had cost several times the
# CPU the database took to run it (bench/command_load.py). The table objects behind the models:
_task = cast(Table, Task.__table__)
_signup_table = cast(Table, Signup.__table__)
_member = cast(Table, Member.__table__)
_identity = cast(Table, PlatformIdentity.__table__)
_task_team = cast(Table, TaskTeam.__table__)
_membership = cast(Table, TeamMembership.__table__)


def _one_of(column: ColumnElement, *values: str) -> ColumnElement[bool]:
    # not IN (...): a list of values is rendered into the statement again at every execution
    return or_(*(column == value for value in values))


_own_signup = _signup_table.alias("own_signup")
_other_signup = _signup_table.alias("other_signup")
_other_task = _task.alias("other_task")
_TASK_AND_MEMBER_SIGNING_UP = (
    select(
        _task.c.id,
        _task.c.kind,
        _task.c.place,
        _task.c.start_at,
        _task.c.end_at,
        _task.c.signup_deadline,
        _task.c.capacity,
        _task.c.required_tags,
        _task.c.status,
        _member.c.id.label("member_id"),
        _member.c.status.label("member_status"),
        _member.c.tags.label("member_tags"),
        exists()
        .where(
            _task_team.c.task_id == _task.c.id,
            _membership.c.team_id == _task_team.c.team_id,
            _membership.c.member_id == _member.c.id,
            _membership.c.status == MembershipStatus.active.value,
        )
        .label("in_a_team"),
        _own_signup.c.id.label("existing_id"),
        _own_signup.c.status.label("existing_status"),
        _own_signup.c.arrived_at.label("existing_arrived_at"),
        select(_other_signup.c.task_id)
        .join(_other_task, _other_task.c.id == _other_signup.c.task_id)
        .where(
            _other_signup.c.member_id == _member.c.id,
            _other_signup.c.task_id != _task.c.id,
            _one_of(_other_signup.c.status, SignupStatus.signed.value, SignupStatus.waiting.value),
            _other_task.c.status == TaskStatus.open.value,
            _other_task.c.start_at < _task.c.end_at,
            _other_task.c.end_at > _task.c.start_at,
        )
        .order_by(_other_task.c.start_at)
        .limit(1)
        .scalar_subquery()
        .label("clash_id"),
    )
    .select_from(_task)
    .outerjoin(
        _identity,
        and_(_identity.c.platform == bindparam("platform"), _identity.c.user_id == bindparam("user_id")),
    )
    .outerjoin(_member, _member.c.id == _identity.c.member_id)
    .outerjoin(_own_signup, and_(_own_signup.c.task_id == _task.c.id, _own_signup.c.member_id == _member.c.id))
    .where(_task.c.id == bindparam("task_id"))
    .with_for_update(of=_task)
)
"""The task, locked until the transaction ends, with everything /报名 checks about the caller in the same row: the
member behind the account (none when the account is unknown), whether they are active in one of the task's teams,
their own sign-up for it if they ever had one, and the first of their open sign-ups whose time overlaps it.

Places are not counted here: on PostgreSQL the row may have waited for the lock while a sign-up from another
process committed, which this statement would not see. The statement that writes the sign-up counts them."""

_SIGNED_NOW = (
    select(func.count())
    .select_from(_other_signup)
    .where(
        _other_signup.c.task_id == bindparam("for_task"),
        _one_of(_other_signup.c.status, SignupStatus.signed.value, SignupStatus.attended.value),
    )
    .scalar_subquery()
)
_PLACE_OR_WAIT = case(
    (_SIGNED_NOW < bindparam("capacity"), SignupStatus.signed.value), else_=SignupStatus.waiting.value
)
"""Signed while the task has places left, counted by the statement that writes the sign-up, else waiting."""

_OTHERS_SIGNED = (
    select(func.count())
    .select_from(_other_signup)
    .where(
        _other_signup.c.task_id == bindparam("for_task"),
        _other_signup.c.member_id != bindparam("new_member"),
        _one_of(_other_signup.c.status, SignupStatus.signed.value, SignupStatus.attended.value),
    )
    .scalar_subquery()
)
"""Returned with the sign-up written: how many others hold a place, for the places left. (The others, because
SQLite's RETURNING sees the row written and PostgreSQL's does not.)"""

_NEW_SIGNUP = (
    insert(_signup_table)
    .from_select(
        ["task_id", "member_id", "status", "arrived_at"],
        select(
            bindparam("for_task", type_=Integer),
            bindparam("new_member", type_=Integer),
            _PLACE_OR_WAIT,
            bindparam("arrived", type_=UTCDateTime),
        ),
    )
    .returning(_signup_table.c.id, _signup_table.c.status, _OTHERS_SIGNED)
)
_SIGNUP_AGAIN = (
    update(_signup_table)
    .where(_signup_table.c.id == bindparam("signup_id"))
    .values(status=_PLACE_OR_WAIT, arrived_at=bindparam("arrived", type_=UTCDateTime))
    .returning(_signup_table.c.id, _signup_table.c.status, _OTHERS_SIGNED)
)
"""A sign-up cancelled before comes back at the end of the line, like a new one."""

_AHEAD_IN_LINE = (
    select(func.count())
    .select_from(_signup_table)
    .where(
        _signup_table.c.task_id == bindparam("task_id"),
        _signup_table.c.status == SignupStatus.waiting.value,
        or_(
            _signup_table.c.arrived_at < bindparam("arrived_at", type_=UTCDateTime),
            and_(
                _signup_table.c.arrived_at == bindparam("arrived_at", type_=UTCDateTime),
                _signup_table.c.id < bindparam("signup_id"),
            ),
        ),
    )
)
_TASK_HEADING = select(_task.c.id, _task.c.kind, _task.c.place, _task.c.start_at, _task.c.end_at).where(
    _task.c.id == bindparam("task_id")
)


def _signup_in_transaction(connection: Connection, caller: Caller, task_id: int, now: datetime) -> SignupResult:
    found = connection.execute(
        _TASK_AND_MEMBER_SIGNING_UP, {"task_id": task_id, "platform": caller.platform, "user_id": caller.user_id}
    ).first()
    if found is None or found.member_id is None:
        # someone not registered is told that first, whether the task exists or not
        if (
            found is None
            and connection.execute(_ACCOUNT, {"platform": caller.platform, "user_id": caller.user_id}).first()
        ):
            raise DomainError(NO_SUCH_TASK.format(task_id=task_id))
        raise DomainError(NOT_REGISTERED)
    task = TaskHeading(found.id, found.kind, found.place, found.start_at, found.end_at)
    if found.existing_status in (SignupStatus.signed, SignupStatus.waiting):
        position = None
        if found.existing_status == SignupStatus.waiting:
            position = _waiting_position(connection, task_id, found.existing_id, found.existing_arrived_at)
        return SignupResult(task=task, status=found.existing_status, changed=False, position=position)
    if not found.in_a_team:
        raise DomainError(NO_SUCH_TASK.format(task_id=task_id))  # not for the caller's teams: not theirs to see
    if found.status != TaskStatus.open:
        raise DomainError(f"任务 {task_id} 已{'取消' if found.status == TaskStatus.cancelled else '结束'}，不能报名。")
    if now > found.signup_deadline:
        raise DomainError(f"任务 {task_id} 报名已截止（{describe(found.signup_deadline)}）。")
    if found.member_status != MemberStatus.active:
        raise DomainError("你的队员资格还没有生效，审核通过后才能报名。")
    missing = [tag for tag in found.required_tags if tag not in found.member_tags]
    if missing:
        raise DomainError(f"任务 {task_id} 需要特长：{'、'.join(missing)}。你的特长里没有，不能报名。")
    if found.clash_id is not None:
        clash = connection.execute(_TASK_HEADING, {"task_id": found.clash_id}).one()
        raise DomainError(
            f"和你已报名的任务 {clash.id}（{clash.kind}，{describe(clash.start_at, clash.end_at)}）时间冲突。"
            f"要换的话先 /取消报名 {clash.id}"
        )
    placing = {"for_task": task_id, "new_member": found.member_id, "capacity": found.capacity, "arrived": now}
    if found.existing_id is None:
        written = connection.execute(_NEW_SIGNUP, placing).one()
    else:
        written = connection.execute(_SIGNUP_AGAIN, {**placing, "signup_id": found.existing_id}).one()
    signup_id, status, others_signed = written
    if status == SignupStatus.waiting:
        return SignupResult(
            task=task, status=status, changed=True, position=_waiting_position(connection, task_id, signup_id, now)
        )
    return SignupResult(task=task, status=status, changed=True, places_left=max(found.capacity - others_signed - 1, 0))


def _waiting_position(connection: Connection, task_id: int, signup_id: int, arrived_at: datetime) -> int:
    """Place on the waiting list: 1 + those waiting who came earlier (by id when they came at the same moment)."""
    params = {"task_id": task_id, "signup_id": signup_id, "arrived_at": arrived_at}
    return connection.execute(_AHEAD_IN_LINE, params).scalar_one() + 1


@dataclass
class CancelSignupResult:
    task: Task
    changed: bool
    was_waiting: bool
    promoted: MemberAddress | None = None
    groups: list[GroupAddress] = field(default_factory=list)


async def cancel_signup(caller: Caller, task_id: int, now: datetime | None = None) -> CancelSignupResult:
    """/取消报名: the place goes to the first one waiting, who is told."""
    async with task_lock(task_id):
        return await _cancel_signup(caller, task_id, now)


@retry_on_conflict
async def _cancel_signup(caller: Caller, task_id: int, now: datetime | None) -> CancelSignupResult:
    now = now or utcnow()
    async with session() as db:
        task = (await db.exec(_TASK_BY_ID_LOCKED, params={"task_id": task_id})).first()
        if task is None:
            raise DomainError(NOTHING_TO_CANCEL.format(task_id=task_id))  # as for a task one is not signed up for
        member = await member_of(db, caller.platform, caller.user_id)
        signup = None
        if member is not None:
            signup = (
                await db.exec(select(Signup).where(Signup.task_id == task_id, Signup.member_id == member.id))
            ).first()
        if signup is None or signup.status == SignupStatus.cancelled:
            return CancelSignupResult(task=task, changed=False, was_waiting=False)
        if signup.status not in (SignupStatus.signed, SignupStatus.waiting) or task.status != TaskStatus.open:
            raise DomainError(f"任务 {task_id} 已结束，不能取消报名。")
        if now >= task.start_at and signup.status == SignupStatus.signed:
            raise DomainError(f"任务 {task_id} 已经开始，不能取消报名；有事请联系队长。")
        was_waiting = signup.status == SignupStatus.waiting
        signup.status = SignupStatus.cancelled
        db.add(signup)
        promoted = None
        if not was_waiting:
            first = (
                await db.exec(
                    select(Signup)
                    .where(Signup.task_id == task_id, Signup.status == SignupStatus.waiting)
                    .order_by(col(Signup.arrived_at), col(Signup.id))
                )
            ).first()
            if first is not None:
                first.status = SignupStatus.signed
                db.add(first)
                promoted = (await _addresses(db, [first.member_id]))[0]
        await db.flush()
        groups = await _groups_of(db, await _task_team_ids(db, task_id))
        if promoted is not None:
            when = describe(task.start_at, task.end_at)
            notice = f"{promoted.name}：有人取消，你已从候补转为正式报名任务 {task.id}（{task.kind}，{when}）。"
            # a member imported from a roster may have no account yet: then the team's groups hear it
            destinations = _private(promoted) or [Destination(g.platform, g.group_id) for g in groups]
            await enqueue_many(db, destinations, notice)
        return CancelSignupResult(task=task, changed=True, was_waiting=was_waiting, promoted=promoted, groups=groups)


@dataclass
class CheckIn:
    task: TaskHeading
    changed: bool
    at: datetime
    task_has_coordinates: bool = False
    """Whether a location the member shares can be checked against the task's place."""


def _window_opens(task: Task | TaskHeading) -> datetime:
    return task.start_at - settings.checkin_opens_before


async def check_in(caller: Caller, task_id: int | None, now: datetime | None = None) -> CheckIn:
    """/签到: from a while before the start until the end; with no number, the caller's task open now."""
    return await run_transaction(_check_in_in_transaction, caller, task_id, now or utcnow())


def _check_in_in_transaction(connection: Connection, caller: Caller, task_id: int | None, now: datetime) -> CheckIn:
    found = _signup_for_attendance(connection, caller, task_id, now, "签到")
    task = TaskHeading(found.task_id, found.kind, found.place, found.start_at, found.end_at)
    if now < _window_opens(task):
        raise DomainError(f"任务 {task.id} 的签到从 {describe(_window_opens(task))} 开始。")
    if now > task.end_at or found.task_status != TaskStatus.open:
        raise DomainError(f"任务 {task.id} 已经结束，不能签到。")
    has_coordinates = found.latitude is not None and found.longitude is not None
    checked_in_at = found.checked_in_at
    if checked_in_at is None:
        # only the first of two check-ins at the same moment (a double click) sets the time
        if connection.execute(_CHECK_IN, {"signup_id": found.signup_id, "now": now}).rowcount == 1:
            return CheckIn(task=task, changed=True, at=now, task_has_coordinates=has_coordinates)
        checked_in_at = connection.execute(_CHECKED_IN_AT, {"signup_id": found.signup_id}).scalar_one()
    return CheckIn(task=task, changed=False, at=checked_in_at, task_has_coordinates=has_coordinates)


# The statements of /签到 and /签退, the evening peak's other commands, in Core like /报名's.
_CHECK_IN = (
    update(_signup_table)
    .where(_signup_table.c.id == bindparam("signup_id"), _signup_table.c.checked_in_at.is_(None))
    .values(checked_in_at=bindparam("now", type_=UTCDateTime))
)
_CHECKED_IN_AT = select(_signup_table.c.checked_in_at).where(_signup_table.c.id == bindparam("signup_id"))
_ATTENDANCE_COLUMNS = (
    _signup_table.c.id.label("signup_id"),
    _signup_table.c.status.label("signup_status"),
    _signup_table.c.checked_in_at,
    _signup_table.c.checked_out_at,
    _task.c.id.label("task_id"),
    _task.c.kind,
    _task.c.place,
    _task.c.start_at,
    _task.c.end_at,
    _task.c.status.label("task_status"),
    _task.c.latitude,
    _task.c.longitude,
)
_SIGNUPS_OPEN_NOW = (
    select(*_ATTENDANCE_COLUMNS)
    .join(_task, _task.c.id == _signup_table.c.task_id)
    .join(_identity, _identity.c.member_id == _signup_table.c.member_id)
    .where(
        _identity.c.platform == bindparam("platform"),
        _identity.c.user_id == bindparam("user_id"),
        _signup_table.c.status == SignupStatus.signed.value,
        _task.c.status == TaskStatus.open.value,
        _task.c.start_at <= bindparam("opens_by", type_=UTCDateTime),
        _task.c.end_at >= bindparam("now", type_=UTCDateTime),
    )
    .order_by(_task.c.start_at)
)
"""The sign-ups of an account whose task is open and has started or starts soon: /签到 and /签退 without a number."""
_ACCOUNT_AND_SIGNUP_FOR_TASK = (
    select(_identity.c.member_id, *_ATTENDANCE_COLUMNS)
    .select_from(_identity)
    .outerjoin(_task, _task.c.id == bindparam("task_id"))
    .outerjoin(
        _signup_table,
        and_(_signup_table.c.task_id == _task.c.id, _signup_table.c.member_id == _identity.c.member_id),
    )
    .where(_identity.c.platform == bindparam("platform"), _identity.c.user_id == bindparam("user_id"))
)
"""/签到 N and /签退 N: the account (no row when it is unknown), task N (none when there is no such task) and the
account's member's sign-up for it (none when they never signed up)."""
_ACCOUNT = select(_identity.c.member_id).where(
    _identity.c.platform == bindparam("platform"), _identity.c.user_id == bindparam("user_id")
)


def _signup_for_attendance(connection: Connection, caller: Caller, task_id: int | None, now: datetime, action: str):
    """The caller's sign-up to check in or out of (with its task's columns), or a DomainError that says why not."""
    account = {"platform": caller.platform, "user_id": caller.user_id}
    if task_id is not None:
        found = connection.execute(_ACCOUNT_AND_SIGNUP_FOR_TASK, {**account, "task_id": task_id}).first()
        if found is None:
            raise DomainError(NOT_REGISTERED)
        if found.task_id is None or found.signup_status in (None, SignupStatus.cancelled):
            raise DomainError(NOT_SIGNED_UP.format(task_id=task_id, action=action))  # alike for a task that is not
        if found.signup_status not in (SignupStatus.signed, SignupStatus.attended):
            if found.signup_status == SignupStatus.waiting:
                raise DomainError(f"你在任务 {task_id} 的候补名单上，转正后才能{action}。")
            raise DomainError(NOT_SIGNED_UP.format(task_id=task_id, action=action))
        return found
    # the caller's sign-ups open now, found through their account in one query (the evening peak's check-ins)
    params = {**account, "opens_by": now + settings.checkin_opens_before, "now": now}
    rows = connection.execute(_SIGNUPS_OPEN_NOW, params).all()
    if not rows and connection.execute(_ACCOUNT, account).first() is None:
        raise DomainError(NOT_REGISTERED)  # someone not registered is told that first
    candidates = [row for row in rows if _window_opens(row) <= now <= row.end_at]
    if action == "签退":
        candidates = [row for row in candidates if row.checked_in_at is not None and row.checked_out_at is None]
    if not candidates:
        raise DomainError(f"你现在没有可以{action}的任务。写上任务编号试试：/{action} 编号")
    if len(candidates) > 1:
        numbers = "、".join(str(row.task_id) for row in candidates)
        raise DomainError(f"你现在有几个任务（{numbers}）：请写编号，例如 /{action} {candidates[0].task_id}")
    return candidates[0]


@dataclass
class LocationCheck:
    task: Task
    distance_m: int | None
    outside: bool


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle distance in metres."""
    radius = 6_371_000
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = math.radians(lat2 - lat1)
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return round(2 * radius * math.asin(math.sqrt(a)))


@retry_on_conflict
async def attach_location(
    caller: Caller, latitude: float, longitude: float, now: datetime | None = None
) -> LocationCheck | None:
    """A shared location within a minute of checking in is kept and checked against the task's place and radius.

    None when the caller has no such fresh check-in (the location is then not kept).
    """
    now = now or utcnow()
    async with session() as db:
        member = await member_of(db, caller.platform, caller.user_id)
        if member is None:
            return None
        statement = (
            select(Signup, Task)
            .join(Task, col(Task.id) == col(Signup.task_id))
            .where(
                Signup.member_id == member.id,
                col(Signup.checked_in_at) >= now - settings.location_window,
                col(Signup.checked_in_at) <= now,
                col(Signup.latitude).is_(None),
            )
            .order_by(col(Signup.checked_in_at).desc())
        )
        row = (await db.exec(statement)).first()
        if row is None:
            return None
        signup, task = row
        signup.latitude, signup.longitude = latitude, longitude
        distance = None
        if task.latitude is not None and task.longitude is not None:
            distance = distance_m(task.latitude, task.longitude, latitude, longitude)
            signup.distance_m = distance
            signup.outside_radius = distance > (task.radius_m or DEFAULT_RADIUS_M)
        db.add(signup)
        return LocationCheck(task=task, distance_m=distance, outside=signup.outside_radius)


def minutes_served(task: Task | TaskHeading, checked_in: datetime, checked_out: datetime) -> int:
    """Between check-in (not earlier than the start) and check-out (not later than the end)."""
    begin = max(_aware(checked_in), _aware(task.start_at))
    finish = min(_aware(checked_out), _aware(task.end_at))
    return max(int((finish - begin).total_seconds() // 60), 0)


async def _record_minutes_served(db: AsyncSession, task: Task | TaskHeading, signup: Signup) -> None:
    """Set the time served from check-in and check-out, and move the member's hours totals by the change only:
    closing a task recomputes what a check-out already counted."""
    minutes = minutes_served(task, signup.checked_in_at, signup.checked_out_at)
    change = minutes - (signup.minutes_served or 0)
    signup.minutes_served = minutes
    if change:
        await add_to_totals(db, signup.member_id, minutes=change, at=_aware(signup.checked_out_at))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass
class CheckOut:
    task: TaskHeading
    changed: bool
    minutes: int


@retry_on_conflict
async def check_out(caller: Caller, task_id: int | None, now: datetime | None = None) -> CheckOut:
    """/签退: closes the caller's check-in; the time served counts only within the task's hours."""
    now = now or utcnow()
    async with session() as db:
        found = await db.run_sync(
            lambda sync_session: _signup_for_attendance(sync_session.connection(), caller, task_id, now, "签退")
        )
        task = TaskHeading(found.task_id, found.kind, found.place, found.start_at, found.end_at)
        if found.checked_in_at is None:
            raise DomainError(f"你还没有签到任务 {task.id}：先发送 /签到 {task.id}")
        signup = await db.get(Signup, found.signup_id, with_for_update=True)
        if signup.checked_out_at is not None:
            return CheckOut(task=task, changed=False, minutes=signup.minutes_served or 0)
        signup.checked_out_at = min(now, _aware(task.end_at))
        await _record_minutes_served(db, task, signup)
        db.add(signup)
        return CheckOut(task=task, changed=True, minutes=signup.minutes_served)


@dataclass
class ClosedTask:
    view: TaskView
    changed: bool
    served: list[tuple[str, int]]
    """Names and minutes of those who served."""
    absent: list[str]
    points_awarded: int
    groups: list[GroupAddress]
    next_task: TaskView | None = None


async def close_task(
    caller: Caller | None, task_id: int, now: datetime | None = None, group_id: str | None = None
) -> ClosedTask:
    """/结束任务 (or automatically after the end): no-shows, final attendance, points once, a summary."""
    async with task_lock(task_id):
        return await _close_task(caller, task_id, now, group_id)


@retry_on_conflict
async def _close_task(caller: Caller | None, task_id: int, now: datetime | None, group_id: str | None) -> ClosedTask:
    now = now or utcnow()
    async with session() as db:
        rights = await rights_of(db, caller) if caller is not None else None
        if rights is not None and not rights.is_officer:
            raise NotAllowed("只有民警可以结束任务。")
        task = await _task_or_refuse(db, task_id, lock=True)
        if rights is not None:
            _officer_check(rights, await db.get(Unit, task.unit_id), task_id)
        if task.status == TaskStatus.cancelled:
            raise DomainError(f"任务 {task_id} 已取消。")
        if task.status == TaskStatus.open and now < task.start_at:
            raise DomainError(f"任务 {task_id} 还没开始，不能结束；不办了请用 /取消任务 {task_id}")
        changed = task.status == TaskStatus.open
        awarded = 0
        if changed:
            awarded = await _settle_attendance(db, task, now, rights.member.id if rights and rights.member else None)
            task.status = TaskStatus.closed
            task.closed_at = now
            db.add(task)
            await cancel_reminders(db, task.id, now)
            if rights is not None:
                await audit(db, caller, rights.member, "close_task", f"task:{task_id}")
        next_view = await _schedule_next_week(db, task) if changed and task.repeat_weekly else None
        rows = (
            await db.exec(
                select(Signup, Member)
                .join(Member, col(Member.id) == col(Signup.member_id))
                .where(Signup.task_id == task_id, col(Signup.status).in_([SignupStatus.attended, SignupStatus.no_show]))
                .order_by(col(Signup.arrived_at), col(Signup.id))
            )
        ).all()
        team_ids = await _task_team_ids(db, task_id)
        closed = ClosedTask(
            view=await _view(db, task),
            changed=changed,
            served=[(m.name, s.minutes_served or 0) for s, m in rows if s.status == SignupStatus.attended],
            absent=[m.name for s, m in rows if s.status == SignupStatus.no_show],
            points_awarded=awarded,
            groups=await _groups_of(db, team_ids),
            next_task=next_view,
        )
        if changed:
            summary = closing_summary(closed)
            await enqueue_many(db, _except_here(closed.groups, caller, group_id), summary, priority=Priority.digest)
            if next_view is not None:
                card = task_card(next_view)
                destinations = _except_here(closed.groups, None, None)
                buttons = signup_buttons(next_view.task.id)
                await enqueue_many(db, destinations, card, priority=Priority.task_card, buttons=buttons)
        return closed


def closing_summary(closed: ClosedTask) -> str:
    task = closed.view.task
    minutes = sum(minutes for _, minutes in closed.served)
    lines = [f"任务 {task.id}（{task.kind}，{describe(task.start_at, task.end_at)}）已结束。"]
    if closed.served:
        names = "、".join(f"{name}{served / 60:.1f}小时" for name, served in closed.served)
        lines.append(f"到岗 {len(closed.served)} 人，共 {minutes / 60:.1f} 小时：{names}")
    else:
        lines.append("没有人签到。")
    if closed.absent:
        lines.append(f"缺勤 {len(closed.absent)} 人：{'、'.join(closed.absent)}")
    if task.points:
        lines.append(f"到岗的每人得 {task.points} 分，发送 /我的 查看。")
    return "\n".join(lines)


async def _settle_attendance(db: AsyncSession, task: Task, now: datetime, actor: int | None) -> int:
    """Attended or no-show for every sign-up, open check-ins closed at the end, points recorded once each."""
    awarded = 0
    signups = (
        await db.exec(
            select(Signup).where(Signup.task_id == task.id, Signup.status == SignupStatus.signed).with_for_update()
        )
    ).all()
    for signup in signups:
        if signup.checked_in_at is None:
            signup.status = SignupStatus.no_show
            if settings.no_show_penalty:
                await record_points(
                    db,
                    signup.member_id,
                    -settings.no_show_penalty,
                    LedgerReason.no_show,
                    "task",
                    task.id,
                    actor_member_id=actor,
                    note=f"任务{task.id} 未到",
                )
        else:
            if signup.checked_out_at is None:
                signup.checked_out_at = min(_aware(now), _aware(task.end_at))
                signup.checkout_automatic = True
            await _record_minutes_served(db, task, signup)
            signup.status = SignupStatus.attended
            amount = task.points + settings.points_per_hour * signup.minutes_served // 60
            if amount and await record_points(
                db,
                signup.member_id,
                amount,
                LedgerReason.attendance,
                "task",
                task.id,
                actor_member_id=actor,
                note=f"任务{task.id} {task.kind}",
            ):
                awarded += amount
        db.add(signup)
    await db.flush()
    return awarded


async def _schedule_next_week(db: AsyncSession, task: Task) -> TaskView | None:
    """A weekly task posts its next occurrence when it closes (once: the series and start are checked)."""
    week = timedelta(days=7)
    start = _aware(task.start_at) + week
    existing = (
        await db.exec(select(Task).where(Task.series_id == (task.series_id or task.id), Task.start_at == start))
    ).first()
    if existing is not None:
        return None
    team_ids = await _task_team_ids(db, task.id)
    following = Task(
        kind=task.kind,
        place=task.place,
        start_at=start,
        end_at=_aware(task.end_at) + week,
        signup_deadline=_aware(task.signup_deadline) + week,
        capacity=task.capacity,
        points=task.points,
        required_tags=list(task.required_tags),
        latitude=task.latitude,
        longitude=task.longitude,
        radius_m=task.radius_m,
        repeat_weekly=True,
        series_id=task.series_id or task.id,
        unit_id=task.unit_id,
        created_by=task.created_by,
    )
    db.add(following)
    await db.flush()
    for team_id in team_ids:
        db.add(TaskTeam(task_id=following.id, team_id=team_id))
    await db.flush()
    await schedule_reminders(db, following)
    return await _view(db, following)


async def tasks_due_for_closing(now: datetime | None = None) -> list[int]:
    """Open tasks whose end lies further back than the automatic close delay."""
    now = now or utcnow()
    async with session() as db:
        statement = select(Task.id).where(
            Task.status == TaskStatus.open, col(Task.end_at) <= now - settings.close_after
        )
        return list((await db.exec(statement.order_by(col(Task.end_at)))).all())


@retry_on_conflict
async def close_open_checkins(now: datetime | None = None) -> int:
    """Check-ins still open when their task has ended are closed at the end. Returns how many."""
    now = now or utcnow()
    async with session() as db:
        statement = (
            select(Signup, Task)
            .join(Task, col(Task.id) == col(Signup.task_id))
            .where(
                col(Task.end_at) <= now,
                col(Signup.checked_in_at).is_not(None),
                col(Signup.checked_out_at).is_(None),
            )
        )
        rows = (await db.exec(statement)).all()
        for signup, task in rows:
            signup.checked_out_at = _aware(task.end_at)
            signup.checkout_automatic = True
            await _record_minutes_served(db, task, signup)
            db.add(signup)
        return len(rows)
