"""Posting a task (/发布任务), the open tasks (/任务), one task with its roster (/任务 N), cancelling (/取消任务).

A posted task's card goes to its teams' other groups as a notice (`TaskCard`), worded by the face when queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Row, bindparam, exists, func
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.db import reading, run_reading, session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import (
    GroupBinding,
    Member,
    MembershipStatus,
    Priority,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    TaskTeam,
    Team,
    Unit,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor, ChatGroup, Where
from storage.services.organisation import audit, find_unit, in_unit_or_below, team_at
from storage.services.outbox import Destination, enqueue_many
from storage.services.people import Rights, rights_and_place_on, rights_beside, rights_of
from storage.services.reminders import cancel_reminders, schedule_reminders
from storage.services.retry import retry_on_conflict
from storage.services.tasks.queries import (
    COUNTED_AS_SIGNED,
    SIGNED_COUNT,
    WAITING_COUNT,
    GroupAddress,
    MemberAddress,
    TaskFacts,
    TaskView,
    addresses,
    except_here,
    groups_of,
    member_table,
    member_team_ids,
    membership_table,
    officer_check,
    privately,
    registered_member,
    signup_table,
    table_of,
    task_or_refuse,
    task_table,
    task_team_ids,
    task_team_table,
    view_of,
    views_with_counts,
)
from storage.services.tasks.spec import TaskSpec, check_spec
from storage.services.training.courses import course_for_officer

SIGNUP_BUTTON_COMMANDS = ("signup", "cancel")
"""The commands the buttons under a task card fill in, followed by the task's number."""


@dataclass(frozen=True)
class TaskCard:
    """Notice: a task's card, posted to its groups."""

    view: TaskView


@dataclass(frozen=True)
class ButtonLabel:
    """Notice: the label of a button that fills in a command (one of SIGNUP_BUTTON_COMMANDS)."""

    command: str


@dataclass(frozen=True)
class TaskCancelled:
    """Notice to a task's other groups: the task was cancelled."""

    task: TaskFacts


@dataclass(frozen=True)
class YourTaskCancelled:
    """Notice, privately to one signed up or waiting: the task was cancelled."""

    name: str
    task: TaskFacts


def signup_buttons(task_id: int) -> list[tuple[str, str]]:
    """Buttons under a task card (on platforms that have them): each fills in its command; the face words them."""
    return [(notices.render(ButtonLabel(command)), f"/{command} {task_id}") for command in SIGNUP_BUTTON_COMMANDS]


async def announce(db: AsyncSession, destinations: list[Destination], view: TaskView) -> None:
    """Queue the task's card, with its buttons, for these groups."""
    if destinations:
        card = notices.render(TaskCard(view))
        buttons = signup_buttons(view.task.id)
        await enqueue_many(db, destinations, card, priority=Priority.task_card, buttons=buttons)


@dataclass(frozen=True)
class PostedTask:
    view: TaskView
    groups: list[GroupAddress]
    announced: int = 0
    """How many other groups the card was queued for."""

    @property
    def posted_here(self) -> bool:
        """The command came from one of the task's groups (where the reply carries the card)."""
        return self.announced < len(self.groups)


async def _teams_for_target(
    db: AsyncSession, rights: Rights, spec: TaskSpec, where: Where | None
) -> tuple[Unit, list[Team]]:
    if spec.unit_text:
        unit = await find_unit(db, spec.unit_text)
        if unit is None:
            raise DomainError("tasks.no_such_unit", text=quoted(spec.unit_text))
        if not rights.covers_unit(unit):
            raise NotAllowed("organisation.unit_not_yours_to", unit=unit.path, act="post_task")
        statement = (
            select(Team)
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(in_unit_or_below(unit))
            .order_by(col(Team.id))
        )
        teams = list((await db.exec(statement)).all())
        if not teams:
            raise DomainError("tasks.unit_without_teams", unit=unit.path)
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
                raise DomainError("tasks.no_such_team", name=quoted(name))
            if len(mine) > 1:
                raise DomainError("tasks.team_name_ambiguous", name=quoted(name))
            teams.append(mine[0][0])
            owner = owner or mine[0][1]
        assert owner is not None
        return owner, teams
    if where is None:
        raise DomainError("tasks.private_needs_target")
    located = await team_at(db, where)
    if located is None:
        raise DomainError("tasks.post_group_not_bound")
    if not rights.covers_unit(located.unit):
        raise NotAllowed("organisation.team_not_yours", team=located.team.name, act="post_task")
    return located.unit, [located.team]


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
        course_id=spec.course_id,
        unit_id=id_of(unit),
        created_by=author,
    )
    db.add(task)
    await db.flush()
    for team in teams:
        db.add(TaskTeam(task_id=id_of(task), team_id=id_of(team)))
    await db.flush()
    return task


DUPLICATE_WINDOW = timedelta(minutes=1)
"""A task like one posted this recently (same kind, start, place and teams) needs a confirmation: a double send."""


async def _recent_twin(db: AsyncSession, spec: TaskSpec, teams: list[Team]) -> int | None:
    """The number of an open task posted within DUPLICATE_WINDOW with the same kind, start, place and teams."""
    team_ids = {id_of(team) for team in teams}
    # the teams' rows are locked first (PostgreSQL; SQLite has one writer): two sends at once are checked in turn
    await db.exec(select(Team.id).where(col(Team.id).in_(team_ids)).with_for_update())
    candidates = (
        await db.exec(
            select(Task.id)
            .where(
                Task.kind == spec.kind,
                Task.place == spec.place,
                Task.start_at == spec.start,
                Task.status == TaskStatus.open,
                col(Task.created_at) >= utcnow() - DUPLICATE_WINDOW,
            )
            .order_by(col(Task.id).desc())  # the latest one is named
        )
    ).all()
    for task_id in candidates:
        assert task_id is not None
        if set(await task_team_ids(db, task_id)) == team_ids:
            return task_id
    return None


@retry_on_conflict
async def post_task(caller: Actor, where: Where | None, spec: TaskSpec, *, confirmed: bool = False) -> PostedTask:
    """/发布任务: an officer posts a task to this group's team, named teams, or a whole unit and its sub-units.

    The same task (kind, start, place, teams) posted again within a minute is refused as a likely double send
    (`tasks.maybe_duplicate`, with the first one's number), unless `confirmed`.
    """
    check_spec(spec)
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("organisation.officers_only", act="post_task")
        unit, teams = await _teams_for_target(db, rights, spec, where)
        if spec.course_id is not None:  # a course of the task's unit, below or above it, that the officer may use
            await course_for_officer(db, rights, spec.course_id, change=False)
        if not confirmed and (twin := await _recent_twin(db, spec, teams)) is not None:
            raise DomainError("tasks.maybe_duplicate", task_id=twin)
        author = id_of(rights.member) if rights.member else None
        task = await _save_task(db, spec, unit, teams, author)
        if task.repeat_weekly:
            task.series_id = task.id
            db.add(task)
        await schedule_reminders(db, task)
        await audit(db, caller, rights.member, "post_task", f"task:{task.id}", kind=task.kind, teams=len(teams))
        view = await view_of(db, task)
        groups = await groups_of(db, [id_of(team) for team in teams])
        elsewhere = except_here(groups, where)
        await announce(db, elsewhere, view)
        return PostedTask(view=view, groups=groups, announced=len(elsewhere))


def _counted(statuses: tuple[SignupStatus, ...]):
    """How many of the task's sign-ups have one of these statuses, beside each row of the task table (Core)."""
    return (
        core_select(func.count())
        .select_from(signup_table)
        .where(signup_table.c.task_id == task_table.c.id, signup_table.c.status.in_(statuses))
        .correlate(task_table)
        .scalar_subquery()
    )


_binding_table, _team_table, _unit_table = table_of(GroupBinding), table_of(Team), table_of(Unit)
_TEAMS_OF_GROUP = core_select(_binding_table.c.team_id).where(
    _binding_table.c.platform == bindparam("platform"), _binding_table.c.group_id == bindparam("group_id")
)
OPEN_TASKS_OF_GROUP = (
    core_select(task_table, _counted(COUNTED_AS_SIGNED).label("signed"), _counted((SignupStatus.waiting,)))
    .where(
        task_table.c.id.in_(
            core_select(task_team_table.c.task_id).where(task_team_table.c.team_id.in_(_TEAMS_OF_GROUP))
        ),
        task_table.c.status == TaskStatus.open,
        task_table.c.end_at > bindparam("now"),
    )
    .order_by(task_table.c.start_at, task_table.c.id)
    .limit(20)
)
"""/任务 in a group: the open tasks of the group's team with their places taken and waiting list, as rows."""
TEAM_NAMES = (
    core_select(task_team_table.c.task_id, _team_table.c.name)
    .join(_team_table, _team_table.c.id == task_team_table.c.team_id)
    .where(task_team_table.c.task_id.in_(bindparam("task_ids", expanding=True)))
    .order_by(task_team_table.c.id)
)
"""The names of the tasks' teams, in the order they were given."""
GROUP_BOUND = (
    core_select(_binding_table.c.id)
    .join(_team_table, _team_table.c.id == _binding_table.c.team_id)
    .join(_unit_table, _unit_table.c.id == _team_table.c.unit_id)
    .where(_binding_table.c.platform == bindparam("platform"), _binding_table.c.group_id == bindparam("group_id"))
    .limit(1)
)
"""Whether the group is bound to a team (as organisation.team_of_group finds it)."""


def _open_tasks_of_group(connection: Connection, group: ChatGroup, now: datetime) -> list[TaskView] | None:
    """/任务 in a group chat, as Core rows on one connection; None when the group is not bound to a team."""
    where_params = {"platform": group.platform, "group_id": group.group_id}
    rows = connection.execute(OPEN_TASKS_OF_GROUP, {**where_params, "now": now}).all()
    if not rows:
        return None if connection.execute(GROUP_BOUND, where_params).first() is None else []
    names: dict[int, list[str]] = {row.id: [] for row in rows}
    for task_id, name in connection.execute(TEAM_NAMES, {"task_ids": list(names)}):
        names[task_id].append(name)
    return [TaskView(task=TaskFacts.of(row), team_names=names[row.id], signed=row[-2], waiting=row[-1]) for row in rows]


async def list_open_tasks(caller: Actor, where: Where | None, now: datetime | None = None) -> list[TaskView]:
    """/任务: open tasks of the team where it is asked, or in private of the caller's teams.

    In a group chat the tasks are found through the group's binding in the same statement; only when there are none
    is the binding looked at on its own (to tell an unbound group from a team without open tasks). That case, the
    everyday one, reads rows with Core statements built once (run_reading), not Task models through a session: 4.1
    ms of CPU per call before, 1.7 ms after (bench/service_cpu.py)."""
    now = now or utcnow()
    if isinstance(where, ChatGroup):
        views = await run_reading(_open_tasks_of_group, where, now)
        if views is None:
            raise DomainError("tasks.list_group_not_bound")
        return views
    async with reading() as db:
        team_ids: list[int]
        if where is not None:
            located = await team_at(db, where)
            if located is None:
                raise DomainError("tasks.list_group_not_bound")
            team_ids = [id_of(located.team)]
        else:
            member = await registered_member(db, caller)
            team_ids = await member_team_ids(db, id_of(member))
            if not team_ids:
                return []
        for_the_teams = select(TaskTeam.task_id).where(col(TaskTeam.team_id).in_(team_ids))
        statement = (
            select(Task, SIGNED_COUNT, WAITING_COUNT)
            .where(col(Task.id).in_(for_the_teams), Task.status == TaskStatus.open, col(Task.end_at) > now)
            .order_by(col(Task.start_at), col(Task.id))
            .limit(20)
        )
        return await views_with_counts(db, (await db.exec(statement)).all())


@dataclass(frozen=True)
class RosterLine:
    name: str
    status: str
    checked_in: bool
    checked_out: bool
    outside_radius: bool
    minutes: int | None


@dataclass(frozen=True)
class TaskDetail:
    view: TaskView
    signed: list[RosterLine]
    waiting: list[RosterLine]
    absent: list[RosterLine]


_TEAM_UNIT_TABLE = _unit_table.alias("team_unit")
_IN_TEAM = (
    exists()
    .where(
        membership_table.c.team_id == _team_table.c.id,
        membership_table.c.member_id == bindparam("member_id"),
        membership_table.c.status == MembershipStatus.active,
    )
    .label("member_in_team")
)
TASK_WITH_TEAMS = (
    core_select(
        task_table,
        _unit_table.c.path.label("owner_path"),
        _team_table.c.id.label("team_id"),
        _team_table.c.name.label("team_name"),
        _TEAM_UNIT_TABLE.c.path.label("team_unit_path"),
        _IN_TEAM,
    )
    .outerjoin(_unit_table, _unit_table.c.id == task_table.c.unit_id)
    .outerjoin(task_team_table, task_team_table.c.task_id == task_table.c.id)
    .outerjoin(_team_table, _team_table.c.id == task_team_table.c.team_id)
    .outerjoin(_TEAM_UNIT_TABLE, _TEAM_UNIT_TABLE.c.id == _team_table.c.unit_id)
    .where(task_table.c.id == bindparam("task_id"))
    .order_by(task_team_table.c.id)
)
"""/任务 N: the task's columns, its unit's path, and a row for each of its teams with the team's id, name and unit's
path and whether the member `member_id` is an active member of it: rows, no Task, Team or Unit models."""

_TASK_PLACE = (
    core_select(
        *(column.label(f"task_{column.key}") for column in task_table.columns),
        _unit_table.c.path.label("owner_path"),
        _team_table.c.id.label("team_id"),
        _team_table.c.name.label("team_name"),
        _TEAM_UNIT_TABLE.c.path.label("team_unit_path"),
        task_team_table.c.id.label("team_order"),
    )
    .outerjoin(_unit_table, _unit_table.c.id == task_table.c.unit_id)
    .outerjoin(task_team_table, task_team_table.c.task_id == task_table.c.id)
    .outerjoin(_team_table, _team_table.c.id == task_team_table.c.team_id)
    .outerjoin(_TEAM_UNIT_TABLE, _TEAM_UNIT_TABLE.c.id == _team_table.c.unit_id)
    .where(task_table.c.id == bindparam("task_id"))
    .subquery("task_place")
)
_RIGHTS_AND_TASK = rights_beside(
    _TASK_PLACE,
    exists()
    .where(
        membership_table.c.team_id == _TASK_PLACE.c.team_id,
        membership_table.c.member_id == member_table.c.id,
        membership_table.c.status == MembershipStatus.active,
    )
    .label("member_in_team"),
    order_by=(_TASK_PLACE.c.team_order,),
)
"""/任务 N for a member: who asks, beside TASK_WITH_TEAMS's rows (the task's columns labelled task_…), in one
statement: a row for each of the caller's roles and the task's teams."""


ROSTER = cast(  # columns, not models: a roster is read for every /任务 N
    "Select[str, str, datetime | None, datetime | None, bool, int | None]",
    select(Member.name, Signup.status, Signup.checked_in_at, Signup.checked_out_at)
    .add_columns(col(Signup.outside_radius), col(Signup.minutes_served))
    .join(Member, col(Member.id) == col(Signup.member_id))
    .where(col(Signup.task_id) == bindparam("task_id"), col(Signup.status) != SignupStatus.cancelled)
    .order_by(col(Signup.arrived_at), col(Signup.id)),
)
"""/任务 N: the task's sign-ups but the cancelled ones, in the order they arrived, with the member's name."""


async def teams_of_task(db: AsyncSession, task_id: int) -> list[tuple[Team, Unit]]:
    """The task's teams with their units, in the order they were given."""
    statement = (
        select(Team, Unit)
        .join(TaskTeam, col(TaskTeam.team_id) == col(Team.id))
        .join(Unit, col(Unit.id) == col(Team.unit_id))
        .where(TaskTeam.task_id == task_id)
        .order_by(col(TaskTeam.id))
    )
    return [(team, unit) for team, unit in (await db.exec(statement)).all()]


async def may_see_roster(
    db: AsyncSession,
    rights: Rights,
    task: Task,
    teams: list[tuple[Team, Unit]] | None = None,
    owner: Unit | None = None,
    in_teams: bool | None = None,
) -> bool:
    """A task's roster is for the members of its teams, their leaders, and the officers covering the task or one of
    its teams. `teams`, `owner` (the task's unit) and `in_teams` (whether the caller is an active member of one of
    the teams), when the caller has read them already, are not read again."""
    if rights.is_admin:
        return True
    if teams is None:
        teams = await teams_of_task(db, id_of(task))
    if owner is None:
        owner = await db.get(Unit, task.unit_id)
    if rights.officer_units and any(rights.covers_unit(unit) for unit in [owner, *(u for _, u in teams)] if unit):
        return True
    team_ids = {id_of(team) for team, _ in teams}
    if team_ids & rights.leader_team_ids:
        return True
    if rights.member is None:
        return False
    if in_teams is not None:
        return in_teams
    return bool(team_ids & set(await member_team_ids(db, id_of(rights.member))))


def _sees_roster(rights: Rights, owner_path: str | None, teams: list[Row], in_teams: bool) -> bool:
    """may_see_roster for the rows of TASK_WITH_TEAMS (the same rule, on paths and ids instead of models)."""
    if rights.is_admin:
        return True
    paths = [path for path in [owner_path, *(row.team_unit_path for row in teams)] if path]
    if rights.officer_units and any(rights.covers_path(path) for path in paths):
        return True
    if {row.team_id for row in teams} & rights.leader_team_ids:
        return True
    if rights.member is None:
        return False
    return in_teams


async def task_detail(caller: Actor, task_id: int) -> TaskDetail:
    """/任务 编号: the task and its roster (names only, never a phone number), for those who may see it.

    Three Core statements on one connection (run_reading): the caller's rights, the task with its teams, the
    roster; no Task, Team or Unit models, nor the ORM's execute."""
    return await run_reading(_task_detail_on, caller, task_id)


def _task_detail_on(connection: Connection, caller: Actor, task_id: int) -> TaskDetail:
    rights, beside = rights_and_place_on(connection, caller, _RIGHTS_AND_TASK, {"task_id": task_id})
    if beside:  # a member: the task's rows came with the rights, once for each role
        if beside[0].task_id is None:
            raise NotAllowed("tasks.no_such_task", task_id=task_id)
        task = TaskFacts.of_labelled(beside[0]._mapping, "task_")
        owner_path = beside[0].owner_path
        teams_by_id = {row.team_id: row for row in beside if row.team_id is not None and row.team_unit_path}
        teams = list(teams_by_id.values())
        in_teams = any(row.member_in_team for row in beside)
    else:  # no member (an administrator by the configuration, or a stranger): the task on its own
        found = connection.execute(TASK_WITH_TEAMS, {"task_id": task_id, "member_id": 0}).all()
        if not found:
            raise NotAllowed("tasks.no_such_task", task_id=task_id)
        task, owner_path = TaskFacts.of(found[0]), found[0].owner_path
        teams = [row for row in found if row.team_id is not None and row.team_unit_path is not None]
        in_teams = False
    if not _sees_roster(rights, owner_path, teams, in_teams):
        raise NotAllowed("tasks.no_such_task", task_id=task_id)
    roster = [
        RosterLine(name, status, checked_in is not None, checked_out is not None, outside, minutes)
        for name, status, checked_in, checked_out, outside, minutes in connection.execute(
            ROSTER, {"task_id": task_id}
        ).all()
    ]
    lines = {status: [line for line in roster if line.status == status] for status in SignupStatus}
    view = TaskView(
        task=task,
        team_names=[row.team_name for row in teams],
        signed=sum(1 for line in roster if line.status in COUNTED_AS_SIGNED),
        waiting=len(lines[SignupStatus.waiting]),
    )
    return TaskDetail(
        view=view,
        signed=lines[SignupStatus.signed] + lines[SignupStatus.attended],
        waiting=lines[SignupStatus.waiting],
        absent=lines[SignupStatus.no_show],
    )


@dataclass(frozen=True)
class CancelledTask:
    view: TaskView
    changed: bool
    affected: list[MemberAddress]
    groups: list[GroupAddress]


@retry_on_conflict
async def cancel_task(caller: Actor, task_id: int, reason: str | None, where: Where | None = None) -> CancelledTask:
    """/取消任务: everyone signed up or waiting is told."""
    reason = (reason or "").strip()[:200] or None
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("organisation.officers_only", act="cancel_task")
        task = await task_or_refuse(db, task_id, lock=True)
        officer_check(rights, await db.get(Unit, task.unit_id), task_id)
        if task.status == TaskStatus.closed:
            raise DomainError("tasks.cancel_closed", task_id=task_id)
        changed = task.status != TaskStatus.cancelled
        affected_ids: list[int] = []
        if changed:
            task.status = TaskStatus.cancelled
            task.cancel_reason = reason
            db.add(task)
            await cancel_reminders(db, task_id)
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
        result = CancelledTask(
            view=await view_of(db, task),
            changed=changed,
            affected=await addresses(db, affected_ids),
            groups=await groups_of(db, await task_team_ids(db, task_id)),
        )
        if changed:
            facts = result.view.task
            for member in result.affected:
                await enqueue_many(db, privately(member), notices.render(YourTaskCancelled(member.name, facts)))
            elsewhere = except_here(result.groups, where)
            if elsewhere:
                await enqueue_many(db, elsewhere, notices.render(TaskCancelled(facts)), priority=Priority.task_card)
        return result
