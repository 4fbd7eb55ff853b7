"""Task reminders as chat posts them in a task's groups (storage/services/reminders.py)."""

from __future__ import annotations

from plugins._texts import render_notice
from plugins._texts.when import describe
from storage.services.reminders import CHECKIN, DEADLINE, TaskReminderNotice


def _ahead(minutes: int) -> str:
    return f"{minutes // 60}小时" if minutes % 60 == 0 else f"{minutes}分钟"


@render_notice.register
def _reminder(notice: TaskReminderNotice) -> str:
    task = notice.task_id
    when = describe(notice.start, notice.end)
    if notice.reminder == DEADLINE:
        return (
            f"【报名提醒】任务 {task}（{notice.task_kind}，{when}，{notice.place}）还剩 {notice.places_left} 个名额，"
            f"{describe(notice.signup_deadline)} 截止报名：/报名 {task}"
        )
    if notice.reminder == CHECKIN:
        head = f"【签到提醒】任务 {task}（{notice.task_kind}，{notice.place}）现在可以签到了，{when}。"
    else:
        ahead = _ahead(notice.minutes_ahead)
        head = f"【任务提醒】任务 {task}（{notice.task_kind}）{ahead}后开始：{when}，{notice.place}。"
    roster = f"已报名：{'、'.join(notice.signed)}。" if notice.signed else "还没有人报名。"
    tail = f"到了请发送 /签到 {task}" if notice.signed else f"报名：/报名 {task}"
    if notice.places_left and notice.signed:
        tail += f"；还剩 {notice.places_left} 个名额：/报名 {task}"
    return f"{head}\n{roster}\n{tail}"
