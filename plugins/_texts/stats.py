"""/统计 as chat shows it: the figures of a team or a unit over a period (storage/services/stats.py), and the
refusals of who may see them (which /导出 shares)."""

from __future__ import annotations

from datetime import date

from plugins._texts import add_refusals
from plugins._texts.when import period_text
from storage.services.stats import Report, Training

SHOWN_TAGS = 8
"""/统计 names at most this many qualifications; the rest are counted."""


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def day_label(day: date, weekly: bool) -> str:
    """A bar of a team's chart: 11/3, or 11/3起 for the week from that Monday."""
    return f"{day.month}/{day.day}起" if weekly else f"{day.month}/{day.day}"


def text_for_report(result: Report) -> str:
    total = result.total
    lines = [
        f"{total.name} {period_text(result.period)} 统计",
        f"巡逻 {total.patrols} 人次，签到 {total.checkins} 人次，服务 {total.hours} 小时",
        f"任务 {total.tasks} 个，出勤率 {_percent(total.attendance_rate)}，缺勤率 {_percent(total.no_show_rate)}",
        f"线索 收到 {total.tips} 条，核实 {total.tips_verified} 条",
        f"隐患 {total.hazards} 起，矛盾纠纷 {total.disputes} 起",
        f"新队员 {total.new_members} 人",
    ]
    if result.total.alerts or result.parts:
        wait = total.alert_median_seconds
        shown = "—" if wait is None else (f"{wait / 60:.1f} 分钟" if wait >= 60 else f"{wait:.0f} 秒")
        lines.append(f"紧急呼叫 {total.alerts} 次，首个响应中位数 {shown}")
    if result.training is not None and result.training.anything:
        lines += _training_lines(result.training)
    if result.parts:
        lines.append("分项（巡逻人次 / 服务小时 / 出勤率）：")
        lines += [
            f"· {part.name}：{part.patrols} / {part.hours} / {_percent(part.attendance_rate)}" for part in result.parts
        ]
    return "\n".join(lines)


def _training_lines(training: Training) -> list[str]:
    lines = [
        f"培训 {training.sessions} 场 {training.attended} 人次，"
        f"线上考试 {training.quiz_attempts} 次，通过率 {_percent(training.pass_rate)}"
    ]
    if training.holdings:
        shown = "；".join(f"{h.tag} {h.valid} / {h.expiring} / {h.expired}" for h in training.holdings[:SHOWN_TAGS])
        more = len(training.holdings) - SHOWN_TAGS
        day = training.day
        lines.append(
            f"资质人数（{day.month}月{day.day}日 有效 / 其中30天内到期 / 已过期未复训）：{shown}"
            + (f"；另有 {more} 项" if more > 0 else "")
        )
    return lines


REFUSALS = {
    "stats.no_such_unit": "没有你能查看的单位“{unit}”。",
    "stats.which_team": "请在队伍群里发送 /统计 队伍，或写单位：/统计 本月 单位:历下分局",
    "stats.not_your_team": "统计只有本队队长和民警可以查看。",
    "stats.leaders_and_officers": "统计只有队长和民警可以查看。",
}

add_refusals(REFUSALS)
