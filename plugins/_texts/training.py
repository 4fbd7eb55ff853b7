"""Wording of courses (/课程), completions (/结业) and qualifications (/资质)."""

from __future__ import annotations

from datetime import date

from plugins._texts import Refusal, add_refusals, render_notice
from plugins._texts.when import describe
from storage.services.training.completions import (
    CourseCompletedNotice,
    MarkedByHand,
    OnboardingCompletedNotice,
    QuizStillNeededNotice,
    TooShortNotice,
)
from storage.services.training.courses import (
    MAX_GRANTS,
    CourseCreated,
    CourseDetail,
    CourseList,
    CourseRetired,
    CourseView,
    MaterialSet,
    Person,
)
from storage.services.training.qualifications import Held, OwnQualifications

COURSE_USAGE = (
    "课程：\n"
    "/课程　看可以参加的课程\n"
    "/课程 编号　看一门课程\n"
    "民警：/课程 新建 名称 [有效期2年|6个月|长期] 授予:资质 [及格80分] [线上] [单位:名称] [说明]\n"
    "例如 /课程 新建 山地救援 有效期2年 授予:救援 及格80分 山地搜救和基础急救\n"
    "/课程 资料 编号 文字 [链接]（可以附图片）　/课程 停用 编号\n"
    "培训场次：/发布任务 培训 … 课程:编号　题目：/题库 编号"
)
GRADUATE_USAGE = "结业（民警）：/结业 课程编号 成员号…　例如 /结业 3 12 15\n给没有手机签到的队员登记完成课程。"
QUALIFICATIONS_USAGE = "资质：/资质　看自己的资质和到期时间"
PEOPLE_IN_PRIVATE = "名单请私聊我发送 /课程 {course_id} 查看。"

SOURCES = {"session": "参加培训", "quiz": "线上考试", "manual": "民警登记"}


def validity_text(months: int | None) -> str:
    if months is None:
        return "长期有效"
    if months % 12 == 0:
        return f"有效期{months // 12}年"
    return f"有效期{months}个月"


def until_text(until: date | None) -> str:
    return "长期有效" if until is None else f"有效至{until.year}年{until.month}月{until.day}日"


REFUSALS: dict[str, Refusal] = {
    "training.officers_only": "只有民警可以管理课程。想学习请发送 /课程 看可以参加的课程。",
    "training.no_such_course": "没有编号为 {course_id} 的课程。发送 /课程 看可以参加的课程。",
    "training.no_course_name": "请写课程名称，例如 /课程 新建 山地救援 有效期2年 授予:救援",
    "training.bad_course_name": "课程名称“{text}”不行：2 到 {most} 个字，要有文字，不要符号。",
    "training.bad_validity": "有效期“{text}”看不懂：写 有效期2年、有效期6个月 或 长期（最多 {most_years} 年）。",
    "training.bad_grants": "授予的资质“{text}”看不懂：写 授予:救援 或 授予:救援、急救（只写文字，不要符号）。",
    "training.no_grants": "请写完成课程后授予什么资质，例如 授予:救援（任务的 需要:救援 就认这项资质）。",
    "training.too_many_grants": f"一门课程最多授予 {MAX_GRANTS} 项资质。",
    "training.bad_pass_mark": "及格分“{text}”不对：写 及格80分 这样的整数分（1 到 100）。",
    "training.description_too_long": "课程说明最多 {most} 个字。",
    "training.course_of_unit_above": (
        "课程 {course_id}（{name}）是“{unit}”的课程，只有那里的民警能修改。你可以用它开培训和登记结业。"
    ),
    "training.one_course_at_a_time": "一条消息只建一门课程：每门课程单独发一条 /课程 新建 …，什么也没有建。",
    "training.course_name_retired": (
        "本单位的课程“{name}”（编号{course_id}）已经停用，名称不能再用：新课程换个名称，例如 {name}2027。"
    ),
    "training.course_exists": "本单位已经有课程“{name}”（编号{course_id}）。换个名称，或发送 /课程 {course_id} 查看。",
    "training.one_link": "资料里只能放一个链接。",
    "training.no_material": "请写资料的文字或链接，或附上图片，例如 /课程 资料 3 学习要点…… https://…",
    "training.material_too_long": "资料文字最多 {most} 个字；更长的内容请放在链接里。",
    "training.too_many_pictures": "资料最多 {most} 张图片。",
    "training.picture_too_big": "图片太大了（最多 {most_mb} MB），请压缩后再发。",
    "training.picture_unreadable": "有一张图片打不开，请换一张再发。",
    "training.no_members": "请写成员号，例如 /结业 3 12 15",
    "training.too_many_members": "一次最多登记 {most} 人，请分几次发。",
}
add_refusals(REFUSALS)


def _course_line(course: CourseView) -> str:
    mode = "，线上考试即结业" if course.online else ""
    return (
        f"{course.id}. {course.name}（授予 {'、'.join(course.grants)}，{validity_text(course.validity_months)}{mode}）"
    )


def text_for_created(created: CourseCreated) -> str:
    course = created.course
    head = "已建好课程" if created.changed else "这门课程之前已经建好了"
    return "\n".join(
        [
            f"{head}：{_course_line(course)}",
            f"单位：{course.unit}　考试及格：{course.pass_mark}分",
            f"下一步：/课程 资料 {course.id} 文字（附图片）　/题库 {course.id} 加考题",
            f"培训场次：/发布任务 培训 明天19:00 2小时 地点 30人 课程:{course.id}",
        ]
    )


def text_for_course_list(found: CourseList) -> str:
    if not found.lines:
        if found.is_officer:
            return "还没有课程。新建：/课程 新建 名称 有效期2年 授予:资质"
        return "你的队伍现在没有可以参加的课程。"
    lines = ["课程："]
    names = [line.course.name for line in found.lines]
    for line in found.lines:
        text = _course_line(line.course)
        if names.count(line.course.name) > 1:  # a city's and a station's course of one name: say whose
            text += f"　{line.course.unit.rsplit('/', 1)[-1]}"
        if found.is_officer:
            text += f"　有效 {line.holders} 人"
        elif line.mine is not False:
            text += f"　你已完成，{until_text(line.mine)}"  # type: ignore[arg-type]
        lines.append(text)
    lines.append("看一门：/课程 编号" + ("" if found.is_officer else "　线上学习：私聊 /学习 编号"))
    return "\n".join(lines)


def _people(people: list[Person], more: int) -> str:
    names = "、".join(f"{p.name}({p.member_id}) {until_text(p.valid_until)}" for p in people)
    return names + (f" 等，另有 {more} 人" if more else "")


def text_for_course(detail: CourseDetail, in_group: bool) -> str:
    course = detail.course
    lines = [f"【课程 {course.id}】{course.name}" + ("（已停用）" if course.retired else "")]
    if course.description:
        lines.append(course.description)
    lines.append(f"授予：{'、'.join(course.grants)}　{validity_text(course.validity_months)}")
    if course.questions:
        lines.append(f"考试：{course.questions} 题，{course.pass_mark}分及格")
    if course.online:
        lines.append(f"线上课程：私聊发送 /学习 {course.id} 学习并考试，及格即结业。")
    elif course.questions:
        lines.append(f"参加培训并通过考试（私聊 /学习 {course.id}）即结业。")
    else:
        lines.append("参加培训（签到签退）即结业。")
    if detail.material_text or detail.material_link or detail.photos:
        lines.append(_material_line(detail))
    if detail.sessions and detail.is_officer:
        lines.append(f"培训场次：{detail.sessions} 场")
    elif detail.sessions:
        lines.append(f"可以报名的培训：{detail.sessions} 场（发送 /任务 看报名）")
    if not detail.is_officer:
        if detail.mine is not False:
            lines.append(f"你已完成，{until_text(detail.mine)}。")  # type: ignore[arg-type]
        elif detail.quiz_passed and not course.online:
            lines.append("你：考试已通过，还差参加一场这门课程的培训（签到签退）。")
        elif detail.retry_from is not None:
            lines.append(
                f"你：上次考试没有及格，{describe(detail.retry_from)} 以后可以再考（私聊 /学习 {course.id}）。"
            )
        elif course.has_material or course.questions:
            lines.append(f"私聊发送 /学习 {course.id} 开始学习。")
        return "\n".join(lines)
    total_done = len(detail.completed) + detail.more_completed
    total_due = len(detail.due) + detail.more_due
    if in_group:
        lines.append(
            f"有效 {total_done} 人，快到期或已到期 {total_due} 人。" + PEOPLE_IN_PRIVATE.format(course_id=course.id)
        )
        return "\n".join(lines)
    lines.append(
        f"有效 {total_done} 人" + (f"：{_people(detail.completed, detail.more_completed)}" if total_done else "")
    )
    if total_due:
        lines.append(f"要复训（30天内到期或已到期）{total_due} 人：{_people(detail.due, detail.more_due)}")
    if course.retired:
        return "\n".join(lines)
    if detail.may_change:
        lines.append(f"资料：/课程 资料 {course.id} …　题库：/题库 {course.id}　停用：/课程 停用 {course.id}")
    else:
        lines.append(f"这是“{course.unit}”的课程，由那里的民警修改。")
    lines.append(f"手动结业：/结业 {course.id} 成员号　开培训：/发布任务 培训 … 课程:{course.id}")
    return "\n".join(lines)


MATERIAL_PREVIEW = 80
"""How much of the material's text /课程 编号 shows; /学习 shows all of it."""


def _material_line(detail: CourseDetail) -> str:
    text = detail.material_text
    parts = [text if len(text) <= MATERIAL_PREVIEW else text[:MATERIAL_PREVIEW] + "…"] if text else []
    if detail.material_link:
        parts.append(f"链接 {detail.material_link}")
    if detail.photos:
        parts.append(f"图片 {detail.photos} 张")
    return f"资料：{'　'.join(parts)}（全部：私聊 /学习 {detail.course.id}）"


def text_for_retired(retired: CourseRetired) -> str:
    course = retired.course
    if not retired.changed:
        return f"课程 {course.id}（{course.name}）之前已经停用。"
    return f"已停用课程 {course.id}（{course.name}）：不能再开培训、考试或结业；已经取得的资质到期前照样有效。"


def text_for_material(material: MaterialSet) -> str:
    parts = []
    if material.text:
        parts.append(f"文字 {len(material.text)} 字")
    if material.link:
        parts.append("一个链接")
    if material.photos:
        parts.append(f"图片 {material.photos} 张")
    course = material.course
    return f"已更新课程 {course.id}（{course.name}）的资料：{'，'.join(parts)}。队员私聊 /学习 {course.id} 时会先看到。"


def text_for_marked(marked: MarkedByHand) -> str:
    lines = []
    if marked.completed:
        names = "、".join(f"{name}({number})" for number, name in marked.completed)
        lines.append(f"已登记完成课程“{marked.course_name}”：{names}，{until_text(marked.valid_until)}。已私聊通知。")
    if marked.already:
        names = "、".join(f"{name}({number})" for number, name in marked.already)
        lines.append(f"今天已经登记过：{names}。")
    if marked.not_found:
        numbers = "、".join(str(number) for number in marked.not_found)
        lines.append(f"没有登记：{numbers}（不是你单位的在队队员，或没有这个成员号）。")
    return "\n".join(lines)


STATES = {"valid": "", "expiring": "（快到期）", "expired": "（已过期）"}


def held_line(held: Held) -> str:
    line = f"{held.tag}：{until_text(held.valid_until)}{STATES[held.state]}，来自课程“{held.course_name}”"
    if held.state != "valid":
        if held.retake is not None:
            line += f"；复训：/课程 {held.retake.course_id}"
        else:
            line += "；复训请问民警"
    return line.replace("有效至", "至") if held.state == "expired" else line


def text_for_qualifications(own: OwnQualifications) -> str:
    if not own.held:
        return f"{own.name}，你还没有资质。完成课程就能取得：发送 /课程 看可以参加的课程。"
    return "\n".join([f"{own.name}的资质：", *(held_line(held) for held in own.held)])


@render_notice.register
def _completed(notice: CourseCompletedNotice) -> str:
    how = SOURCES.get(notice.source, "")
    return (
        f"你已完成课程“{notice.course_name}”（{how}），取得资质：{'、'.join(notice.grants)}，"
        f"{until_text(notice.valid_until)}。发送 /资质 查看。"
    )


@render_notice.register
def _quiz_needed(notice: QuizStillNeededNotice) -> str:
    return f"你参加了课程“{notice.course_name}”的培训，还要通过考试才算结业：私聊发送 /学习 {notice.course_id}"


@render_notice.register
def _onboarding_completed(notice: OnboardingCompletedNotice) -> str:
    return (
        f"{notice.name}已完成课程“{notice.course_name}”，加入“{notice.team}”的申请（编号 {notice.number}）"
        "可以审批了。发送 /审核 查看。"
    )


@render_notice.register
def _too_short(notice: TooShortNotice) -> str:
    return (
        f"你在课程“{notice.course_name}”的培训签到签退只有 {notice.minutes} 分钟，不到一半，没有登记结业。"
        "如果你全程参加了，请找民警登记（/结业）。"
    )
