"""Emergency call-outs as chat shows them: the call, the officer's view of who answered, and the replies."""

from __future__ import annotations

from plugins._texts import add_refusals, render_notice
from storage.services.emergency import AlertCallNotice, AlertState, Closed, NeedReachedNotice, Raised, Response

REFUSALS = {
    "emergency.no_text": "请写清楚情况，例如 /紧急 走失老人，男，75岁，蓝色外套，最后出现在北园大街 需要10人",
    "emergency.too_long": "内容太长：不超过{most}个字。",
    "emergency.need_range": "需要的人数在 1 到 1000 之间。",
    "emergency.bad_eta": "预计时间写成 5分钟 这样的分钟数。",
    "emergency.members_only": "你还不是队员：在队伍群里发送 /加入 姓名",
    "emergency.over": "紧急呼叫 {number} 已经结束，谢谢你。",
    "emergency.not_for_you": "没有发给你的紧急呼叫 {number}。",
    "emergency.none_for_you": "现在没有发给你的紧急呼叫。",
    "emergency.not_visible": "没有编号为 {number} 的紧急呼叫，或你无权查看。",
    "emergency.points_range": "积分在 0 到 1000 之间。",
    "emergency.not_closable": "没有编号为 {number} 的紧急呼叫，或你无权结束。",
}


def text_for_alert_state(state: AlertState) -> str:
    head = f"紧急呼叫 {state.number}（{state.unit_path}）：{'已结束' if state.closed else '进行中'}"
    if state.escalated and not state.closed:
        head += "，已升级"
    lines = [head, f"响应 {state.count}/{state.need} 人"]
    for responder in state.responders:
        eta = f"，预计 {responder.eta_minutes} 分钟到" if responder.eta_minutes is not None else ""
        lines.append(f"{responder.name}：呼叫后 {responder.minutes_after:.1f} 分钟响应{eta}")
    if state.result:
        lines.append(f"结果：{state.result}")
    return "\n".join(lines)


def text_for_raised(raised: Raised) -> str:
    people = f"，并私信 {raised.people} 位有相应特长的队员" if raised.people else ""
    return (
        f"紧急呼叫 {raised.alert.id} 已发出：{raised.unit_path} 的 {raised.groups} 个队伍群{people}。\n"
        f"查看响应：/紧急 {raised.alert.id}；人数够了会通知你。"
    )


def text_for_response(response: Response, minutes: int | None) -> str:
    """`minutes`: the arrival time the volunteer wrote, if any."""
    state = response.state
    if response.eta_updated:
        return f"已更新：紧急呼叫 {state.number}，你预计 {minutes} 分钟到。民警查看响应时能看到。请注意安全！"
    if not response.changed:
        return f"你已经响应了紧急呼叫 {state.number}，谢谢！要更新预计时间：/响应 {state.number} 预计N分钟"
    arrival = f"，预计 {minutes} 分钟到" if minutes is not None else ""
    return f"已响应紧急呼叫 {state.number}{arrival}。现在 {state.count}/{state.need} 人。请注意安全！"


def text_for_closed(closed: Closed, points: int | None) -> str:
    """`points`: what the officer gave each responder, if anything."""
    lines = [text_for_alert_state(closed.state)]
    if not closed.changed:
        lines.insert(0, "这个紧急呼叫之前已经结束。")
    if points:
        lines.append(f"给 {closed.awarded} 位响应者各 {points} 分（已给过的不再给）。")
    return "\n".join(lines)


@render_notice.register
def _alert_call(notice: AlertCallNotice) -> str:
    head = "【紧急·升级】" if notice.escalated else "【紧急】"
    lines = [f"{head}{notice.unit_path}：{notice.text}", f"需要 {notice.need} 人"]
    if notice.tags:
        lines[-1] += f"，需要特长：{'、'.join(notice.tags)}"
    lines.append(f"能去的请回复：/响应 {notice.number} 预计N分钟（例如 /响应 {notice.number} 5分钟）")
    return "\n".join(lines)


@render_notice.register
def _need_reached(notice: NeedReachedNotice) -> str:
    return "人数已够！\n" + text_for_alert_state(notice.state)


add_refusals(REFUSALS)
