"""Insurance (/保险) as chat shows it: a policy recorded, a member's policy, the reminders before it runs out."""

from __future__ import annotations

from datetime import date

from plugins._texts import add_refusals, render_notice
from storage.services.insurance import (
    InsuranceExpiringNotice,
    InsuranceRecordedNotice,
    MemberInsuranceExpiringNotice,
    OwnPolicy,
    Policy,
    PolicyRecorded,
    mask_policy,
)

RECORD_EXAMPLE = "/保险 12 中国人寿 PICC20270001 2027-6-30"
USAGE = (
    "看自己的保险：/保险\n"
    f"民警登记保险：/保险 成员号 保险公司 保单号 有效期至，例如 {RECORD_EXAMPLE}\n"
    "民警查看队员的保险：/保险 成员号"
)


def day_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _not_insured(task_id: int, day: date, unit: str) -> str:
    whom = f"“{unit}”的民警" if unit else "你所在单位的民警"
    return (
        f"任务 {task_id} 要求参加的人在{day_text(day)}有有效的保险，你还没有登记保险或已过期，暂时不能报名。"
        f"请联系{whom}登记保险（发送 /保险 可以看你的保险）。"
    )


REFUSALS = {
    "insurance.officers_only": "只有民警可以登记和查看队员的保险。看自己的保险请发送 /保险",
    "insurance.not_your_member": lambda number: (
        f"你管的单位里没有成员号 {number} 的队员：请检查成员号。"
        if number is not None
        else "你管的单位里没有这个队员：请写成员号，例如 " + RECORD_EXAMPLE
    ),
    "insurance.no_date": f"请写保险有效期至哪天，例如 {RECORD_EXAMPLE}",
    "insurance.bad_date": "看不懂日期“{text}”：请写有效期至哪天，例如 2027-6-30 或 2027年6月30日。",
    "insurance.date_not_a_day": "“{text}”不是某一天：请写有效期的最后一天，例如 2027-6-30。",
    "insurance.date_past": lambda day: f"有效期至{day_text(day)}已经过了：请写新保单的有效期，例如 2027-6-30。",
    "insurance.bad_insurer": f"保险公司写名称（不超过{{most}}个字），例如 {RECORD_EXAMPLE}",
    "insurance.bad_policy_number": (f"保单号只写字母、数字和横线（不超过{{most}}位），例如 {RECORD_EXAMPLE}"),
    "insurance.not_insured": _not_insured,
}


def _policy_line(policy: Policy, masked: bool) -> str:
    number = mask_policy(policy.policy_number) if masked else policy.policy_number
    state = "有效" if policy.valid else "已过期"
    return f"{policy.insurer}，保单号 {number}，有效期至{day_text(policy.valid_until)}（{state}）"


def text_for_recorded(result: PolicyRecorded, masked: bool) -> str:
    policy = result.policy
    who = f"{policy.member_name}（成员号 {policy.member_id}）"
    if not result.changed:
        return f"{who}的这份保险已经登记过：{_policy_line(policy, masked)}。"
    told = "已私信告知本人。" if result.told else "本人还没有绑定账号，没能通知。"
    return f"已为{who}登记保险：{_policy_line(policy, masked)}。{told}"


def text_for_member_policy(member_number: int, policy: Policy | None, masked: bool) -> str:
    if policy is None:
        return f"成员号 {member_number} 还没有登记保险。登记：/保险 {member_number} 保险公司 保单号 有效期至"
    return f"{policy.member_name}（成员号 {policy.member_id}）的保险：{_policy_line(policy, masked)}。"


OFFICER_HINT = f"登记队员的保险：/保险 成员号 保险公司 保单号 有效期至，例如 {RECORD_EXAMPLE}；查看：/保险 成员号"


def text_for_own_policy(own: OwnPolicy) -> str:
    hint = f"\n{OFFICER_HINT}" if own.is_officer else ""
    if own.name is None:
        return OFFICER_HINT
    if own.policy is None:
        return f"{own.name}，你还没有登记保险。请联系民警登记（保险公司、保单号、有效期）。{hint}"
    line = _policy_line(own.policy, masked=True)
    if not own.policy.valid:
        return f"{own.name}，你的保险已过期：{line}。续保后请联系民警登记新保单。{hint}"
    return f"{own.name}，你的保险：{line}。{hint}"


@render_notice.register
def _recorded(notice: InsuranceRecordedNotice) -> str:
    return (
        f"民警已为你登记保险：{notice.insurer}，保单号 {notice.policy_number}，"
        f"有效期至{day_text(notice.valid_until)}。发送 /保险 可以随时查看。"
    )


def _left(days_left: int) -> str:
    return "今天到期" if days_left == 0 else f"还有{days_left}天"


@render_notice.register
def _expiring(notice: InsuranceExpiringNotice) -> str:
    return (
        f"提醒：你的保险（{notice.insurer}，保单号 {notice.policy_number}）有效期至{day_text(notice.valid_until)}，"
        f"{_left(notice.days_left)}。续保后请联系民警登记新保单，过期后参加任务没有保险保障。"
    )


@render_notice.register
def _member_expiring(notice: MemberInsuranceExpiringNotice) -> str:
    return (
        f"提醒：队员{notice.member_name}（成员号 {notice.member_id}）的保险有效期至{day_text(notice.valid_until)}，"
        f"{_left(notice.days_left)}。请提醒续保，续保后由民警登记新保单。"
    )


add_refusals(REFUSALS)
