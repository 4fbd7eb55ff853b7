"""Points and standings as chat shows them: /积分, /排行榜 (its text and its picture's lines), /奖励, and the
weekly board, the monthly 义警之星 and the award notices (storage/services/standings.py)."""

from __future__ import annotations

from typing import Any

from plugins._texts import add_refusals, render_notice, render_picture
from plugins._texts.when import duration_text, period_text
from storage.models import LedgerReason
from storage.services.standings import (
    Award,
    Board,
    MonthlyStar,
    PointsAwarded,
    PointsSummary,
    WeeklyBoard,
)
from storage.services.when import local

REASON_NAMES: dict[str, str] = {
    LedgerReason.attendance: "出勤",
    LedgerReason.no_show: "未到扣分",
    LedgerReason.tip: "线索奖励",
    LedgerReason.award: "奖励",
    LedgerReason.penalty: "扣分",
    LedgerReason.redemption: "兑换",
    LedgerReason.refund: "兑换退回",
    LedgerReason.correction: "更正",
}
METRIC_NAMES = {"points": "积分", "minutes": "服务时长", "tips": "线索"}
CITY = "全市"


def reason_name(reason: str) -> str:
    """A ledger entry's reason as chat names it (出勤, 奖励, 兑换 ...)."""
    return REASON_NAMES.get(reason, reason)


def shown_value(metric: str, value: int) -> str:
    """15分, 2小时30分钟 (minutes served), 3条 (tips)."""
    if metric == "minutes":
        return duration_text(value)
    if metric == "tips":
        return f"{value}条"
    return f"{value}分"


def board_title(board: Board) -> str:
    """一队 2026年11月 积分榜; 历下分局 本月 分队人均服务时长榜."""
    what = "分队人均" if board.by_team is not None else ""
    scope = CITY if board.scope_name is None else board.scope_name
    return f"{scope} {period_text(board.period)} {what}{METRIC_NAMES[board.metric]}榜"


def board_rows(board: Board) -> list[tuple[int, str, str]]:
    """Each place of a board: rank, who (a member, or a team with its size) and the value."""
    if board.by_team is not None:
        return [
            (row.rank, f"{row.name}（{row.members}人）", f"人均 {shown_value(board.metric, round(row.per_member))}")
            for row in board.by_team
        ]
    return [(row.rank, row.name, shown_value(board.metric, row.value)) for row in board.rows]


def own_place(board: Board) -> str | None:
    """The caller's place (or their team's), when they are on the board."""
    if board.by_team is not None:
        return f"本队第 {board.own_team.rank} 名" if board.own_team is not None else None
    if board.own is not None:
        return f"你：第 {board.own.rank} 名，{shown_value(board.metric, board.own.value)}"
    return None


def text_for_board(board: Board) -> str:
    separator = "" if board.by_team is not None else "  "
    lines = [board_title(board)]
    lines += [f"{rank}. {who}{separator}{value}" for rank, who, value in board_rows(board)]
    if (own := own_place(board)) is not None:
        lines.append(own)
    if len(lines) == 1:
        lines.append(f"还没有人有{METRIC_NAMES[board.metric]}记录。")
    return "\n".join(lines)


def text_for_points(summary: PointsSummary) -> str:
    """/积分: balance, this month's points and places, the latest entries."""
    lines = [f"{summary.member.name}（成员号 {summary.member.id}）积分余额 {summary.balance} 分"]
    if summary.unseen:
        lines.append(f"其中匿名线索奖励 {summary.unseen} 分，只有你能看到")
    lines.append(f"{period_text(summary.month)}获得 {summary.month_points} 分")
    for label, name, standing in (
        ("队内", summary.team_name, summary.team_rank),
        ("单位", summary.unit_name, summary.unit_rank),
    ):
        if name:
            lines.append(f"本月{label}（{name}）" + (f"第 {standing.rank} 名" if standing else "暂未上榜"))
    if summary.recent:
        lines.append("最近记录：")
        for entry in summary.recent:
            reason = reason_name(entry.reason)
            note = f" {entry.note}" if entry.note and entry.note != reason else ""
            lines.append(f"· {local(entry.at):%m-%d} {entry.amount:+d} {reason}{note}")
    lines.append("排行榜：/排行榜　兑换奖品：/商城")
    return "\n".join(lines)


AWARD_NOT_DONE = "没有扣分。需要时重新发送 /奖励"
AWARD_TOO_LATE = "一分钟内没有回复，没有扣分。需要时重新发送 /奖励"
OVERDRAW_WORDS = ("透支", "扣满")


def text_for_award(done: Award) -> str:
    """What the officer reads after /奖励."""
    name = f"{done.member.name}（成员号 {done.member.id}）"
    if not done.changed:
        return f"刚才已经给{name}记过这笔（{done.asked:+d}，{done.reason}），没有重复记。"
    if done.asked < 0:
        if done.granted > done.asked:  # capped at what the member had: the figure is not said (anonymous rewards)
            return f"已扣{name}的积分，扣到 0 分为止（不够扣 {-done.asked} 分），理由：{done.reason}。已私信告知。"
        return f"已扣{name} {-done.asked} 分，理由：{done.reason}。已私信告知。"
    capped = f"（已到积分上限，实际记 {done.granted} 分）" if done.granted < done.asked else ""
    return f"已给{name}奖励 {done.granted} 分{capped}，理由：{done.reason}。已私信告知。"


@render_notice.register
def _awarded(notice: PointsAwarded) -> str:
    if notice.amount > 0:
        capped = f"（已到积分上限，实际 {notice.granted} 分）" if notice.granted < notice.amount else ""
        return f"你获得 {notice.granted} 分奖励{capped}，理由：{notice.reason}。现在共 {notice.balance} 分。"
    return f"你被扣 {-notice.granted} 分，理由：{notice.reason}。现在共 {notice.balance} 分。有疑问请联系民警。"


@render_notice.register
def _weekly_board(notice: WeeklyBoard) -> str:
    places = "\n".join([f"{place}. {name}  {points}分" for place, name, points in notice.places])
    return f"{notice.team} 上周（{period_text(notice.week)}）积分榜\n{places}\n查看更多：/排行榜 本周"


@render_notice.register
def _monthly_star(notice: MonthlyStar) -> str:
    return (
        f"🏅 {notice.team} {period_text(notice.month)}「义警之星」：{notice.member}！\n"
        f"上月获得 {notice.points} 分，服务 {shown_value('minutes', notice.minutes)}。感谢付出，向榜样学习！"
    )


@render_picture.register
def _certificate(notice: MonthlyStar) -> dict[str, Any]:
    """The 义警之星 certificate (plugins/_images.py certificate_image), with the words drawn on it."""
    return {
        "kind": "honour",
        "team": notice.team,
        "member": notice.member,
        "month": period_text(notice.month),
        "points": notice.points,
        "hours": shown_value("minutes", notice.minutes),
    }


REFUSALS = {
    "standings.no_team_here": "这里没有绑定队伍，你也还没有加入队伍：可以发送 /排行榜 全市",
    "standings.by_team_not_allowed": "分队排名只有队长和民警可以查看。可以发送 /排行榜 单位",
    "standings.by_team_not_covered": "分队排名只能看你管的单位：请在你的队伍群里发送 /排行榜 单位 分队",
    "standings.no_reason": "请写明理由，例如 /奖励 12 5 协助寻找走失老人",
    "standings.reason_too_long": "理由请写{most}个字以内。",
    "standings.bad_amount": "分数写 1 到 {most}，扣分写负数，例如 /奖励 12 -5 无故缺勤",
    "standings.officers_only": "只有民警可以奖励或扣分。",
    "standings.period_not_kept": "排行榜按周、月、年排：例如 /排行榜 上周、/排行榜 上月、/排行榜 10月、/排行榜 去年",
    "standings.penalty_beyond_balance": lambda name, member, amount, overdraft: (
        f"{name}（成员号 {member}）的积分不够扣 {amount} 分。回复“确认”扣到 0 分为止"
        + (f"；回复“透支”扣满 {amount} 分（余额会是负数）" if overdraft else "")
        + "；回复别的不扣。"
    ),
    "standings.nothing_to_take": "{name}（成员号 {member}）已经没有积分可扣，没有扣。",
    "standings.overdraft_not_allowed": "这里不允许把积分扣成负数，没有扣。",
    "standings.not_covered": "{name}（成员号 {member}）不在你管的单位的队伍里。",
}

add_refusals(REFUSALS)
