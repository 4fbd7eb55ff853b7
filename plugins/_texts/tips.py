"""Tips as chat shows them: to the reporter, to officers (never who sent an anonymous tip), and their notices."""

from __future__ import annotations

from plugins._texts import add_refusals, render_notice
from plugins._texts.when import describe
from storage.models import Tip, TipStatus, Unit
from storage.services.anonymous_rewards import AnonymousRewardPaidNotice
from storage.services.tips import (
    CATEGORIES,
    OLD_STATUS,
    STATUS_NAMES,
    Decision,
    MyTip,
    NamedReporter,
    NewTipNotice,
    Receipt,
    TipAddedNotice,
    TipDismissedNotice,
    TipLine,
    TipQuestionNotice,
    TipSummary,
    TipTakenNotice,
    TipVerifiedNotice,
    TipView,
)

ENTRY_NAMES = {"report": "举报", "addition": "补充", "question": "民警问", OLD_STATUS: "状态"}
ENTRY_NAMES |= {status.value: "状态" for status in TipStatus}


def _closed(number: int, status: str) -> str:
    return f"线索 {number} 已{STATUS_NAMES[status]}。"


def _closed_to_additions(number: int, status: str) -> str:
    return f"线索 {number} 已{STATUS_NAMES[status]}，不能再补充；有新情况请重新报 /线索"


def _closed_to_verifying(number: int, status: str) -> str:
    return f"线索 {number} 已{STATUS_NAMES[status]}，不能再核实。"


REFUSALS = {
    "tips.bad_category": f"线索类别请选：{'、'.join(CATEGORIES)}",
    "tips.no_text": "请写下发生了什么：时间、地点、人和事。",
    "tips.report_too_long": "内容太长：一次最多{most}个字，其余可以用 /补充 发送。",
    "tips.too_long": "内容太长：一次最多{most}个字。",
    "tips.too_many_photos": "照片一次最多{most}张。",
    "tips.photo_too_big": "照片太大：每张不超过{most_mb}MB。",
    "tips.photo_unreadable": "有一张照片打不开，请换一张再发。",
    "tips.photo_not_received": "有照片没有收到，请再发一次。",
    "tips.anonymous_or_named": "请回复“匿名”或“实名”。",
    "tips.confirm_or_cancel": "回复“确认”提交，回复“取消”放弃。",
    "tips.members_only": "报线索要先成为队员：在队伍群里发送 /加入 姓名，审核通过后再报。",
    "tips.nothing_added": "请写补充的内容，例如 /补充 12 他们每晚十点以后聚集",
    "tips.not_yours": "你没有编号为 {number} 的线索：发送 /我的线索 查看。",
    "tips.closed_to_additions": _closed_to_additions,
    "tips.not_visible": "没有编号为 {number} 的线索，或你无权查看（只有线索所在单位及上级单位的民警可以）。",
    "tips.closed_to_verifying": _closed_to_verifying,
    "tips.points_range": "奖励积分要在 0 到 1000 之间。",
    "tips.no_reason": "请写驳回理由，例如 /驳回 12 经核查不属实；重复的写 /驳回 12 重复 8",
    "tips.closed": _closed,
    "tips.no_original": "没有可以对应的线索 {number}：重复的线索要是同一单位更早的一条。",
    "tips.no_question": "请写要问的话，例如 /回复线索 12 请问大概几点开始？",
    "tips.team_group": "这是队员的队伍群，不能设为警务群：线索的消息只能发到只有民警的群。",
}


def text_for_receipt(receipt: Receipt) -> str:
    who = "匿名" if receipt.tip.anonymous else "实名"
    return (
        f"线索已提交，编号 {receipt.tip.id}（{receipt.tip.category}，{who}）。民警核查后会告诉你结果。\n"
        f"有新情况发送：/补充 {receipt.tip.id} 内容；查看：/我的线索"
    )


def text_for_addition(tip: Tip) -> str:
    return f"已补充到线索 {tip.id}。"


def text_for_my_tips(mine: list[MyTip]) -> str:
    if not mine:
        return "你还没有报过线索。报线索：/线索"
    lines = ["你的线索："]
    lines += [f"{tip.number}｜{tip.category}｜{STATUS_NAMES[tip.status]}｜{describe(tip.created_at)}" for tip in mine]
    lines.append("补充：/补充 编号 内容")
    return "\n".join(lines)


def text_for_reporter(reporter: NamedReporter | None) -> str:
    """Who reported the tip, as an officer reads it: 匿名, or the name, member number and masked phone."""
    if reporter is None:
        return "匿名"
    return f"{reporter.name}（成员号 {reporter.member_number}，{reporter.phone_masked}）"


def _entry_text(number: int, line: TipLine) -> str:
    if line.kind == TipStatus.reviewing:
        return "核查中"
    if line.kind == TipStatus.verified:
        return f"已核实 {line.text}".strip()
    if line.kind in (TipStatus.rejected, TipStatus.duplicate):
        duplicate = line.kind == TipStatus.duplicate
        return _tip_dismissed(TipDismissedNotice(number=number, reason=line.text, duplicate=duplicate))
    return line.text


def text_for_tip_view(view: TipView) -> str:
    """The tip and its history, for the officer who opened it (the photos are sent with it)."""
    lines = [
        f"线索 {view.number}｜{view.category}｜{STATUS_NAMES[view.status]}｜{view.unit_path}",
        f"举报人：{text_for_reporter(view.reporter)}",
        f"时间：{describe(view.created_at)}",
    ]
    if view.handler:
        lines.append(f"处理民警：{view.handler}")
    if view.latitude is not None and view.longitude is not None:
        lines.append(f"位置：{view.latitude:.5f},{view.longitude:.5f}")
    if view.location_text:
        lines.append(f"地点：{view.location_text}")
    for line in view.history:
        photos = f"（照片 {len(line.photos)} 张）" if line.photos else ""
        name = ENTRY_NAMES.get(line.kind, line.kind)
        lines.append(f"{describe(line.at)} {name}：{_entry_text(view.number, line)}{photos}")
    number = view.number
    lines.append(f"核实：/核实 {number} 积分 备注　驳回：/驳回 {number} 理由　问举报人：/回复线索 {number} 内容")
    return "\n".join(lines)


def text_for_tip_list(listed: list[TipSummary]) -> str:
    if not listed:
        return "没有这样的线索。"
    lines = ["线索列表："]
    for tip in listed:
        handler = f"｜{tip.handler}处理中" if tip.handler and tip.status == TipStatus.reviewing else ""
        status = STATUS_NAMES[tip.status]
        lines.append(f"{tip.number}｜{tip.category}｜{status}｜{tip.unit_path}｜{describe(tip.created_at)}{handler}")
    lines.append("查看：/线索 编号")
    return "\n".join(lines)


def text_for_verified(decision: Decision) -> str:
    if not decision.changed:
        return f"线索 {decision.number} 之前已经核实，没有再发积分。"
    if decision.anonymous and decision.points:
        return (
            f"线索 {decision.number} 已核实，已通知举报人。奖励 {decision.points} 分会在每周匿名奖励发放时"
            "和本单位其他匿名奖励一起到账，只有举报人能看到。"
        )
    return f"线索 {decision.number} 已核实，给举报人 {decision.points} 分，已通知举报人。"


def text_for_dismissed(decision: Decision, duplicate_of: int | None) -> str:
    state = f"标为线索 {duplicate_of} 的重复" if duplicate_of else "驳回"
    return f"线索 {decision.number} 已{state}，已通知举报人。"


def text_for_reply(number: int) -> str:
    return f"已转给线索 {number} 的举报人（不显示你的名字）。对方会用 /补充 回答。"


def text_for_police_group(unit: Unit) -> str:
    return f"本群已设为“{unit.path}”的警务群：新线索的编号和类别会发到这里，内容只在私聊查看。"


@render_notice.register
def _new_tip(notice: NewTipNotice) -> str:
    number = notice.number
    return f"新线索 {number}（{notice.category}），单位：{notice.unit_path}。请私聊我发送 /线索 {number} 查看。"


@render_notice.register
def _tip_added(notice: TipAddedNotice) -> str:
    return f"线索 {notice.number} 有补充，请私聊我发送 /线索 {notice.number} 查看。"


@render_notice.register
def _tip_taken(notice: TipTakenNotice) -> str:
    return f"你的线索 {notice.number} 已有民警在核查。"


@render_notice.register
def _tip_verified(notice: TipVerifiedNotice) -> str:
    reward = f"，奖励 {notice.points} 分" if notice.points else ""
    told = f"你的线索 {notice.number} 已核实{reward}。谢谢你！"
    if notice.anonymous and notice.points:
        told += "为了不让人从时间和分数上认出你，匿名线索的奖励每周和同单位的其他奖励一起发放，到账时会告诉你。"
    return told


@render_notice.register
def _tip_dismissed(notice: TipDismissedNotice) -> str:
    if notice.duplicate:
        return f"你的线索 {notice.number} 与更早的一条相同，已合并处理。谢谢你！"
    return f"你的线索 {notice.number} 经核查未予采纳：{notice.reason}"


@render_notice.register
def _tip_question(notice: TipQuestionNotice) -> str:
    return f"民警回复（线索 {notice.number}）：{notice.question}\n回答请发送：/补充 {notice.number} 你的回答"


@render_notice.register
def _anonymous_reward_paid(notice: AnonymousRewardPaidNotice) -> str:
    return (
        f"你的匿名线索奖励 {notice.points} 分已到账（只有你能看到），现在共 {notice.balance} 分。可以发送 /商城 兑换。"
    )


add_refusals(REFUSALS)
