"""/学习 in private: a member reads a course's material and answers its quiz one question at a time; a pass of an
online course completes it and grants its qualifications at once, a pass of a session course counts once a session
is attended; a failed attempt waits before the next; a quiz cancelled or left alone records nothing."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nonebot
import pytest
from dateutil.relativedelta import relativedelta
from nonebot.message import handle_event
from PIL import Image

from plugins._texts.when import describe
from storage.models import CourseCompletion, QuizAttempt
from storage.services.training import courses, study
from storage.settings import settings
from tests.chat import RecordingBot, forget_dialogues, onebot_private_message, say
from tests.refusals import refused
from tests.test_quiz import EXAMPLE
from tests.test_training import (
    GROUP,
    LI,
    NEW_COURSE,
    OFFICER,
    ZHANG,
    account,
    attend,
    count,
    local_today,
    set_up,
    shown,
)

ONLINE_COURSE = "/课程 新建 反诈宣传 有效期1年 授予:反诈 线上 反诈知识"
FIRST_QUESTION = (
    "开始考试：共 3 题，80分及格。一题一题回答，随时回复“取消”退出（不记成绩）。\n"
    "第1/3题（单选）发现电信诈骗线索应当怎么做？\n"
    "A. 自己去抓人\nB. 立即告诉民警\nC. 发到群里\n回复一个字母，例如 B"
)
SECOND_QUESTION = "第2/3题（判断）劝阻酒驾时可以动手拦车。\n回复 对 或 错"
THIRD_QUESTION = (
    "第3/3题（多选）哪些情况要立即报告民警？\nA. 打架\nB. 有人溺水\nC. 下雨\n回复所有正确选项的字母，例如 AC"
)


@pytest.fixture(autouse=True)
def no_dialogue_waits():
    """Each test starts, and leaves, with no dialogue waiting in memory (the same people study in every test)."""
    forget_dialogues()
    yield
    forget_dialogues()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


async def a_course_with_a_quiz(new_course: str = ONLINE_COURSE) -> None:
    await set_up()
    await say(OFFICER, new_course)
    assert (await say(OFFICER, f"/题库 1\n{EXAMPLE}")).startswith("已保存课程 1")


async def test_passing_an_online_course_grants_its_qualification(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    await a_course_with_a_quiz()
    await courses.set_material(
        account(OFFICER), 1, "遇到转账要求先核实 https://example.org/fanzha", [courses.Picture(png(), ".png")]
    )

    bot = RecordingBot()
    await handle_event(bot, onebot_private_message(ZHANG, "/学习 1"))
    material, first = bot.replies()
    assert material.extract_plain_text() == (
        "【学习 课程 1】反诈宣传\n反诈知识\n遇到转账要求先核实\n资料链接：https://example.org/fanzha"
    )
    assert [segment.type for segment in material] == ["text", "image"]  # the picture, as bytes
    assert first.extract_plain_text() == FIRST_QUESTION

    assert await say(ZHANG, "D") == "第1题请只选一个，回复一个字母，例如 B（回复“取消”退出考试）。"  # asked again
    assert await say(ZHANG, "AB") == "第1题请只选一个，回复一个字母，例如 B（回复“取消”退出考试）。"
    assert await say(ZHANG, "ｂ") == SECOND_QUESTION
    assert await say(ZHANG, "错误") == THIRD_QUESTION
    assert await count(QuizAttempt) == 0  # nothing until the last answer
    until = local_today() + relativedelta(years=1) - timedelta(days=1)
    assert await say(ZHANG, "A、B") == (
        "课程“反诈宣传”考试：答对 3/3 题，100分（80分及格），及格了！\n"
        f"已完成课程，取得资质：反诈，有效至{shown(until)}。发送 /资质 查看。"
    )
    assert await say(ZHANG, "/资质") == f"张三的资质：\n反诈：有效至{shown(until)}，来自课程“反诈宣传”"
    assert (await count(QuizAttempt), await count(CourseCompletion)) == (1, 1)

    # a pass may be taken again at once; the same day it completes nothing twice
    assert (await say(ZHANG, "/study 1")).endswith(FIRST_QUESTION)
    for typed in ("B", "错"):
        await say(ZHANG, typed)
    assert (await say(ZHANG, "AB")).startswith("课程“反诈宣传”考试：答对 3/3 题，100分")
    assert (await count(QuizAttempt), await count(CourseCompletion)) == (2, 1)


async def test_a_failed_attempt_shows_what_was_wrong_and_the_next_waits(database: str) -> None:
    await a_course_with_a_quiz()
    assert (await say(LI, "/学习 1")).endswith(FIRST_QUESTION)
    await say(LI, "A")
    await say(LI, "对")
    before = datetime.now(timezone.utc)
    result = await say(LI, "AB")
    after = datetime.now(timezone.utc)
    lines = result.splitlines()
    assert lines[:4] == [
        "课程“反诈宣传”考试：答对 1/3 题，33分（80分及格），没有及格。",
        "答错的题（复习资料后再考）：",
        "第1题 发现电信诈骗线索应当怎么做？",
        "第2题 劝阻酒驾时可以动手拦车。",
    ]
    assert "立即告诉民警" not in result  # a fail does not hand out the answers
    retry_at = {describe(moment + settings.quiz_retry_after) for moment in (before, after)}
    assert lines[4] in {f"{at} 以后可以再考：私聊发送 /学习 1" for at in retry_at}
    assert await count(CourseCompletion) == 0
    assert await say(LI, "/资质") == "李四，你还没有资质。完成课程就能取得：发送 /课程 看可以参加的课程。"

    # too early: refused, saying from when; /课程 says it too
    course_page = await say(LI, "/课程 1")
    assert any(f"你：上次考试没有及格，{at} 以后可以再考（私聊 /学习 1）。" in course_page for at in retry_at)
    refusal = await say(LI, "/学习 1")
    assert refusal in {f"上次考试没有及格，{at} 以后才能再考（私聊 /学习 1）。" for at in retry_at}
    assert "考试" not in await say(LI, "B")  # no quiz waits for the answer
    assert await count(QuizAttempt) == 1

    # after the wait it starts again
    later = datetime.now(timezone.utc) + settings.quiz_retry_after + timedelta(minutes=1)
    begun = await study.start_study(account(LI), 1, later)
    assert len(begun.questions) == 3
    with refused("上次考试没有及格"):
        await study.start_study(account(LI), 1, later - timedelta(minutes=2))


async def test_a_session_course_passed_by_quiz_is_completed_at_the_sessions_close(database: str) -> None:
    await a_course_with_a_quiz(NEW_COURSE)
    await say(ZHANG, "/学习 1")
    for typed in ("B", "错"):
        await say(ZHANG, typed)
    assert await say(ZHANG, "AB") == (
        "课程“山地救援”考试：答对 3/3 题，100分（80分及格），及格了！\n"
        "考试已通过，还要参加一场这门课程的培训（签到签退）才结业：发送 /任务 看培训报名。"
    )
    assert await count(CourseCompletion) == 0
    assert "你：考试已通过，还差参加一场这门课程的培训（签到签退）。" in await say(ZHANG, "/课程 1")
    assert (await say(OFFICER, "/发布任务 培训 明天14:00 2小时 派出所会议室 10人 课程:1", GROUP)).startswith(
        "已发布任务 1"
    )
    assert "可以报名的培训：1 场（发送 /任务 看报名）" in await say(ZHANG, "/课程 1")
    await say(ZHANG, "/报名 1", GROUP)
    await attend(1, ZHANG)
    session_day = (datetime.now(timezone.utc) + timedelta(days=1)).astimezone(settings.timezone).date()
    until = session_day + relativedelta(years=2) - timedelta(days=1)
    assert await say(ZHANG, "/资质") == f"张三的资质：\n救援：有效至{shown(until)}，来自课程“山地救援”"


async def test_a_quiz_left_alone_or_cancelled_records_nothing(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await a_course_with_a_quiz()
    await say(ZHANG, "/学习 1")
    await say(ZHANG, "B")
    assert await say(ZHANG, "取消") == "已退出考试，没有记录成绩。需要时重新发送 /学习 课程编号。"
    assert "第2/3题" not in await say(ZHANG, "错")
    assert await count(QuizAttempt) == 0

    # left alone: the wait runs out, the member is told, and a late answer reaches no quiz
    monkeypatch.setattr(nonebot.get_driver().config, "session_expire_timeout", timedelta(seconds=0.3))
    bot = RecordingBot()
    await handle_event(bot, onebot_private_message(ZHANG, "/学习 1"))
    await handle_event(bot, onebot_private_message(ZHANG, "B"))
    await handle_event(bot, onebot_private_message(ZHANG, "错"))
    assert bot.replies()[-1].extract_plain_text() == THIRD_QUESTION
    await asyncio.sleep(0.6)
    assert bot.replies()[-1].extract_plain_text() == (
        "等太久了，考试已退出，没有记录成绩。需要时重新发送 /学习 课程编号。"
    )
    assert "考试" not in await say(ZHANG, "AB")
    assert await count(QuizAttempt) == 0
    assert (await count(CourseCompletion)) == 0
    monkeypatch.undo()
    assert (await say(ZHANG, "/学习 1")).endswith(FIRST_QUESTION)  # it starts again from the first question


async def test_studying_is_private_and_needs_something_to_study(database: str) -> None:
    await set_up()
    await say(OFFICER, ONLINE_COURSE)
    assert await say(ZHANG, "/学习 1", GROUP) == "学习和考试请私聊我发送 /学习 课程编号。"
    assert await say(ZHANG, "/学习 1") == "课程 1（反诈宣传）还没有学习资料和考题。发送 /课程 1 看怎么完成。"
    assert (await say(ZHANG, "/学习")).startswith("学习（私聊）：/学习 课程编号")
    assert await say(ZHANG, "/学习 9") == "没有编号为 9 的课程。发送 /课程 看可以参加的课程。"

    # material without a quiz: shown, and nothing asked
    await say(OFFICER, "/课程 资料 1 转账前先打电话核实")
    assert await say(ZHANG, "/学习 1") == (
        "【学习 课程 1】反诈宣传\n反诈知识\n转账前先打电话核实\n这门课程还没有考题，暂时不能在线结业；请问民警。"
    )
    assert "第2/3题" not in await say(ZHANG, "B")

    # a retired course: refused
    await say(OFFICER, f"/题库 1\n{EXAMPLE}")
    await say(OFFICER, "/课程 停用 1")
    assert await say(ZHANG, "/学习 1") == "没有编号为 1 的课程。发送 /课程 看可以参加的课程。"
    assert await count(QuizAttempt) == 0


async def test_a_course_retired_midway_records_nothing_and_says_so(database: str) -> None:
    await a_course_with_a_quiz()
    assert (await say(ZHANG, "/学习 1")).endswith(FIRST_QUESTION)
    await say(ZHANG, "B")
    await say(ZHANG, "错")
    await say(OFFICER, "/课程 停用 1")
    assert await say(ZHANG, "AB") == "课程 1（反诈宣传）在考试期间停用了，这次没有记录成绩。"
    assert (await count(QuizAttempt), await count(CourseCompletion)) == (0, 0)


async def test_an_officer_outside_the_courses_teams_is_pointed_to_the_question_bank(database: str) -> None:
    await a_course_with_a_quiz()
    assert await say(OFFICER, "/学习 1") == (
        "/学习 是队员学习和考试用的，你不在课程 1 的队伍里。看题目和答案请发送 /题库 1。"
    )
