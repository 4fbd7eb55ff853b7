"""Recruiting as chat shows it: invite codes (/招募), the application in private one question at a time, and the
background check (/政审). Nothing personal is ever shown whole: phones, ID numbers and emergency contacts masked."""

from __future__ import annotations

from plugins._texts import add_refusals, render_notice
from plugins._texts.membership import text_for_application
from plugins._texts.when import describe
from storage.services.applications import (
    BegunInGroup,
    ContinueInPrivateNotice,
    Declined,
    NewApplicationNotice,
    Question,
)
from storage.services.invites import InviteFacts, Revoked
from storage.services.vetting import VettingNotice, VettingRecorded
from storage.settings import settings

DEFAULT_CONSENT_TEXT = (
    "为了审核你的申请、安排任务和在紧急时联系你，本队会保存你填写的姓名、手机号、身份证号（如填写）、"
    "所在区域、工作单位、职业、特长和紧急联系人。这些信息只有你所在队伍的队长和所属单位的民警能看到，"
    "显示时手机号和身份证号会隐去中间部分，不会提供给其他任何人。"
)
"""What an applicant agrees to when `[members] consent_text` is empty (config.example.toml holds the same)."""

INVITE_USAGE = (
    "招募新队员：/招募 [队伍名] [有效期] [名额]，例如 /招募 夕阳红巡逻队 7天 30人"
    "（不写就用默认：{days}天、{places}）。\n"
    "队长不写队伍名就是自己的队。/招募 看我发出的邀请码，/招募 撤销 邀请码 作废一个。"
)
VET_USAGE = (
    "登记政审结果：/政审 成员号 通过|不通过 [日期] [备注]\n例如：/政审 12 通过 昨天 派出所已核查\n成员号见 /审核"
)
CONSENT_ANSWER = "同意请回复“同意”，不同意请回复“不同意”（不同意不会保存任何信息）。"

QUESTIONS = {
    "name": "你的姓名？（例如 张三）",
    "phone": "你的手机号？（11位，例如 13800138000，只有队长和民警能看到，显示时隐去中间四位）",
    "id_number": "你的身份证号？（18位，显示时只露出前4位和后4位）",
    "area": "你住在哪个区域？（例如 历下区 泉城路街道）",
    "employer": "你的工作单位？（退休或没有就写 无）",
    "profession": "你的职业？（例如 教师、司机、退休）",
    "specialties": "你有什么特长？可以写几个，用空格隔开（例如 驾驶 医护 调解）；没有就写 无",
    "emergency_contact": "紧急联系人：写称呼或姓名和手机号（例如 妻子 王芳 13900139000）",
}
NOTED = {
    "name": "姓名：{}",
    "phone": "手机号：{}",
    "id_number": "身份证号：{}",
    "area": "区域：{}",
    "employer": "工作单位：{}",
    "profession": "职业：{}",
    "specialties": "特长：{}",
    "emergency_contact": "紧急联系人：{}",
}
LEFT_APPLICATION = "已退出入队申请，填写的内容没有保存。"
CANCELLED_APPLICATION = "已取消入队申请，填写的内容没有保存。"
APPLICATION_PAUSED = (
    "入队申请还没填完，已先保存（3天内有效）。接着回复上面的问题就行，或发送 /加入 看下一步；回复“取消”放弃。"
)


def consent_text() -> str:
    return settings.consent_text or DEFAULT_CONSENT_TEXT


REFUSALS = {
    "people.id_number_length": (
        "身份证号是18位：写了{count}位。请重新输入，例如 370102199001011231（最后一位可以是X）。"
    ),
    "people.id_number_characters": "身份证号前17位是数字，最后一位是数字或X，请重新输入。",
    "people.id_number_check": "身份证号的校验位对不上，可能有一位写错了：请核对后重新输入。",
    "people.file_text_empty": "请写文字，例如 历下区；没有就写 无。",
    "people.file_text_long": "请简短一些，不超过{most}个字。",
    "people.contact_needs_phone": "请写上紧急联系人的手机号，例如 妻子 王芳 13900139000。",
    "people.contact_needs_name": "请写上紧急联系人的称呼或姓名，例如 妻子 王芳 13900139000。",
    "applications.no_phone": "这条消息里没有手机号。请回复你的手机号（11位，例如 13800138000）。",
    "applications.agree_or_not": CONSENT_ANSWER,
    "invites.leaders_and_officers_only": "只有队长和民警可以招募新队员。",
    "invites.not_your_team": "你不能为“{team}”招募：队长只能为自己的队，民警为本单位的队。",
    "invites.team_needed": "请写队伍名，例如 /招募 夕阳红巡逻队 7天 30人；或在队伍群里发送 /招募。",
    "invites.bad_validity": "有效期写1小时到366天，例如 7天、2周、48小时。",
    "invites.bad_places": "名额写1到{most}人，例如 30人；不限名额写 不限。",
    "invites.not_a_code": "邀请码是8位字母和数字，例如 /招募 撤销 AB3CD5EF（见 /招募）。",
    "invites.unknown": "没有这个邀请码：请核对（8位字母和数字），或向发给你邀请码的人再要一个。",
    "invites.expired": "这个邀请码已过期：请向队长或民警要一个新的。",
    "invites.revoked": "这个邀请码已作废：请向队长或民警要一个新的。",
    "invites.full": "这个邀请码的名额已满：请向队长或民警要一个新的。",
    "vetting.off": "本地没有开启政审环节：队长或民警直接发送 /通过 编号 即可。",
    "vetting.officers_only": "政审结果只能由民警登记，队长不能登记。",
    "vetting.nothing_waits": "成员号 {number} 没有在你单位等待政审的申请：发送 /审核 查看。",
    "vetting.bad_day": "日期“{text}”不对：写 今天、昨天 或 2026-12-01 这样的日期。",
    "vetting.day_to_come": "日期“{text}”还没到：写已经做完政审的那天，例如 今天、昨天。",
    "membership.waits_for_vetting": (
        "申请 {number}（{name}）还在等政审：民警登记政审通过后才能审批（/政审 成员号 通过）。"
    ),
    "membership.waits_for_training": lambda number, name, course_id, course, online: (
        f"申请 {number}（{name}）还没有完成课程“{course}”，完成后才能审批："
        + (f"请他私聊我发送 /学习 {course_id} 考试；" if online else "")
        + f"参加培训后，民警发送 /结业 {course_id} 成员号 登记。"
    ),
    "membership.no_onboarding_course": (
        "审批前要完成课程“{course}”，但{unit}和上级单位都还没有这门课程："
        "请民警先发送 /课程 新建 {course} 授予:资质 建好（线上课程加 线上，并用 /题库 加考题）。"
    ),
}


def text_for_question(question: Question) -> str:
    """The next question; before it what the last answer was taken as (masked), or, at the start, what comes."""
    lines = []
    if question.first:
        lines.append(f"你正在申请加入“{question.team}”，一共几个问题，随时回复“取消”退出（不会保存）。")
    elif question.noted:
        noted = question.noted if isinstance(question.noted, str) else "、".join(question.noted)
        lines.append(f"已记下{NOTED.get(question.noted_step or '', '{}').format(noted)}。")
    if question.step == "consent":
        lines.append(f"最后一步：{consent_text()}\n{CONSENT_ANSWER}")
    else:
        lines.append(f"（还有{question.left}步）{QUESTIONS[question.step]}")
    return "\n".join(lines)


def text_for_begun_in_group(begun: BegunInGroup) -> str:
    """The group's answer to /加入 姓名: the rest goes on in private; a phone typed here is not said back."""
    if begun.application is not None:
        return text_for_application(begun.application)
    if begun.phone_noted:
        return (
            f"{begun.name}，请私聊我回答剩下的几个登记问题，完成加入“{begun.team.name}”的申请。"
            "手机号不要发在群里，可以撤回刚才那条消息。"
        )
    return f"{begun.name}，请私聊我，发送你的手机号，完成加入“{begun.team.name}”的申请（手机号不要发在群里）。"


@render_notice.register
def _continue_in_private(notice: ContinueInPrivateNotice) -> str:
    question = notice.question
    return (
        f"{question.name}，你在“{question.team}”的群里申请加入，在这里回答几个问题就好"
        "（随时回复“取消”退出，不会保存）。\n" + text_for_question(question)
    )


def text_for_declined(declined: Declined) -> str:
    return f"好的，不加入“{declined.team}”，你填写的信息都没有保存。需要时可以重新申请。"


def _places(places: int | None) -> str:
    return "名额不限" if places is None else f"{places}人"


def invite_usage() -> str:
    days = settings.invite_valid_for.days or 1
    return INVITE_USAGE.format(days=days, places=_places(settings.invite_places))


def text_for_invite(invite: InviteFacts, link: str | None) -> str:
    lines = [
        f"邀请码：{invite.code}（加入“{invite.team}”）",
        f"有效期到 {describe(invite.expires_at)}，{_places(invite.places)}。",
        f"用法：私聊我发送 /加入 {invite.code}，按提示填写申请。",
    ]
    if link:
        lines.append(f"Telegram 上也可以直接点：{link}")
    lines.append("扫二维码也行。" if link else "扫二维码得到的就是邀请码，照上面的用法发给我。")
    return "\n".join(lines)


def text_for_invites(invites: list[InviteFacts]) -> str:
    if not invites:
        return "你现在没有有效的邀请码。\n" + invite_usage()
    lines = [f"你发出的有效邀请码（共 {len(invites)} 个）："]
    for invite in invites:
        places = "不限" if invite.places is None else str(invite.places)
        lines.append(f"{invite.code}｜{invite.team}｜已用 {invite.used}/{places}｜到 {describe(invite.expires_at)}")
    lines.append("作废：/招募 撤销 邀请码")
    return "\n".join(lines)


def text_for_revoked(revoked: Revoked) -> str:
    if not revoked.changed:
        return f"邀请码 {revoked.invite.code} 之前就作废了。"
    invite = revoked.invite
    return f"邀请码 {invite.code}（“{invite.team}”）已作废，已用 {invite.used} 次；用它交的申请不受影响。"


def text_for_vetting(recorded: VettingRecorded) -> str:
    name, teams = recorded.member.name, "、".join(f"“{team}”" for team in recorded.teams)
    if not recorded.changed:
        return f"{name}（成员号 {recorded.member.id}）的政审结果之前就登记过了，没有再改动。"
    if recorded.passed:
        return f"已登记：{name}（成员号 {recorded.member.id}）政审通过。申请{teams}现在等队长审批（/通过 编号）。"
    return f"已登记：{name}（成员号 {recorded.member.id}）政审未通过，加入{teams}的申请已结束，已通知本人。"


@render_notice.register
def _new_application(notice: NewApplicationNotice) -> str:
    how = "用邀请码" if notice.by_invite else "在群里"
    steps = (["民警政审"] if notice.waits_for_vetting else []) + (
        [f"完成课程“{notice.onboarding_course}”"] if notice.onboarding_course else []
    )
    next_step = f"，先等{'、'.join(steps)}" if steps else ""
    return (
        f"新的入队申请：{notice.name}{how}申请加入“{notice.team}”，编号 {notice.number}{next_step}。发送 /审核 查看。"
    )


@render_notice.register
def _vetting(notice: VettingNotice) -> str:
    teams = "、".join(f"“{team}”" for team in notice.teams)
    if notice.passed:
        return f"{notice.name}，你加入{teams}的申请已通过政审，现在等队长审批，审批后会通知你。"
    because = f"说明：{notice.note}。" if notice.note else ""
    return f"{notice.name}，你加入{teams}的申请没有通过政审，申请已结束。{because}有疑问请联系队长或民警。"


add_refusals(REFUSALS)
