"""Taking over a roster record (storage/services/claims.py) as chat shows it: the applicant is told it waits, the
team's leaders are asked to check it is the same person, and /审核 lists what waits."""

from __future__ import annotations

from plugins._texts import add_refusals, render_notice
from storage.services.claims import (
    CLAIM_LIFETIME,
    ClaimDecided,
    ClaimDecidedNotice,
    ClaimLapsedNotice,
    ClaimNotice,
    ClaimWaiting,
    PendingClaim,
)

CLAIM_USAGE = "确认名册认领：/认领 编号 通过\n不是本人：/认领 编号 拒绝 理由\n编号见 /审核"
APPROVE_WORDS = ("通过", "确认", "同意", "是", "pass", "yes")
REJECT_WORDS = ("拒绝", "不通过", "不是", "否", "reject", "no")

add_refusals(
    {
        "claims.no_such_claim": "没有编号为 {number} 的待确认认领（可能已经处理过了）。待确认的认领见 /审核。",
        "claims.record_gone": "认领 {number} 要的名册记录已经注销，不能确认了：请发送 /认领 {number} 拒绝。",
        "claims.account_joined_meanwhile": (
            "认领 {number} 的账号已经作为别的队员加入了，不能再确认：请发送 /认领 {number} 拒绝。"
        ),
        "claims.record_taken_meanwhile": (
            "{name}的名册记录已经绑定了另一个账号，不能再确认：请发送 /认领 {number} 拒绝。"
        ),
    }
)


def text_for_claim_waiting(waiting: ClaimWaiting) -> str:
    return (
        f"名册里已有“{waiting.team}”的{waiting.name}。为了确认是你本人，要等队长或民警核对，"
        "确认后会私聊通知你，之后就能用这个账号报名、签到了。"
    )


def text_for_claims(claims: list[PendingClaim], total: int) -> str:
    """/审核's part for claims: shown only while some wait."""
    lines = [f"待确认的名册认领（共 {total} 个，请先核对是本人）："]
    for claim in claims:
        who = f"{claim.name}（成员号 {claim.member_number}）｜{claim.phone_masked}"
        lines.append(f"认领 {claim.number}｜{who}｜{claim.team_name}")
    if total > len(claims):
        lines.append(f"还有 {total - len(claims)} 个，先处理上面这些。")
    lines.append("确认：/认领 编号 通过　不是本人：/认领 编号 拒绝 理由")
    return "\n".join(lines)


def text_for_claim_decided(decided: ClaimDecided) -> str:
    if decided.approved:
        return f"已确认：这个账号就是{decided.name}（成员号 {decided.member_number}，“{decided.team}”），已通知本人。"
    return f"已拒绝认领 {decided.number}（{decided.name}），已通知申请人。"


@render_notice.register
def _claim(notice: ClaimNotice) -> str:
    return (
        f"有人申请认领名册里的{notice.name}（成员号 {notice.member_number}，“{notice.team}”），认领编号 "
        f"{notice.number}。请先核对是本人（当面或打电话），再发送 /认领 {notice.number} 通过；"
        f"不是本人就发送 /认领 {notice.number} 拒绝 理由。"
    )


@render_notice.register
def _claim_decided(notice: ClaimDecidedNotice) -> str:
    if notice.approved:
        return (
            f"{notice.name}，已确认你就是“{notice.team}”名册里的{notice.name}（成员号 {notice.member_number}），"
            "这个账号现在可以用了。发送 /帮助 看看能做什么。"
        )
    why = f"：{notice.reason}" if notice.reason else ""
    return f"你认领“{notice.team}”名册里的{notice.name}没有通过{why}。如有疑问请联系队长。"


@render_notice.register
def _claim_lapsed(notice: ClaimLapsedNotice) -> str:
    return (
        f"你认领“{notice.team}”名册里的{notice.name}，{CLAIM_LIFETIME.days}天内没有人确认，已作废，"
        "填写的内容没有保存。请联系队长后重新申请。"
    )
