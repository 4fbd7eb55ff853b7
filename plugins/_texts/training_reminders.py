"""Wording of the reminders before qualifications run out (storage/services/training/reminders.py): the member's,
and the monthly list to a unit's officers."""

from __future__ import annotations

from datetime import date

from plugins._texts import render_notice
from storage.services.training.reminders import QualificationExpiringNotice, UnitExpiringNotice

SHOWN_PEOPLE = 30
"""The officers' list names at most this many people (over all courses); the rest are counted per course."""


def day_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _left(days_left: int) -> str:
    return "今天到期" if days_left == 0 else f"还有{days_left}天"


@render_notice.register
def _expiring(notice: QualificationExpiringNotice) -> str:
    head = f"提醒：你的资质“{'、'.join(notice.tags)}”有效至{day_text(notice.valid_until)}，{_left(notice.days_left)}。"
    if notice.course_id is None:
        return head + "到期后需要这项资质的任务就不能报名了，复训请问民警。"
    how = f"发送 /课程 {notice.course_id} 看怎么参加"
    if notice.has_quiz:
        how += f"，考试私聊发送 /学习 {notice.course_id}"
    return head + f"复训课程：{notice.course_id}. {notice.course_name}，{how}。"


@render_notice.register
def _unit_expiring(notice: UnitExpiringNotice) -> str:
    month = f"{notice.month.year}年{notice.month.month}月"
    lines = [f"{notice.unit_name}：{month}到期、还没有复训的资质共 {notice.people} 人次"]
    room = SHOWN_PEOPLE
    for course in notice.courses:
        lines.append(f"课程 {course.course_id}（{course.course_name}）：")
        shown = course.people[: max(room, 0)]
        room -= len(shown)
        lines += [
            f"· {person.name}（成员号 {person.member_id}）{'、'.join(person.tags)} 有效至{day_text(person.valid_until)}"
            for person in shown
        ]
        if more := len(course.people) - len(shown):
            lines.append(f"· 另有 {more} 人，发送 /课程 {course.course_id} 看要复训的人")
    lines.append("请提醒他们报名复训；发送 /课程 编号 看每门课要复训的人。")
    return "\n".join(lines)
