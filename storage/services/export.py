"""/导出: an XLSX workbook of a team's or a unit's members, tasks with attendance, ledger and tips, for officers
(leaders: their team, without tips). Anonymous reporters are never named, and their rewards are in no member's row:
the ledger sheet shows each anonymous payout as one line of the unit without names, and the members sheet shows the
points each member earned (as the boards do), not what they can spend."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl import Workbook
from sqlmodel import col, func, select

from storage.db import session
from storage.errors import NotAllowed
from storage.models import (
    AnonymousPayout,
    LedgerReason,
    Member,
    MemberTotal,
    PointEntry,
    Signup,
    SignupStatus,
    Task,
    Team,
    TeamMembership,
    Tip,
    TipEntry,
    Unit,
)
from storage.services.organisation import audit
from storage.services.people import Caller, mask_phone, rights_of
from storage.services.standings import REASON_NAMES
from storage.services.stats import Where, tasks_in, team_members, units_below, where_for
from storage.services.tips import STATUS_NAMES
from storage.services.totals import ALL_TIME
from storage.services.when import DateRange, local

MAX_ROWS = 100_000
"""Rows per sheet at most: a city's month of ledger is hundreds of thousands of entries, too many to build while
the bot answers everyone else; the officer is told to export a shorter period or a smaller unit."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SIGNUP_NAMES = {"signed": "已报名", "waiting": "候补", "cancelled": "已取消", "attended": "已出勤", "no_show": "未到"}
TASK_STATUS_NAMES = {"open": "进行中", "cancelled": "已取消", "closed": "已结束"}
MEMBER_STATUS_NAMES = {"applied": "申请中", "active": "在队", "rejected": "未通过", "left": "已离队"}


def cell(value):
    """Text as typed, never read as a formula by a spreadsheet (a name such as =HYPERLINK(...) stays text)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def when(moment: datetime | None, *, date_only: bool = False) -> str:
    if moment is None:
        return ""
    shown = local(moment)
    return f"{shown:%Y-%m-%d}" if date_only else f"{shown:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Export:
    file_name: str
    content: bytes
    scope_name: str
    counts: dict[str, int]
    cut: list[str] = field(default_factory=list)
    """Sheets that had more than MAX_ROWS rows: only the first MAX_ROWS are in the file."""


async def export_workbook(caller: Caller, group_id: str | None, period: DateRange, unit_text: str | None) -> Export:
    async with session() as db:
        rights = await rights_of(db, caller)
        if not (rights.is_officer or rights.leader_team_ids):
            raise NotAllowed("导出只有队长和民警可以使用。")
        where = await where_for(db, caller, rights, group_id, "", unit_text)
        if where.team is not None:
            members_query = team_members(where.team)
        else:
            members_query = select(TeamMembership.member_id).where(
                col(TeamMembership.team_id).in_(select(Team.id).where(col(Team.unit_id).in_(units_below(where.unit))))
            )
        sheets: dict[str, list[list]] = {}

        rows = (
            await db.exec(
                select(Member, Team.name, TeamMembership.status, TeamMembership.decided_at, MemberTotal.points)
                .join(TeamMembership, col(TeamMembership.member_id) == col(Member.id))
                .join(Team, col(Team.id) == col(TeamMembership.team_id))
                .outerjoin(
                    MemberTotal,
                    (col(MemberTotal.member_id) == col(Member.id)) & (col(MemberTotal.period) == ALL_TIME),
                )
                .where(col(Member.id).in_(members_query), col(TeamMembership.team_id).in_(_teams(where)))
                .order_by(col(Member.id))
                .limit(MAX_ROWS + 1)
            )
        ).all()
        sheets["成员"] = [["成员号", "姓名", "手机", "队伍", "状态", "特长", "入队时间", "累计积分"]] + [
            [
                member.id,
                member.name,
                mask_phone(member.phone),
                team_name,
                MEMBER_STATUS_NAMES.get(status, status),
                "、".join(member.tags),
                when(decided_at),
                points or 0,
            ]
            for member, team_name, status, decided_at, points in rows
        ]

        in_period = select(Task).where(col(Task.id).in_(tasks_in(where, period)))
        tasks = (await db.exec(in_period.order_by(col(Task.start_at)).limit(MAX_ROWS + 1))).all()
        task_ids = [task.id for task in tasks]
        signups = await _signups(db, task_ids, where)
        by_task: dict[int, list] = {}
        for signup, _member in signups:
            by_task.setdefault(signup.task_id, []).append(signup)
        sheets["任务"] = [
            ["任务号", "类型", "地点", "开始", "结束", "状态", "名额", "报名", "签到", "未到", "服务小时"]
        ]
        for task in tasks:
            own = by_task.get(task.id, [])
            sheets["任务"].append(
                [
                    task.id,
                    task.kind,
                    task.place,
                    when(task.start_at),
                    when(task.end_at),
                    TASK_STATUS_NAMES.get(task.status, task.status),
                    task.capacity,
                    sum(1 for s in own if s.status != SignupStatus.cancelled),
                    sum(1 for s in own if s.checked_in_at is not None),
                    sum(1 for s in own if s.status == SignupStatus.no_show),
                    round(sum(s.minutes_served or 0 for s in own) / 60, 1),
                ]
            )
        sheets["出勤明细"] = [["任务号", "成员号", "姓名", "状态", "签到", "签退", "服务分钟", "位置核验"]] + [
            [
                signup.task_id,
                member.id,
                member.name,
                SIGNUP_NAMES.get(signup.status, signup.status),
                when(signup.checked_in_at),
                when(signup.checked_out_at),
                signup.minutes_served or 0,
                ""
                if signup.distance_m is None
                else ("超出范围" if signup.outside_radius else f"{signup.distance_m}米"),
            ]
            for signup, member in signups
        ]

        entries = (
            await db.exec(
                select(PointEntry, Member.name)
                .join(Member, col(Member.id) == col(PointEntry.member_id))
                .where(
                    col(PointEntry.member_id).in_(members_query),
                    col(PointEntry.private).is_(False),
                    col(PointEntry.created_at) >= period.start,
                    col(PointEntry.created_at) < period.end,
                )
                .order_by(col(PointEntry.created_at), col(PointEntry.id))
                .limit(MAX_ROWS + 1)
            )
        ).all()
        sheets["积分流水"] = [["时间", "成员号", "姓名", "分数", "原因", "说明", "关联"]]
        for entry, name in entries:
            is_tip = entry.reason == LedgerReason.tip
            sheets["积分流水"].append(
                [
                    # a tip reward shows only its day and no tip number: an anonymous reporter stays unknown
                    when(entry.created_at, date_only=is_tip),
                    entry.member_id,
                    name,
                    entry.amount,
                    REASON_NAMES.get(entry.reason, entry.reason),
                    entry.note,
                    "" if is_tip else f"{entry.ref_type}:{entry.ref_id}",
                ]
            )

        if where.unit is not None:
            sheets["积分流水"] += await _anonymous_payout_lines(db, where.unit, period)
        if rights.is_officer and where.unit is not None:
            tips = (
                await db.exec(
                    select(Tip, Member.name, Unit.name)
                    .join(Member, col(Member.id) == col(Tip.reporter_id))
                    .join(Unit, col(Unit.id) == col(Tip.unit_id))
                    .where(
                        col(Tip.unit_id).in_(units_below(where.unit)),
                        col(Tip.created_at) >= period.start,
                        col(Tip.created_at) < period.end,
                    )
                    .order_by(col(Tip.id))
                    .limit(MAX_ROWS + 1)
                )
            ).all()
            first_text = await _first_texts(db, [tip.id for tip, _, _ in tips])
            sheets["线索"] = [["线索号", "单位", "类别", "状态", "提交时间", "地点", "内容", "报告人", "奖励积分"]] + [
                [
                    tip.id,
                    unit_name,
                    tip.category,
                    STATUS_NAMES.get(tip.status, tip.status),
                    when(tip.created_at),
                    tip.location_text or ("有定位" if tip.latitude is not None else ""),
                    first_text.get(tip.id, ""),
                    "匿名" if tip.anonymous else reporter,
                    "" if tip.anonymous else (tip.points or ""),
                ]
                for tip, reporter, unit_name in tips
            ]
        await audit(
            db, caller, rights.member, "export", where.name, start=period.start.isoformat(), end=period.end.isoformat()
        )
    content = await asyncio.to_thread(_workbook_bytes, sheets)
    stamp = local(period.start).strftime("%Y%m%d")
    return Export(
        file_name=f"义警数据_{where.name}_{stamp}.xlsx",
        content=content,
        scope_name=where.name,
        counts={name: min(len(rows) - 1, MAX_ROWS) for name, rows in sheets.items()},
        cut=[name for name, rows in sheets.items() if len(rows) - 1 > MAX_ROWS],
    )


async def _anonymous_payout_lines(db, unit: Unit, period: DateRange) -> list[list]:
    """The unit's anonymous tip rewards paid in the period, one line a payout, with no member on it."""
    payouts = (
        await db.exec(
            select(AnonymousPayout, Unit.name)
            .join(Unit, col(Unit.id) == col(AnonymousPayout.unit_id))
            .where(
                col(AnonymousPayout.unit_id).in_(units_below(unit)),
                col(AnonymousPayout.paid_at) >= period.start,
                col(AnonymousPayout.paid_at) < period.end,
            )
            .order_by(col(AnonymousPayout.paid_at))
        )
    ).all()
    return [
        [
            when(payout.paid_at, date_only=True),
            "",
            f"（{unit_name}）",
            payout.points,
            "匿名线索奖励",
            f"{payout.reporters} 人，不列姓名",
            "",
        ]
        for payout, unit_name in payouts
    ]


def _teams(where: Where):
    if where.team is not None:
        return select(Team.id).where(Team.id == where.team.id)
    return select(Team.id).where(col(Team.unit_id).in_(units_below(where.unit)))


async def _signups(db, task_ids: list[int], where: Where):
    if not task_ids:
        return []
    statement = (
        select(Signup, Member)
        .join(Member, col(Member.id) == col(Signup.member_id))
        .where(col(Signup.task_id).in_(task_ids))
        .order_by(col(Signup.task_id), col(Signup.id))
        .limit(MAX_ROWS + 1)
    )
    if where.team is not None:
        statement = statement.where(col(Signup.member_id).in_(team_members(where.team)))
    return (await db.exec(statement)).all()


async def _first_texts(db, tip_ids: list[int]) -> dict[int, str]:
    if not tip_ids:
        return {}
    first = (
        select(TipEntry.tip_id, func.min(TipEntry.id).label("first"))
        .where(col(TipEntry.tip_id).in_(tip_ids), TipEntry.kind == "report")
        .group_by(TipEntry.tip_id)
        .subquery()
    )
    rows = await db.exec(select(TipEntry.tip_id, TipEntry.text).join(first, first.c.first == col(TipEntry.id)))
    return dict(rows.all())


def _workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows[: MAX_ROWS + 1]:
            sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
