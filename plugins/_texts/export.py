"""/导出 as chat hands it over: the workbook's sheets, their columns and cells worded from the export's rows
(storage/services/export.py), its file name, and what the officer reads about it.

The titles and headings are words officers read, so they are here with the face rather than in storage; the
rows are facts any face could lay out in its own way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugins._texts import add_refusals
from plugins._texts.standings import reason_name
from plugins._texts.when import period_text
from storage.services import export
from storage.services.export import (
    AttendanceRow,
    Export,
    LedgerRow,
    MemberRow,
    PayoutRow,
    QualificationRow,
    SessionRow,
    TaskRow,
    TipRow,
)
from storage.services.tips import STATUS_NAMES as TIP_STATUS_NAMES
from storage.services.when import local

SIGNUP_NAMES = {"signed": "已报名", "waiting": "候补", "cancelled": "已取消", "attended": "已出勤", "no_show": "未到"}
TASK_STATUS_NAMES = {"open": "进行中", "cancelled": "已取消", "closed": "已结束"}
NOT_STARTED = "未开始"
"""An open task still to come."""
MEMBER_STATUS_NAMES = {"applied": "申请中", "active": "在队", "rejected": "未通过", "left": "已离队"}
TITLES = {"members": "成员", "tasks": "任务", "attendance": "出勤明细", "ledger": "积分流水", "tips": "线索",
          "sessions": "培训", "qualifications": "资质"}  # fmt: skip
QUALIFICATION_STATES = {"valid": "有效", "expiring": "将到期", "expired": "已过期"}
MEMBER_HEADINGS = ["成员号", "姓名", "手机", "队伍", "状态", "特长", "入队时间", "累计积分", "地区", "工作单位", "行业",
                   "职业", "身份证号", "紧急联系人", "保险公司", "保单号", "保险到期"]  # fmt: skip
HEADINGS = {
    "members": MEMBER_HEADINGS,
    "tasks": ["任务号", "类型", "地点", "开始", "结束", "状态", "名额", "报名", "签到", "未到", "服务小时"],
    "attendance": ["任务号", "成员号", "姓名", "状态", "签到", "签退", "服务分钟", "位置核验"],
    "ledger": ["时间", "成员号", "姓名", "分数", "原因", "说明", "关联"],
    "tips": ["线索号", "单位", "类别", "状态", "提交时间", "地点", "内容", "报告人", "奖励积分"],
    "sessions": ["任务号", "课程", "日期", "出勤"],
    "qualifications": ["成员号", "姓名", "队伍", "资质", "课程", "有效至", "状态"],
}
SEND_FAILED = "表格已生成，但发送文件失败了，请稍后再试。"


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{local(moment):%Y-%m-%d %H:%M}"


def _member(row: MemberRow) -> list:
    status = MEMBER_STATUS_NAMES.get(row.status, row.status)
    until = f"{row.insured_until:%Y-%m-%d}" if row.insured_until else ""
    return [
        row.member_id, row.name, row.phone, row.team, status, "、".join(row.tags), _when(row.joined_at), row.points,
        row.area, row.employer, row.industry, row.profession, row.id_number, row.emergency_contact, row.insurer,
        row.policy_number, until,
    ]  # fmt: skip


def _task(row: TaskRow) -> list:
    status = TASK_STATUS_NAMES.get(row.status, row.status)
    if row.status == "open" and not row.started:
        status = NOT_STARTED
    return [
        row.task_id,
        row.kind,
        row.place,
        _when(row.start_at),
        _when(row.end_at),
        status,
        row.capacity,
        row.signed,
        row.checked_in,
        row.no_shows,
        row.hours,
    ]


def _attendance(row: AttendanceRow) -> list:
    located = "" if row.distance_m is None else ("超出范围" if row.outside_radius else f"{row.distance_m}米")
    status = SIGNUP_NAMES.get(row.status, row.status)
    return [
        row.task_id,
        row.member_id,
        row.name,
        status,
        _when(row.checked_in_at),
        _when(row.checked_out_at),
        row.minutes,
        located,
    ]


def _ledger(row: LedgerRow | PayoutRow) -> list:
    if isinstance(row, PayoutRow):
        return [
            f"{row.day:%Y-%m-%d}",
            "",
            f"（{row.unit_name}）",
            row.points,
            "匿名线索奖励",
            f"{row.reporters} 人，不列姓名",
            "",
        ]
    at = _when(row.at) if isinstance(row.at, datetime) else f"{row.at:%Y-%m-%d}"
    ref = "" if row.ref is None else f"{row.ref[0]}:{row.ref[1]}"
    return [at, row.member_id, row.name, row.amount, reason_name(row.reason), row.note, ref]


def _tip(row: TipRow) -> list:
    return [
        row.tip_id,
        row.unit_name,
        row.category,
        TIP_STATUS_NAMES.get(row.status, row.status),
        _when(row.created_at),
        row.location_text or ("有定位" if row.located else ""),
        row.text,
        "匿名" if row.reporter is None else row.reporter,
        row.points or "",
    ]


def _session(row: SessionRow) -> list:
    return [row.task_id, f"{row.course_id} {row.course_name}", f"{row.day:%Y-%m-%d}", row.attended]


def _qualification(row: QualificationRow) -> list:
    until = "长期" if row.valid_until is None else f"{row.valid_until:%Y-%m-%d}"
    course = f"{row.course_id} {row.course_name}"
    state = QUALIFICATION_STATES.get(row.state, row.state)
    return [row.member_id, row.name, "、".join(row.teams), row.tag, course, until, state]


def sheets_for(made: Export) -> dict[str, list[list]]:
    """Sheet title → its rows, the heading first."""
    lists: dict[str, list[list]] = {
        "members": [_member(row) for row in made.members],
        "tasks": [_task(row) for row in made.tasks],
        "attendance": [_attendance(row) for row in made.attendance],
        "ledger": [_ledger(row) for row in made.ledger],
    }
    if made.tips is not None:
        lists["tips"] = [_tip(row) for row in made.tips]
    lists["sessions"] = [_session(row) for row in made.sessions]
    lists["qualifications"] = [_qualification(row) for row in made.qualifications]
    return {TITLES[name]: [HEADINGS[name], *rows] for name, rows in lists.items()}


@dataclass(frozen=True)
class ExportFile:
    file_name: str
    content: bytes
    scope_name: str
    counts: dict[str, int]
    """Rows per sheet, by the sheet's title."""
    cut: list[str]
    """The titles of the sheets cut at export.MAX_ROWS rows."""


def export_file(made: Export) -> ExportFile:
    """The XLSX file of an export (CPU-bound for a large one: run it in a thread)."""
    sheets = sheets_for(made)
    return ExportFile(
        file_name=f"义警数据_{made.scope_name}_{local(made.period.start):%Y%m%d}.xlsx",
        content=export.workbook_bytes(sheets),
        scope_name=made.scope_name,
        counts={title: len(rows) - 1 for title, rows in sheets.items()},
        cut=[TITLES[name] for name in made.cut],
    )


def text_for_export(made: Export, file: ExportFile, saved_at: Path | None = None) -> str:
    """What the officer reads: the rows of each sheet, what was cut, and (on the console) where the file is."""
    counts = "，".join(f"{name} {count} 行" for name, count in file.counts.items())
    if file.cut:
        most = export.MAX_ROWS
        counts += f"（{'、'.join(file.cut)}超过 {most} 行，只导出了前 {most} 行：请缩短时间段或写单位）"
    done = f"已导出 {made.scope_name} {period_text(made.period)}：{counts}。"
    return done + (f"\n文件：{saved_at}" if saved_at is not None else "文件随后发来，请妥善保管。")


REFUSALS = {
    "export.leaders_and_officers": "导出只有队长和民警可以使用。",
}

add_refusals(REFUSALS)
