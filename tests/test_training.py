"""Training (/课程, /结业, /资质): an officer defines a course, a session of it (a 培训 task) completes it for who
attended, a completion grants its qualifications until their last day, and a task or call-out needing one accepts
a member holding it; a sibling unit's officer and members of other units get nothing of the course."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func
from sqlmodel import col, select

from storage import db
from storage.models import AuditLog, Course, CourseCompletion, OutboxMessage, Qualification, QuizAttempt, Task
from storage.services import emergency, membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef, member_of
from storage.services.training import completions, qualifications
from storage.settings import TagSource, settings
from tests.chat import say
from tests.places import in_group
from tests.test_statement_counts import statements

ADMIN, OFFICER, SIBLING_OFFICER = 10001, 20001, 20002
ZHANG, LI, ZHAO = 30001, 30002, 30003
GROUP, SIBLING_GROUP = 555001, 555002
NEW_COURSE = "/课程 新建 山地救援 有效期2年 授予:救援 及格80分 山地搜救和基础急救"


def account(user: int) -> ChatAccount:
    return ChatAccount("onebot", str(user))


async def set_up() -> dict[int, int]:
    """夕阳红巡逻队 of 历下分局 with 张三 and 李四; 赵六 in a team of 市中分局, whose officer is a sibling. Returns each
    account's member number."""
    admin = account(ADMIN)
    await organisation.grant_officer(admin, PersonRef(platform="onebot", user_id=str(OFFICER)), "济南市公安局/历下分局")
    await organisation.grant_officer(
        admin, PersonRef(platform="onebot", user_id=str(SIBLING_OFFICER)), "济南市公安局/市中分局"
    )
    await organisation.bind_group(account(OFFICER), in_group(GROUP), "夕阳红巡逻队")
    await organisation.bind_group(account(SIBLING_OFFICER), in_group(SIBLING_GROUP), "市中巡逻队")
    for user, name, phone, group, officer in (
        (ZHANG, "张三", "13800138001", GROUP, OFFICER),
        (LI, "李四", "13800138002", GROUP, OFFICER),
        (ZHAO, "赵六", "13800138003", SIBLING_GROUP, SIBLING_OFFICER),
    ):
        application = await membership.apply_to_team(account(user), in_group(group), name, phone, [])
        await membership.decide_application(account(officer), approve=True, number=application.number)
    numbers = {}
    async with db.session() as session:
        for user in (OFFICER, SIBLING_OFFICER, ZHANG, LI, ZHAO):
            member = await member_of(session, "onebot", str(user))
            assert member is not None
            assert member.id is not None
            numbers[user] = member.id
    return numbers


def local_today() -> date:
    return datetime.now(timezone.utc).astimezone(settings.timezone).date()


def shown(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


async def private_messages_to(user: int) -> list[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user}").order_by(col(OutboxMessage.id))
        )
        return [row.text for row in rows.all()]


async def count(model) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def attend(task_id: int, *users: int) -> None:
    """Each user checks in at the start and out at the end; then the task is closed after its end."""
    async with db.session() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        start, end = task.start_at, task.end_at
    for user in users:
        await tasks.check_in(account(user), task_id, start)
        await tasks.check_out(account(user), task_id, end)
    await tasks.close_task(None, task_id, end + timedelta(hours=2))


async def test_an_officer_defines_a_course_that_members_of_their_units_see_and_nobody_else(database: str) -> None:
    await set_up()
    created = await say(OFFICER, NEW_COURSE)
    assert created.startswith(
        "已建好课程：1. 山地救援（授予 救援，有效期2年）\n单位：济南市公安局/历下分局　考试及格：80分"
    )
    assert (await say(OFFICER, NEW_COURSE)).startswith("这门课程之前已经建好了：1. 山地救援")  # a double send
    assert await count(Course) == 1
    async with db.session() as session:
        (entry,) = (await session.exec(select(AuditLog).where(AuditLog.action == "create_course"))).all()
    assert (entry.target, entry.detail["grants"]) == ("course:1", ["救援"])

    # what is wrong is said, and nothing is made
    assert await say(OFFICER, "/课程 新建 急救") == (
        "请写完成课程后授予什么资质，例如 授予:救援（任务的 需要:救援 就认这项资质）。"
    )
    assert await say(OFFICER, "/课程 新建 急救 有效期200年 授予:急救") == (
        "有效期“有效期200年”看不懂：写 有效期2年、有效期6个月 或 长期（最多 10 年）。"
    )
    assert (
        await say(OFFICER, "/课程 新建 急救 授予:急救 及格120分")
        == "及格分“及格120分”不对：写 及格80分 这样的整数分（1 到 100）。"
    )
    assert (
        await say(ZHANG, "/课程 新建 急救 授予:急救") == "只有民警可以管理课程。想学习请发送 /课程 看可以参加的课程。"
    )
    assert await count(Course) == 1

    # members of the unit's teams see it; a member and an officer of the sibling unit are told it does not exist
    assert await say(ZHANG, "/课程", GROUP) == (
        "课程：\n1. 山地救援（授予 救援，有效期2年）\n看一门：/课程 编号　线上学习：私聊 /学习 编号"
    )
    shown_to_member = await say(ZHANG, "/课程 1")
    assert shown_to_member.startswith(
        "【课程 1】山地救援\n山地搜救和基础急救\n授予：救援　有效期2年\n参加培训（签到签退）即结业。"
    )
    nothing = "没有编号为 1 的课程。发送 /课程 看可以参加的课程。"
    assert await say(ZHAO, "/课程 1") == nothing
    assert await say(SIBLING_OFFICER, "/课程 1") == nothing
    assert await say(ZHAO, "/课程 9") == "没有编号为 9 的课程。发送 /课程 看可以参加的课程。"
    assert await say(ZHAO, "/课程") == "你的队伍现在没有可以参加的课程。"
    assert await say(SIBLING_OFFICER, "/结业 1 1") == nothing


async def test_a_session_attended_grants_the_qualification_a_task_requires(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "required_tags_from", TagSource.qualified)
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    await say(LI, "/标签 +救援")  # a declared specialty does not count under "qualifications only"
    posted = await say(OFFICER, "/发布任务 山地搜救 明天8:00 4小时 千佛山 5人 需要:救援", GROUP)
    assert posted.startswith("已发布任务 1")
    refused = (
        "任务 1 需要资质：救援。你还没有有效的这项资质，不能报名。\n"
        "“救援”可以通过课程 1（山地救援）取得：发送 /课程 1 看怎么参加。"
    )
    assert await say(ZHANG, "/报名 1", GROUP) == refused
    assert await say(LI, "/报名 1", GROUP) == refused

    # a session of the course: a 培训 task linked with 课程:1
    assert await say(OFFICER, "/发布任务 巡逻 明天19:00 2小时 北区 5人 课程:1", GROUP) == (
        "课程:编号 只用于培训任务：任务类型要写培训，例如 /发布任务 培训 明天19:00 2小时 派出所会议室 30人 课程:3"
    )
    assert (await say(SIBLING_OFFICER, "/发布任务 培训 明天19:00 2小时 会议室 5人 课程:1", SIBLING_GROUP)) == (
        "没有编号为 1 的课程。发送 /课程 看可以参加的课程。"
    )
    session_card = await say(OFFICER, "/发布任务 培训 明天14:00 2小时 派出所会议室 10人 课程:1", GROUP)
    assert session_card.startswith("已发布任务 2")
    assert "课程 1 的培训：签到签退记为参加，结业要求发送 /课程 1 查看" in session_card
    for user in (ZHANG, LI):
        assert (await say(user, "/报名 2", GROUP)).startswith("队员：报名成功！任务 2")
    await attend(2, ZHANG)  # 李四 signed up and did not come

    session_day = (datetime.now(timezone.utc) + timedelta(days=1)).astimezone(settings.timezone).date()
    until = session_day + relativedelta(years=2) - timedelta(days=1)
    told = await private_messages_to(ZHANG)
    assert told[-1] == (f"你已完成课程“山地救援”（参加培训），取得资质：救援，有效至{shown(until)}。发送 /资质 查看。")
    assert await say(ZHANG, "/资质") == f"张三的资质：\n救援：有效至{shown(until)}，来自课程“山地救援”"
    assert await say(LI, "/资质") == "李四，你还没有资质。完成课程就能取得：发送 /课程 看可以参加的课程。"
    assert (await say(ZHANG, "/报名 1", GROUP)).startswith("队员：报名成功！任务 1")
    assert await say(LI, "/报名 1", GROUP) == refused

    # closing again changes nothing: one completion, one qualification
    await tasks.close_task(account(OFFICER), 2)
    assert (await count(CourseCompletion), await count(Qualification)) == (1, 1)

    # the officer sees who completed it, in private; in the group only how many
    detail = await say(OFFICER, "/课程 1")
    assert f"有效 1 人：张三({numbers[ZHANG]}) 有效至{shown(until)}" in detail
    assert "培训场次：1 场" in detail
    in_group_detail = await say(OFFICER, "/课程 1", GROUP)
    assert "张三" not in in_group_detail
    assert "有效 1 人，快到期或已到期 0 人。" in in_group_detail


async def test_a_call_out_needing_a_qualification_reaches_only_who_holds_a_valid_one(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "required_tags_from", TagSource.qualified)
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    await say(LI, "/标签 +救援")
    await say(OFFICER, f"/结业 1 {numbers[ZHANG]}")
    raised = await emergency.raise_alert(account(OFFICER), "山上有人迷路", 2, ["救援"], None)
    assert raised.people == 1
    assert any(text.startswith("【紧急") for text in await private_messages_to(ZHANG))
    assert not any(text.startswith("【紧急") for text in await private_messages_to(LI))


async def test_a_qualification_counts_through_its_last_day_and_a_retake_after_expiry_renews_it(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, "/课程 新建 护学岗培训 有效期1年 授予:护学")
    completed_on = date(2026, 3, 5)
    moment = datetime(2026, 3, 5, 10, 0, tzinfo=settings.timezone)
    marked = await completions.complete_by_hand(account(OFFICER), 1, [numbers[ZHANG]], moment)
    assert marked.valid_until == date(2027, 3, 4)
    async with db.get_engine().connect() as connection:

        def held_on(day: date):
            return connection.run_sync(lambda sync: qualifications.qualified_tags(sync, numbers[ZHANG], ["护学"], day))

        assert await held_on(completed_on) == {"护学"}
        assert await held_on(date(2027, 3, 4)) == {"护学"}  # the last day still counts
        assert await held_on(date(2027, 3, 5)) == set()  # the day after does not

    # after it ran out, /资质 says so and names the course to retake; a retake grants a new year
    late = datetime(2027, 3, 10, 10, 0, tzinfo=settings.timezone)
    own = await qualifications.my_qualifications(account(ZHANG), late)
    (held,) = own.held
    assert (held.tag, held.state, held.valid_until) == ("护学", "expired", date(2027, 3, 4))
    assert held.retake is not None
    assert held.retake.course_id == 1
    await completions.complete_by_hand(account(OFFICER), 1, [numbers[ZHANG]], late)
    (held,) = (await qualifications.my_qualifications(account(ZHANG), late)).held
    assert (held.state, held.valid_until) == ("valid", date(2028, 3, 9))
    soon = (await qualifications.my_qualifications(account(ZHANG), datetime(2028, 2, 20, tzinfo=timezone.utc))).held
    assert soon[0].state == "expiring"


async def test_an_officer_marks_completion_by_hand_once_and_only_for_their_members(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    zhang, li, zhao = numbers[ZHANG], numbers[LI], numbers[ZHAO]
    answer = await say(OFFICER, f"/结业 1 {zhang} {li} {zhang} {zhao} 999")
    until = local_today() + relativedelta(years=2) - timedelta(days=1)
    assert answer == (
        f"已登记完成课程“山地救援”：张三({zhang})、李四({li})，有效至{shown(until)}。已私聊通知。\n"
        f"没有登记：{zhao}、999（不是你单位的在队队员，或没有这个成员号）。"
    )
    assert await say(OFFICER, f"/graduate 1 {zhang}，{li}") == f"今天已经登记过：张三({zhang})、李四({li})。"
    assert (await count(CourseCompletion), await count(Qualification)) == (2, 2)
    async with db.session() as session:
        entries = (await session.exec(select(AuditLog).where(AuditLog.action == "complete_course"))).all()
    assert [entry.detail["members"] for entry in entries] == [[zhang, li]]
    assert await say(OFFICER, "/结业 1") == (
        "结业（民警）：/结业 课程编号 成员号…　例如 /结业 3 12 15\n给没有手机签到的队员登记完成课程。"
    )
    assert (await say(ZHANG, f"/结业 1 {zhang}")).startswith("只有民警可以管理课程")


async def test_a_session_of_a_course_with_a_quiz_completes_it_once_the_quiz_is_passed(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    async with db.session() as session:
        course = await session.get(Course, 1)
        assert course is not None
        course.quiz = [{"text": "劝阻酒驾时可以动手拦车。", "kind": "judge", "options": ["对", "错"], "answers": [1]}]
        session.add(course)
    await say(OFFICER, "/发布任务 培训 明天14:00 2小时 派出所会议室 10人 课程:1", GROUP)
    await say(ZHANG, "/报名 1", GROUP)
    await attend(1, ZHANG)
    assert (await private_messages_to(ZHANG))[-1] == (
        "你参加了课程“山地救援”的培训，还要通过考试才算结业：私聊发送 /学习 1"
    )
    assert await count(CourseCompletion) == 0

    # passing the quiz later completes it, counted from the session's day
    now = datetime.now(timezone.utc) + timedelta(days=2)
    async with db.session() as session:
        course = await session.get(Course, 1)
        assert course is not None
        session.add(QuizAttempt(course_id=1, member_id=numbers[ZHANG], score=100, correct=1, questions=1, passed=True))
        done = await completions.complete_after_passing(session, course, numbers[ZHANG], now)
    session_day = (datetime.now(timezone.utc) + timedelta(days=1)).astimezone(settings.timezone).date()
    assert done is not None
    assert (done.completed_on, done.new) == (session_day, True)


async def test_a_retired_course_takes_no_sessions_and_what_it_granted_stays(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    await say(OFFICER, f"/结业 1 {numbers[ZHANG]}")
    assert await say(OFFICER, "/课程 停用 1") == (
        "已停用课程 1（山地救援）：不能再开培训、考试或结业；已经取得的资质到期前照样有效。"
    )
    assert await say(OFFICER, "/课程 停用 1") == "课程 1（山地救援）之前已经停用。"
    assert await say(OFFICER, "/发布任务 培训 明天14:00 2小时 会议室 10人 课程:1", GROUP) == (
        "没有编号为 1 的课程。发送 /课程 看可以参加的课程。"
    )
    assert (await say(ZHANG, "/资质")).startswith("张三的资质：\n救援：有效至")
    assert await say(ZHANG, "/课程") == "你的队伍现在没有可以参加的课程。"


async def test_an_officer_sees_a_members_qualifications_in_their_file(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    await say(OFFICER, f"/结业 1 {numbers[ZHANG]}")
    until = local_today() + relativedelta(years=2) - timedelta(days=1)
    line = f"资质：救援：有效至{shown(until)}，来自课程“山地救援”"
    assert line in (await say(OFFICER, f"/档案 {numbers[ZHANG]}")).split("\n")
    assert line in (await say(ZHANG, "/档案")).split("\n")
    assert "资质：" not in await say(OFFICER, f"/档案 {numbers[LI]}")


async def test_a_city_course_shows_each_unit_officer_only_their_own_members(database: str) -> None:
    numbers = await set_up()
    city_officer = 20003
    await organisation.grant_officer(
        account(ADMIN), PersonRef(platform="onebot", user_id=str(city_officer)), "济南市公安局"
    )
    created = await say(city_officer, "/课程 新建 防诈宣传 有效期1年 授予:防诈")
    assert created.startswith("已建好课程：1. 防诈宣传")
    marked = await say(city_officer, f"/结业 1 {numbers[ZHANG]} {numbers[ZHAO]}")
    assert marked.startswith("已登记完成课程“防诈宣传”：张三")

    with statements() as seen:
        mine = await say(OFFICER, "/课程 1")
    assert f"张三({numbers[ZHANG]})" in mine
    assert "赵六" not in mine
    await say(city_officer, f"/结业 1 {numbers[LI]}")
    with statements() as seen_with_one_more:
        mine = await say(OFFICER, "/课程 1")
    assert f"李四({numbers[LI]})" in mine
    assert len(seen_with_one_more) == len(seen)  # the officer's members are picked in SQL, not one by one
    assert "1. 防诈宣传（授予 防诈，有效期1年）　有效 2 人" in (await say(OFFICER, "/课程")).split("\n")
    await say(OFFICER, "/课程 新建 防诈宣传 有效期1年 授予:防诈")  # the station's own, of the same name
    assert [line.split("　你已完成")[0] for line in (await say(ZHANG, "/课程")).split("\n")[1:3]] == [
        "1. 防诈宣传（授予 防诈，有效期1年）　济南市公安局",
        "2. 防诈宣传（授予 防诈，有效期1年）　历下分局",
    ]
    theirs = await say(SIBLING_OFFICER, "/课程 1")
    assert f"赵六({numbers[ZHAO]})" in theirs
    assert "张三" not in theirs
    # the station's officer uses the city's course and is told who changes it
    assert "这是“济南市公安局”的课程，由那里的民警修改。" in mine
    assert await say(OFFICER, "/课程 停用 1") == (
        "课程 1（防诈宣传）是“济南市公安局”的课程，只有那里的民警能修改。你可以用它开培训和登记结业。"
    )
    await say(city_officer, "/课程 资料 1 认清冒充公检法的骗局 https://example.org/fz")
    assert "资料：认清冒充公检法的骗局　链接 https://example.org/fz（全部：私聊 /学习 1）" in (
        await say(ZHANG, "/课程 1", GROUP)
    ).split("\n")
    everyone = await say(city_officer, "/课程 1")
    assert "资料：/课程 资料 1 …　题库：/题库 1　停用：/课程 停用 1" in everyone
    assert "张三" in everyone
    assert "赵六" in everyone


async def set_last_day(until: date) -> None:
    async with db.session() as session:
        for model in (Qualification, CourseCompletion):
            for row in (await session.exec(select(model))).all():
                row.valid_until = until
                session.add(row)


async def test_thirty_days_left_is_running_out_soon_in_every_view(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    await say(OFFICER, f"/结业 1 {numbers[ZHANG]}")

    await set_last_day(local_today() + timedelta(days=31))
    assert "（快到期）" not in await say(ZHANG, "/资质")
    assert "要复训" not in await say(OFFICER, "/课程 1")
    assert "救援 1 / 0 / 0" in await say(OFFICER, "/统计 本月")

    await set_last_day(local_today() + timedelta(days=30))  # the day the reminder says 还有30天
    assert "（快到期），来自课程“山地救援”；复训：/课程 1" in await say(ZHANG, "/资质")
    assert "要复训（30天内到期或已到期）1 人：张三" in await say(OFFICER, "/课程 1")
    assert "救援 1 / 1 / 0" in await say(OFFICER, "/统计 本月")


async def test_a_course_is_written_as_people_write_it_and_what_cannot_be_read_is_refused(database: str) -> None:
    await set_up()
    assert (await say(OFFICER, "/课程 新建 急救 有效期两年 授予:急救 及格八十分")).startswith(
        "已建好课程：1. 急救（授予 急救，有效期2年）\n单位：济南市公安局/历下分局　考试及格：80分"
    )
    assert (await say(OFFICER, "/课程 新建 护学 长期有效 授予:护学")).startswith(
        "已建好课程：2. 护学（授予 护学，长期有效）"
    )
    assert await say(OFFICER, "/课程 新建 防汛 有效期1年 授予:防汛\n/课程 新建 禁毒 长期 授予:禁毒") == (
        "一条消息只建一门课程：每门课程单独发一条 /课程 新建 …，什么也没有建。"
    )
    for typed, said in (
        ("有效期1.5年", "有效期“有效期1.5年”看不懂：写 有效期2年、有效期6个月 或 长期（最多 10 年）。"),
        ("有校期1年", "有效期“有校期1年”看不懂：写 有效期2年、有效期6个月 或 长期（最多 10 年）。"),
        ("及各70分", "及格分“及各70分”不对：写 及格80分 这样的整数分（1 到 100）。"),
        ("及格5.5分", "及格分“及格5.5分”不对：写 及格80分 这样的整数分（1 到 100）。"),
        (
            "授予:<b>急救</b>",
            "授予的资质“授予:<b>急救</b>”看不懂：写 授予:救援 或 授予:救援、急救（只写文字，不要符号）。",
        ),
    ):
        words = f"/课程 新建 防汛 授予:防汛 {typed}" if not typed.startswith("授予") else f"/课程 新建 防汛 {typed}"
        assert await say(OFFICER, words) == said
    assert await count(Course) == 2

    # the same name again with other settings is no double send; a retired name is not taken again
    assert (await say(OFFICER, "/课程 新建 急救 有效期2年 授予:急救 及格60分")).startswith("本单位已经有课程“急救”")
    await say(OFFICER, "/课程 停用 2")
    assert await say(OFFICER, "/课程 新建 护学 授予:护学") == (
        "本单位的课程“护学”（编号2）已经停用，名称不能再用：新课程换个名称，例如 护学2027。"
    )


async def test_an_officer_of_two_units_names_the_unit_of_a_new_course(database: str) -> None:
    await set_up()
    await organisation.grant_officer(
        account(ADMIN), PersonRef(platform="onebot", user_id=str(OFFICER)), "济南市公安局/槐荫分局"
    )
    assert await say(OFFICER, "/课程 新建 急救 授予:急救") == (
        "请写明单位，例如 /课程 新建 山地救援 有效期2年 授予:救援 单位:历下分局"
    )
    assert (await say(OFFICER, "/课程 新建 急救 授予:急救 单位:槐荫分局")).startswith(
        "已建好课程：1. 急救（授予 急救，长期有效）\n单位：济南市公安局/槐荫分局"
    )


async def test_a_session_of_a_course_retired_before_its_close_completes_nobody(database: str) -> None:
    await set_up()
    await say(OFFICER, NEW_COURSE)
    await say(OFFICER, "/发布任务 培训 明天14:00 2小时 派出所会议室 10人 课程:1", GROUP)
    await say(ZHANG, "/报名 1", GROUP)
    await say(OFFICER, "/课程 停用 1")
    await attend(1, ZHANG)
    assert (await count(CourseCompletion), await count(Qualification)) == (0, 0)
    assert not any("你已完成课程" in text for text in await private_messages_to(ZHANG))


async def test_a_session_counts_for_who_was_there_for_at_least_half_of_it(database: str) -> None:
    numbers = await set_up()
    await say(OFFICER, NEW_COURSE)
    await say(OFFICER, "/发布任务 培训 明天14:00 2小时 派出所会议室 10人 课程:1", GROUP)
    for user in (ZHANG, LI):
        await say(user, "/报名 1", GROUP)
    async with db.session() as session:
        task = await session.get(Task, 1)
        assert task is not None
        start, end = task.start_at, task.end_at
    await tasks.check_in(account(LI), 1, start - timedelta(minutes=10))  # in and out before it begins
    await tasks.check_out(account(LI), 1, start - timedelta(minutes=5))
    await tasks.check_in(account(ZHANG), 1, start + timedelta(minutes=55))  # late, for the second hour
    await tasks.check_out(account(ZHANG), 1, end)
    closed = await tasks.close_task(None, 1, end + timedelta(hours=2))
    assert closed.training is not None
    assert (closed.training.completed, closed.training.too_short) == (["张三"], ["李四"])
    assert (await private_messages_to(LI))[-1] == (
        "你在课程“山地救援”的培训签到签退只有 0 分钟，不到一半，没有登记结业。如果你全程参加了，请找民警登记（/结业）。"
    )
    async with db.session() as session:
        holders = (await session.exec(select(Qualification.member_id))).all()
    assert holders == [numbers[ZHANG]]


async def test_a_leader_manages_no_course_and_sees_no_names(database: str) -> None:
    numbers = await set_up()
    await organisation.set_leader(account(OFFICER), PersonRef(member_number=numbers[ZHANG]), in_group(GROUP), None)
    await say(OFFICER, NEW_COURSE)
    await say(OFFICER, f"/结业 1 {numbers[LI]}")
    officers_only = "只有民警可以管理课程。想学习请发送 /课程 看可以参加的课程。"
    assert await say(ZHANG, "/课程 新建 急救 授予:急救") == officers_only
    assert await say(ZHANG, f"/结业 1 {numbers[ZHANG]}") == officers_only
    assert await say(ZHANG, "/课程 停用 1") == officers_only
    assert (await say(ZHANG, "/题库 1\n1. 问题？[判断] 对*")).startswith("只有民警")
    shown_to_leader = await say(ZHANG, "/课程 1")
    assert "李四" not in shown_to_leader  # who completed it is for officers
    assert (await count(Course), await count(CourseCompletion)) == (1, 1)
