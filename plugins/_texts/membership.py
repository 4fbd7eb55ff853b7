"""Joining and vetting as chat shows them, a member's own page, and the rules for names, phones and specialties."""

from __future__ import annotations

from plugins._texts import add_refusals, render_notice
from storage.models import MembershipStatus
from storage.services.membership import (
    Application,
    ApplicationDecidedNotice,
    Decision,
    OnboardingStep,
    PendingApplication,
    Profile,
    Review,
)
from storage.services.people import Specialty, mask_phone, specialties_of
from storage.settings import settings

DECIDED_ALREADY = {"active": "已是正式队员", "rejected": "已被拒绝", "left": "已退出"}
MEMBERSHIP_STATUS_NAMES = {
    MembershipStatus.applied.value: "待审核",
    MembershipStatus.active.value: "正式队员",
    MembershipStatus.rejected.value: "未通过",
    MembershipStatus.left.value: "已退出",
}
MEMBER_STATUS_NAMES = {"applied": "待审核", "active": "正常", "suspended": "暂停", "left": "已退出"}


VERIFIED_MARK = "✓"
"""After a specialty an officer verified or added (/标签)."""


def specialties_text(specialties: list[Specialty]) -> str:
    return "、".join(s.tag + (VERIFIED_MARK if s.verified else "") for s in specialties) or "无"


def _decided_already(number: int, name: str, status: str) -> str:
    return f"申请 {number}（{name}）{DECIDED_ALREADY[status]}，无需再审。"


REFUSALS = {
    # names, phones and specialties (storage/services/people.py)
    "people.bad_phone": "手机号不对：请填11位大陆手机号，例如 13800138000。",
    "people.phone_length": "手机号位数不对：写了{count}位，手机号是11位数字，例如 13800138000（空格、横线都可以）。",
    "people.phone_not_mobile": "手机号以1开头：请填11位大陆手机号，例如 13800138000。",
    "people.phone_has_letters": "手机号里有字母：请只写数字，例如 13800138000（注意 0 和 o、1 和 l）。",
    "people.name_length": "姓名写{least}到{most}个字，例如 张三。",
    "people.name_is_a_number": "第一个填姓名，第二个填手机号，例如：/加入 张三 13800138000 驾驶",
    "people.name_not_plain": (
        "姓名只写汉字或字母（{least}到{most}个字，几部分之间可用·，如 阿依古丽·买买提），"
        "不要数字、表情或符号，例如 张三。"
    ),
    "people.tag_too_long": "特长“{tag}”太长：每个特长不超过{most}个字，例如 救援 医护 驾驶。",
    "people.too_many_tags": "特长最多填{most}个。",
    # joining
    "membership.group_not_bound": "本群还没有绑定队伍，暂时不能加入。请联系民警先发送 /绑定队伍 队伍名",
    "membership.nothing_begun": "请先在你的队伍群里发送 /加入 姓名，或私聊我发送 /加入 邀请码。",
    "membership.phone_taken": "这个手机号已被别人登记：请检查号码，或联系队长。",
    "membership.phone_under_other_name": "这个手机号已登记在别的姓名下：请检查姓名和号码，或联系队长。",
    "membership.phone_on_other_account": "这个手机号已绑定了另一个账号：请用原账号操作，或联系队长。",
    # vetting
    "membership.group_not_bound_for_review": "本群还没有绑定队伍。私聊我发送 /审核 可以看你管的所有队伍。",
    "membership.review_this_team_only": "只有本队队长和民警可以审核。",
    "membership.review_leaders_and_officers_only": "只有队长和民警可以审核。",
    "membership.review_team_only": "只有“{team}”的队长和民警可以审核。",
    "membership.decided_already": _decided_already,
    "membership.no_such_application": "没有编号为 {number} 的申请：发送 /审核 查看待审核的申请。",
    "membership.which_application": "请写申请编号或 @ 申请人，例如 /通过 12（编号见 /审核）。",
    "membership.several_applications": "{name}申请了几个队伍：请用申请编号，发送 /审核 查看。",
    "membership.nothing_to_decide": "{name}没有待审核的申请。",
}


def text_for_application(application: Application) -> str:
    team = application.team.name
    if application.already_member:
        return f"{application.member.name}，你已经是“{team}”的队员了。发送 /我的 查看。"
    if not application.created:
        return f"{application.member.name}，你的申请（编号 {application.number}）已在等待审核，不用重复申请。"
    if application.onboarding is not None:
        steps = "民警政审、你完成课程" if application.waits_for_vetting else "你完成课程"
        return (
            f"已收到{application.member.name}加入“{team}”的申请，编号 {application.number}。\n"
            f"下一步：{steps}“{application.onboarding.course}”，再由队长审批，每一步都会通知你。\n"
            + onboarding_how(application.onboarding)
        )
    if application.waits_for_vetting:
        return (
            f"已收到{application.member.name}加入“{team}”的申请，编号 {application.number}。\n"
            "下一步由民警政审，再由队长审批，每一步都会通知你。"
        )
    return (
        f"已收到{application.member.name}加入“{team}”的申请，编号 {application.number}。\n"
        "队长或民警审核后会通知你。队长请发送 /审核 查看。"
    )


def onboarding_how(step: OnboardingStep) -> str:
    """How an applicant completes the onboarding course."""
    if step.course_id is None:
        return "这门课程民警还没有建好，建好后会安排。"
    if step.online:
        return f"私聊我发送 /学习 {step.course_id} 学习并考试，及格就完成。"
    return "参加这门课程的培训后，由民警登记完成（/结业）。"


def text_for_pending(applications: list[PendingApplication], total: int) -> str:
    if not applications:
        return "现在没有待审核的申请。"
    lines = [f"待审核的申请（共 {total} 个）："]
    for application in applications:
        tags = "、".join(application.tags) or "无"
        who = f"{application.name}｜{application.phone_masked}｜特长：{tags}"
        lines.append(f"编号 {application.number}｜{who}｜{application.team_name}")
    if total > len(applications):
        lines.append(f"还有 {total - len(applications)} 个，先处理上面这些。")
    lines.append("通过：/通过 编号　拒绝：/拒绝 编号 理由")
    return "\n".join(lines)


def text_for_review(review: Review) -> str:
    """/审核: as one list while no vetting stage is on; otherwise what waits for 政审 and what waits for 审批."""
    if not settings.vetting_on and not settings.training_stage_on:
        return text_for_pending(review.approval, review.approval_total)
    if not review.vetting_total and not review.training_total and not review.approval_total:
        return "现在没有待审核的申请。"
    lines = []
    if settings.vetting_on:
        lines.append(f"待政审（共 {review.vetting_total} 个，民警登记）：")
        lines += _by_member_number(review.vetting, review.vetting_total)
    if settings.training_stage_on:
        lines.append(f"待培训（共 {review.training_total} 个，完成课程“{settings.onboarding_course}”后审批）：")
        lines += _by_member_number(review.training, review.training_total)
    lines.append(f"待审批（共 {review.approval_total} 个）：")
    for application in review.approval:
        tags = "、".join(application.tags) or "无"
        who = f"{application.name}｜{application.phone_masked}｜特长：{tags}"
        lines.append(f"编号 {application.number}｜{who}｜{application.team_name}")
    if review.approval_total > len(review.approval):
        lines.append(f"还有 {review.approval_total - len(review.approval)} 个，先处理上面这些。")
    steps = []
    if settings.vetting_on:
        steps.append("政审：/政审 成员号 通过|不通过")
    if settings.training_stage_on:
        steps.append("结业：/结业 课程编号 成员号")
    lines.append("　".join([*steps, "审批：/通过 编号　拒绝：/拒绝 编号 理由"]))
    return "\n".join(lines)


def _by_member_number(applications: list[PendingApplication], total: int) -> list[str]:
    lines = []
    for application in applications:
        tags = "、".join(application.tags) or "无"
        lines.append(
            f"成员号 {application.member_number}｜{application.name}｜{application.phone_masked}｜特长：{tags}"
            f"｜{application.team_name}"
        )
    if total > len(applications):
        lines.append(f"还有 {total - len(applications)} 个，先处理上面这些。")
    return lines


def text_for_decision(decision: Decision) -> str:
    name, team = decision.member.name, decision.team.name
    if not decision.changed:
        state = "已通过" if decision.approved else "已拒绝"
        return f"申请 {decision.number}（{name}）之前就{state}了，没有再改动。"
    if decision.approved:
        return f"已通过{name}加入“{team}”，成员号 {decision.member.id}。"
    because = f"，理由：{decision.reason}" if decision.reason else ""
    return f"已拒绝{name}加入“{team}”的申请{because}。"


def text_for_profile(profile: Profile, account: str | None = None) -> str:
    """`account` (platform:user_id, as [bot] superusers names people) is shown when given: to the person in private,
    in the console, and to administrators."""
    member = profile.member
    shown = [f"账号：{account}"] if account else []
    if member is None:
        lines = ["你还没有登记。在队伍群里发送 /加入 姓名 即可申请加入。"]
        if profile.is_admin:
            lines.append("你是管理员。")
        return "\n".join(lines + shown)
    lines = [
        f"{member.name}，成员号 {member.id}",
        f"手机：{mask_phone(member.phone)}",
        f"特长：{specialties_text(specialties_of(member))}",
        f"状态：{MEMBER_STATUS_NAMES.get(member.status, member.status)}",
        f"积分：{profile.points}",
    ]
    for team in profile.teams:
        leader = "，队长" if team.is_leader else ""
        lines.append(f"队伍：{team.team_name}（{MEMBERSHIP_STATUS_NAMES.get(team.status, team.status)}{leader}）")
    for unit in profile.officer_units:
        lines.append(f"民警：{unit}")
    if profile.is_admin:
        lines.append("管理员")
    return "\n".join(lines + shown)


@render_notice.register
def _application_decided(notice: ApplicationDecidedNotice) -> str:
    if notice.approved:
        return (
            f"{notice.name}，你加入“{notice.team}”的申请已通过，成员号 {notice.member_number}。"
            "发送 /帮助 看看能做什么。"
        )
    because = f"，理由：{notice.reason}" if notice.reason else ""
    return f"{notice.name}，你加入“{notice.team}”的申请没有通过{because}。有疑问请联系队长。"


add_refusals(REFUSALS)
