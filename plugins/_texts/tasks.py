"""Tasks as chat shows them: the card, the replies of /发布任务 … /签退, the notices the task services queue, and
their refusals (storage/services/tasks)."""

from __future__ import annotations

from plugins._texts import Refusal, add_refusals, render_notice
from plugins._texts.when import describe, duration_text
from storage.services.tasks import (
    CHECK_IN,
    CHECK_OUT,
    KINDS,
    ButtonLabel,
    CancelledTask,
    CancelSignupResult,
    CheckIn,
    CheckOut,
    ClosedTask,
    LocationCheck,
    MovedUpFromWaitingList,
    PostedTask,
    SignupResult,
    TaskCancelled,
    TaskCard,
    TaskClosed,
    TaskDetail,
    TaskFacts,
    TaskView,
    YourTaskCancelled,
)

NEWTASK_EXAMPLE = "/发布任务 巡逻 明天19:00 2小时 闫千户片区 10人 5分"
NO_SUCH_TASK = "没有你能看到的任务 {task_id}：发送 /任务 查看你的队伍的任务。"
"""Said alike whether the task does not exist or is not the caller's to see or act on: task numbers are
sequential, and a stranger trying them learns nothing."""
NOTHING_TO_CANCEL = "你没有报名任务 {task_id}，不用取消。"

SPEC_FIELDS = {"kind": "类型", "time": "时间", "place": "地点", "capacity": "人数", "duration": "时长"}
RANGE_FIELDS = {"capacity": "人数", "points": "积分", "radius": "半径"}
ACTIONS = {CHECK_IN: "签到", CHECK_OUT: "签退"}
BUTTON_LABELS = {"signup": "报名", "cancel": "取消报名"}


def _named(task: TaskFacts) -> str:
    """任务 12（巡逻，12月01日(周二) 19:00-21:00）"""
    return f"任务 {task.id}（{task.kind}，{describe(task.start_at, task.end_at)}）"


# The card and the notices


def task_card(view: TaskView) -> str:
    """The card posted to the task's groups."""
    task = view.task
    lines = [
        f"【任务 {task.id}】{task.kind}",
        f"时间：{describe(task.start_at, task.end_at)}",
        f"地点：{task.place}",
        f"名额：{task.capacity}人，已报 {min(view.signed, task.capacity)}，还剩 {view.places_left}"
        + (f"，候补 {view.waiting}" if view.waiting else ""),
    ]
    extras = []
    if task.points:
        extras.append(f"积分：{task.points}分")
    if task.required_tags:
        extras.append(f"需要：{'、'.join(task.required_tags)}")
    if extras:
        lines.append("　".join(extras))
    if task.signup_deadline < task.start_at:
        lines.append(f"报名截止：{describe(task.signup_deadline)}")
    if task.repeat_weekly:
        lines.append("每周重复")
    if task.course_id is not None:
        lines.append(f"课程 {task.course_id} 的培训：签到签退记为参加，结业要求发送 /课程 {task.course_id} 查看")
    lines.append(f"报名：/报名 {task.id}　取消：/取消报名 {task.id}")
    return "\n".join(lines)


def cancellation_notice(task: TaskFacts) -> str:
    because = f"，原因：{task.cancel_reason}" if task.cancel_reason else ""
    return f"{_named(task)}已取消{because}。"


def closing_summary(closed: ClosedTask) -> str:
    task = closed.view.task
    minutes = sum(minutes for _, minutes in closed.served)
    lines = [f"{_named(task)}已结束。"]
    if closed.served:
        names = "、".join(f"{name} {duration_text(served)}" for name, served in closed.served)
        lines.append(f"到岗 {len(closed.served)} 人，共 {duration_text(minutes)}：{names}")
    else:
        lines.append("没有人签到。")
    if closed.absent:
        lines.append(f"缺勤 {len(closed.absent)} 人：{'、'.join(closed.absent)}")
    if task.points:
        lines.append(f"到岗的每人得 {task.points} 分，发送 /我的 查看。")
    if (training := closed.training) is not None:
        if training.retired:
            lines.append(f"课程“{training.course_name}”已停用，这次培训没有登记结业。")
        if training.completed:
            lines.append(f"完成课程“{training.course_name}”{len(training.completed)} 人，资质已登记。")
        if training.quiz_needed:
            lines.append(f"还有 {len(training.quiz_needed)} 人要通过考试才算结业：私聊发送 /学习 {training.course_id}")
        if training.too_short:
            lines.append(f"{len(training.too_short)} 人在场不到一半时间，没有登记结业（已私聊告知）。")
    return "\n".join(lines)


@render_notice.register
def _card(notice: TaskCard) -> str:
    return task_card(notice.view)


@render_notice.register
def _button(notice: ButtonLabel) -> str:
    return BUTTON_LABELS[notice.command]


@render_notice.register
def _cancelled(notice: TaskCancelled) -> str:
    return cancellation_notice(notice.task)


@render_notice.register
def _your_task_cancelled(notice: YourTaskCancelled) -> str:
    return f"{notice.name}，你报名的{cancellation_notice(notice.task)}"


@render_notice.register
def _moved_up(notice: MovedUpFromWaitingList) -> str:
    task = notice.task
    when = describe(task.start_at, task.end_at)
    return f"{notice.name}：有人取消，你已从候补转为正式报名任务 {task.id}（{task.kind}，{when}）。"


@render_notice.register
def _closed(notice: TaskClosed) -> str:
    return closing_summary(notice.closed)


# Replies: /发布任务, /任务, /取消任务, /结束任务


def text_for_posted_task(posted: PostedTask) -> str:
    """The reply to /发布任务; where the command came from one of the task's groups, the card is part of it."""
    task = posted.view.task
    lines = [f"已发布任务 {task.id}：{task.kind}，{describe(task.start_at, task.end_at)}。"]
    if posted.announced:
        lines.append(f"任务卡片将发到 {posted.announced} 个队伍群。")
    if posted.posted_here:
        lines += ["", task_card(posted.view)]
    return "\n".join(lines)


def text_for_open_tasks(views: list[TaskView]) -> str:
    if not views:
        return "现在没有可报名的任务。"
    lines = ["近期任务："]
    for view in views:
        task = view.task
        when = describe(task.start_at, task.end_at)
        lines.append(f"{task.id}｜{task.kind}｜{when}｜{task.place}｜还剩{view.places_left}个名额")
    lines.append("报名：/报名 编号　查看名单：/任务 编号")
    return "\n".join(lines)


def text_for_task_detail(detail: TaskDetail) -> str:
    """/任务 N: the card and the roster."""
    lines = [task_card(detail.view)]
    if detail.signed:
        names = []
        for line in detail.signed:
            mark = ""
            if line.checked_in:
                mark = "✓" if not line.outside_radius else "✓(位置偏远)"
            names.append(line.name + mark)
        lines.append(f"已报名（{len(detail.signed)}）：{'、'.join(names)}")
    else:
        lines.append("还没有人报名。")
    if detail.waiting:
        lines.append(f"候补（{len(detail.waiting)}）：{'、'.join(line.name for line in detail.waiting)}")
    if detail.absent:
        lines.append(f"缺勤：{'、'.join(line.name for line in detail.absent)}")
    if any(line.checked_in for line in detail.signed):
        lines.append("✓ 表示已签到")
    return "\n".join(lines)


def text_for_cancelled_task(cancelled: CancelledTask) -> str:
    task = cancelled.view.task
    if not cancelled.changed:
        return f"任务 {task.id} 之前已经取消了。"
    return f"{cancellation_notice(task)}\n已通知报名和候补的 {len(cancelled.affected)} 人。"


def text_for_closed_task(closed: ClosedTask) -> str:
    summary = closing_summary(closed)
    if not closed.changed:
        return f"任务 {closed.view.task.id} 之前已经结束。\n{summary}"
    return summary


# Replies: /报名, /取消报名, /签到, /签退


def text_for_signup(name: str, result: SignupResult) -> str:
    """The reply to /报名, addressed by the name the caller goes by here (你 when the chat gave none)."""
    name = name or "你"
    task = result.task
    when = describe(task.start_at, task.end_at)
    if result.status == "waiting":
        state = "已在候补名单" if not result.changed else "报名已满，已排进候补"
        return (
            f"{name}：任务 {task.id}（{task.kind}，{when}）{state}，第 {result.position} 位。"
            "有人取消会自动递补并通知你。"
        )
    if not result.changed:
        return f"{name}：你已经报名了任务 {task.id}（{task.kind}，{when}），不用重复报名。"
    return (
        f"{name}：报名成功！任务 {task.id}（{task.kind}，{when}，{task.place}），还剩 {result.places_left} 个名额。\n"
        f"开始前半小时起可以 /签到 {task.id}"
    )


def text_for_cancelled_signup(result: CancelSignupResult) -> str:
    task = result.task
    if not result.changed:
        return NOTHING_TO_CANCEL.format(task_id=task.id)
    if result.promoted is not None:
        return f"已取消你在任务 {task.id} 的报名。名额已由候补的{result.promoted.name}递补，已通知他。"
    return f"已取消你在任务 {task.id} 的{'候补' if result.was_waiting else '报名'}。"


def text_for_location(checked: LocationCheck) -> str:
    if checked.distance_m is None:
        return "位置已记录。"
    if checked.outside:
        return f"位置已记录：离任务地点约 {checked.distance_m} 米，超出范围，已标记给民警核对。"
    return f"位置已记录：离任务地点约 {checked.distance_m} 米，在范围内。"


def text_for_check_in(result: CheckIn, location_shared: bool, checked: LocationCheck | None) -> str:
    """The reply to /签到; a location sent with it is checked (`checked`, None when it could not be kept)."""
    task = result.task
    if not result.changed:
        return f"你已经签到过任务 {task.id} 了。"
    lines = [f"签到成功：任务 {task.id}（{task.kind}，{task.place}）。结束时发送 /签退 {task.id}"]
    if checked is not None:
        lines.append(text_for_location(checked))
    elif not location_shared and result.task_has_coordinates:
        lines.append("可以在一分钟内发送你的位置，用来核对是否在任务地点。")
    return "\n".join(lines)


def text_for_location_after_check_in(checked: LocationCheck) -> str:
    return f"任务 {checked.task.id}：{text_for_location(checked)}"


def text_for_check_out(result: CheckOut) -> str:
    task = result.task
    if not result.changed:
        return f"你已经签退过任务 {task.id} 了，服务 {duration_text(result.minutes)}。"
    return f"签退成功：任务 {task.id}，本次服务 {duration_text(result.minutes)}。辛苦了！"


# Refusals


def _attending(action: str) -> str:
    return ACTIONS[action]


def _missing_tags(
    task_id: int, tags: tuple[str, ...], courses: tuple[tuple[str, int, str], ...], qualifications_only: bool
) -> str:
    """The refusal for a missing 需要:, naming the course that grants each tag where one does."""
    if qualifications_only:
        lines = [f"任务 {task_id} 需要资质：{'、'.join(tags)}。你还没有有效的这项资质，不能报名。"]
    else:
        lines = [f"任务 {task_id} 需要：{'、'.join(tags)}。你的特长和资质里没有，不能报名。"]
    for tag, course_id, name in courses:
        lines.append(f"“{tag}”可以通过课程 {course_id}（{name}）取得：发送 /课程 {course_id} 看怎么参加。")
    return "\n".join(lines)


REFUSALS: dict[str, Refusal] = {
    "tasks.no_such_task": NO_SUCH_TASK,
    # /发布任务's words
    "tasks.spec_empty": f"请写任务内容，例如 {NEWTASK_EXAMPLE}",
    "tasks.spec_kind_first": f"第一个词写任务类型（{'、'.join(KINDS)}），例如 {NEWTASK_EXAMPLE}",
    "tasks.spec_duration_before_time": f"先写开始时间，再写时长，例如 {NEWTASK_EXAMPLE}",
    "tasks.spec_deadline_after_start": "报名截止时间不能晚于任务开始时间。",
    "tasks.spec_radius_without_coordinates": "半径要和坐标一起写，例如 坐标:36.6512,117.1201 半径:300米",
    "tasks.spec_out_of_range": lambda what, low, high: f"{RANGE_FIELDS[what]}要在 {low} 到 {high} 之间。",
    "tasks.spec_bad_coordinates": "坐标写成 坐标:纬度,经度，例如 坐标:36.6512,117.1201",
    "tasks.spec_coordinates_out_of_range": "坐标超出范围：纬度在 -90 到 90，经度在 -180 到 180 之间。",
    "tasks.spec_bad_radius": "半径写成 半径:300米",
    "tasks.spec_missing": lambda missing: (
        f"还缺{'、'.join(SPEC_FIELDS[name] for name in missing)}：例如 {NEWTASK_EXAMPLE}"
    ),
    "tasks.spec_ends_before_start": "结束时间要晚于开始时间。",
    "tasks.spec_kind_length": "任务类型写1到{most}个字，例如 巡逻。",
    "tasks.spec_place_length": "地点写1到{most}个字，例如 闫千户片区。",
    "tasks.spec_too_long": "一个任务最长{hours}小时：更长的请分几次发布。",
    # posting, cancelling, closing
    "tasks.no_such_unit": "没有单位“{text}”：请写单位全名，例如 单位:历下分局",
    "tasks.unit_without_teams": "“{unit}”下面还没有队伍。",
    "tasks.no_such_team": "没有你能发任务的队伍“{name}”：请检查队名。",
    "tasks.team_name_ambiguous": "有几个队伍叫“{name}”：请改用 单位:单位名。",
    "tasks.private_needs_target": "私聊发布时请写明对象：队伍:队名 或 单位:单位名。",
    "tasks.post_group_not_bound": "本群还没有绑定队伍：先 /绑定队伍 队伍名，或写明 队伍:队名。",
    "tasks.list_group_not_bound": "本群还没有绑定队伍。",
    "tasks.cancel_closed": "任务 {task_id} 已经结束，不能取消。",
    "tasks.close_cancelled": "任务 {task_id} 已取消。",
    "tasks.maybe_duplicate": "一分钟前刚发布过一样的任务（编号{task_id}）。确实要再发一个，请在一分钟内回复“确认”。",
    "tasks.spec_bad_course": "课程要写编号，例如 课程:3（发送 /课程 看编号）。",
    "tasks.course_not_training": (
        "课程:编号 只用于培训任务：任务类型要写培训，例如 /发布任务 培训 明天19:00 2小时 派出所会议室 30人 课程:3"
    ),
    "tasks.close_not_started": "任务 {task_id} 还没开始，不能结束；不办了请用 /取消任务 {task_id}",
    # signing up and cancelling a sign-up
    "tasks.signup_cancelled": "任务 {task_id} 已取消，不能报名。",
    "tasks.signup_closed": "任务 {task_id} 已结束，不能报名。",
    "tasks.signup_deadline_passed": lambda task_id, deadline: f"任务 {task_id} 报名已截止（{describe(deadline)}）。",
    "tasks.member_not_active": "你的队员资格还没有生效，审核通过后才能报名。",
    "tasks.missing_tags": lambda task_id, tags, courses=(), qualifications_only=False: _missing_tags(
        task_id, tags, courses, qualifications_only
    ),
    "tasks.clash": lambda task_id, kind, start_at, end_at: (
        f"和你已报名的任务 {task_id}（{kind}，{describe(start_at, end_at)}）时间冲突。要换的话先 /取消报名 {task_id}"
    ),
    "tasks.nothing_to_cancel": NOTHING_TO_CANCEL,
    "tasks.cancel_signup_closed": "任务 {task_id} 已结束，不能取消报名。",
    "tasks.cancel_signup_started": "任务 {task_id} 已经开始，不能取消报名；有事请联系队长。",
    # check-in and check-out
    "tasks.checkin_not_open_yet": lambda task_id, opens_at: f"任务 {task_id} 的签到从 {describe(opens_at)} 开始。",
    "tasks.checkin_over": "任务 {task_id} 已经结束，不能签到。",
    "tasks.not_signed_up": lambda task_id, action: (
        f"你没有报名任务 {task_id}，不能{_attending(action)}。发送 /任务 查看你的队伍的任务。"
    ),
    "tasks.still_waiting": lambda task_id, action: f"你在任务 {task_id} 的候补名单上，转正后才能{_attending(action)}。",
    "tasks.nothing_to_attend": lambda action: (
        f"你现在没有可以{_attending(action)}的任务。写上任务编号试试：/{_attending(action)} 编号"
    ),
    "tasks.several_to_attend": lambda action, task_ids: (
        f"你现在有几个任务（{'、'.join(str(task_id) for task_id in task_ids)}）："
        f"请写编号，例如 /{_attending(action)} {task_ids[0]}"
    ),
    "tasks.not_checked_in": "你还没有签到任务 {task_id}：先发送 /签到 {task_id}",
}

DUPLICATE_NOT_POSTED = "没有发布。需要时重新发送 /发布任务"
DUPLICATE_TOO_LATE = "一分钟内没有回复“确认”，没有发布。需要时重新发送 /发布任务"

add_refusals(REFUSALS)
