"""Leaving a team (/退出), suspension (/停用) and reinstatement (/恢复) as chat shows them."""

from __future__ import annotations

from plugins._texts import add_group_refusals, add_refusals, render_notice
from storage.services.lifecycle import (
    Leaving,
    Left,
    MemberLeftNotice,
    ReinstatedNotice,
    StandingChanged,
    SuspendedNotice,
)

LEAVE_USAGE = "退出队伍：/退出（只在一个队伍时），或 /退出 队伍名，例如 /退出 夕阳红巡逻队"
SUSPEND_USAGE = "停用队员（民警）：/停用 成员号 理由，例如 /停用 12 多次无故缺勤"
REINSTATE_USAGE = "恢复队员（民警）：/恢复 成员号，例如 /恢复 12"
CONFIRM_SECONDS = 60
LEAVE_NOT_DONE = "没有退出，什么也没有改。"
LEAVE_TOO_LATE = "一分钟内没有回复“确认”，没有退出。需要时重新发送 /退出"

ACTS = {"suspend": "停用", "reinstate": "恢复"}


def _names(names: tuple[str, ...]) -> str:
    return "、".join(f"“{name}”" for name in names)


REFUSALS = {
    "standing.suspended": lambda reason: f"你的队员资格已被停用{'：' + reason if reason else ''}。如有疑问请联系民警。",
    "lifecycle.in_no_team": "你现在不在任何队伍里，不用退出。",
    "lifecycle.not_in_that_team": lambda names: f"你不在这个队伍里。你的队伍：{_names(names)}，例如 /退出 {names[0]}",
    "lifecycle.which_team": lambda names: f"你在几个队伍里：{_names(names)}。请写要退出哪个，例如 /退出 {names[0]}",
    "lifecycle.reason_needed": SUSPEND_USAGE + "（理由会告诉本人）",
    "lifecycle.reason_too_long": "理由太长：请写{most}个字以内。",
    "lifecycle.officers_only": lambda act: f"只有民警可以{ACTS.get(act, '停用或恢复')}队员。",
    "lifecycle.not_your_member": lambda number: (
        f"你管的单位里没有成员号 {number} 的队员：请检查成员号。"
        if number is not None
        else "你管的单位里没有这个队员：请写成员号，例如 /停用 12 理由"
    ),
    "lifecycle.not_yourself": lambda act: f"不能{ACTS.get(act, '停用或恢复')}你自己。",
}


def _task_ids(tasks) -> str:
    return "、".join(str(task.id) for task in tasks)


def text_for_leaving(preview: Leaving) -> str:
    cancels = f"你报名的任务 {_task_ids(preview.tasks)} 会一并取消。" if preview.tasks else ""
    return (
        f"你要退出“{preview.team}”。{cancels}退出后要重新申请才能回来。\n"
        f"确认退出请在一分钟内回复“确认”，回复别的就不退出。"
    )


def text_for_left(left: Left) -> str:
    if not left.changed:
        return f"你已经退出“{left.team}”了。"
    cancelled = f"已取消你在任务 {_task_ids(left.cancelled)} 的报名。" if left.cancelled else ""
    return f"你已退出“{left.team}”。{cancelled}以前的记录和积分都还在。想回来可以重新 /加入。"


def text_for_suspended(result: StandingChanged, in_group: bool) -> str:
    """The officer's answer; in a group without the reason (the member is told it privately)."""
    member = result.member
    who = f"{member.name}（成员号 {member.id}）"
    if not result.changed:
        reason = "" if in_group else f"（理由：{member.status_reason or '未写'}）"
        return f"{who}已经是停用状态{reason}。恢复：/恢复 {member.id}"
    told = "已私信告知本人。" if result.told else "本人还没有绑定账号，没能通知。"
    cancelled = f"已取消其任务 {_task_ids(result.cancelled)} 的报名（候补的人已递补）。" if result.cancelled else ""
    reason = "" if in_group else f"，理由：{member.status_reason}"
    return f"已停用{who}{reason}。{cancelled}停用期间不能报名、签到和兑换。{told}恢复：/恢复 {member.id}"


def text_for_reinstated(result: StandingChanged) -> str:
    member = result.member
    who = f"{member.name}（成员号 {member.id}）"
    if not result.changed:
        return f"{who}没有被停用，不用恢复。"
    told = "已私信告知本人。" if result.told else "本人还没有绑定账号，没能通知。"
    return f"已恢复{who}的队员资格。{told}"


@render_notice.register
def _member_left(notice: MemberLeftNotice) -> str:
    cancelled = f"，已取消其任务 {'、'.join(map(str, notice.cancelled))} 的报名" if notice.cancelled else ""
    return f"{notice.member_name}（成员号 {notice.member_id}）已退出“{notice.team}”{cancelled}。"


@render_notice.register
def _suspended(notice: SuspendedNotice) -> str:
    cancelled = f"你在任务 {'、'.join(map(str, notice.cancelled))} 的报名已取消。" if notice.cancelled else ""
    return (
        f"你的队员资格已被民警停用，理由：{notice.reason}。{cancelled}"
        "停用期间不能报名、签到和兑换积分。如有疑问请联系民警。"
    )


@render_notice.register
def _reinstated(notice: ReinstatedNotice) -> str:
    return "民警已恢复你的队员资格，可以正常报名、签到和兑换了。"


GROUP_REFUSALS = {
    # the reason is the member's own business: in a group only that there is one, and where to read it
    "standing.suspended": (
        "你的队员资格已被停用，原因民警已私信告诉你（私聊我发同样的命令也能看到）。如有疑问请联系民警。"
    ),
}

add_refusals(REFUSALS)
add_group_refusals(GROUP_REFUSALS)
