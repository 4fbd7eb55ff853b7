"""Statistics, the XLSX export and the pictures: figures a programme reports, privacy in the export, Chinese glyphs."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageDraw

import plugins._images
from plugins._images import board_image, certificate_image, font, image_for, stats_chart
from plugins._texts.export import export_file
from plugins._texts.stats import text_for_report
from storage import db
from storage.errors import NotAllowed
from storage.models import QuizAttempt, utcnow
from storage.services import emergency, export, organisation, stats, tasks, tips
from storage.services.people import PersonRef
from storage.services.standings import Board, Standing
from storage.services.totals import period_of
from storage.services.training import completions, courses
from storage.services.when import DateRange
from storage.settings import settings
from tests.places import in_group
from tests.test_points import GROUPS, NOW, OFFICER, set_up, volunteer
from tests.test_statement_counts import statements


def around_now() -> DateRange:
    """From before the test's fixed clock to after today's real clock: the tasks and the joins both fall in it."""
    start = min(NOW, utcnow()) - timedelta(days=2)
    return DateRange(start, max(NOW, utcnow()) + timedelta(days=40))


async def run_a_patrol() -> int:
    """A patrol for 一队: 队员一 and 队员二 serve, 队员三 does not come."""
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 北区 5人 3分".split(), NOW)
    task = (await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), spec)).view.task
    for number in (1, 2, 3):
        await tasks.signup_for_task(volunteer(number), task.id, NOW)
    for number in (1, 2):
        await tasks.check_in(volunteer(number), task.id, task.start_at)
    await tasks.close_task(OFFICER, task.id, task.end_at)
    return task.id


async def test_statistics_for_a_team_and_for_a_unit_with_its_parts(database: str) -> None:
    await set_up()
    await run_a_patrol()
    tip = (await tips.report_tip(volunteer(1), "治安", "路灯坏了", anonymous=False)).tip
    await tips.verify_tip(OFFICER, tip.id, 5, None)
    await tips.report_tip(volunteer(2), "盗窃", "车棚丢车")
    await tips.report_tip(volunteer(2), "安全隐患", "楼道堆放杂物")
    await tips.report_tip(volunteer(1), "矛盾纠纷", "邻里因停车争吵")
    alert = (await emergency.raise_alert(OFFICER, "走失老人", 2, [], None)).alert
    await emergency.respond(volunteer(4), alert.id, None, alert.created_at + timedelta(seconds=90))
    await emergency.respond(volunteer(5), alert.id, None, alert.created_at + timedelta(seconds=200))

    with pytest.raises(NotAllowed):
        await stats.report(volunteer(1), in_group(GROUPS["一队"]), around_now(), "team")
    team = await stats.report(OFFICER, in_group(GROUPS["一队"]), around_now(), "team")
    figures = team.total
    assert (figures.name, figures.tasks, figures.patrols, figures.checkins) == ("一队", 1, 2, 2)
    assert (figures.hours, figures.attended, figures.no_shows) == (4.0, 2, 1)
    assert (round(figures.attendance_rate, 2), round(figures.no_show_rate, 2)) == (0.67, 0.33)
    # a team's figures count its named tips only: the three anonymous ones would show which team sent them
    assert (figures.tips, figures.tips_verified, figures.new_members) == (1, 1, 3)
    assert (figures.hazards, figures.disputes) == (0, 0)
    assert sum(count for _, count, _ in team.days) == 2

    unit = await stats.report(OFFICER, None, around_now(), "unit")
    assert unit.total.name == "闫千户派出所"
    assert (unit.total.patrols, unit.total.new_members, unit.total.alerts) == (2, 6, 1)
    assert (unit.total.tips, unit.total.hazards, unit.total.disputes) == (4, 1, 1)  # the unit counts every tip
    assert unit.total.alert_median_seconds == pytest.approx(90, abs=1)
    assert [(part.name, part.patrols) for part in unit.parts] == [("一队", 2), ("二队", 0)]
    text = text_for_report(unit)
    assert "巡逻 2 人次" in text
    assert "隐患 1 起，矛盾纠纷 1 起" in text
    assert "首个响应中位数 1.5 分钟" in text
    assert "· 一队：2 / 4.0 / 67%" in text
    assert "培训" not in text  # no training at all: no training lines
    assert "资质" not in text

    chart = Image.open(io.BytesIO(stats_chart(unit)))
    assert chart.format == "PNG"
    assert chart.size == (800, 450)
    Image.open(io.BytesIO(stats_chart(team)))


async def test_the_export_names_no_anonymous_reporter_and_keeps_text_as_text(database: str) -> None:
    members = await set_up()
    await organisation.set_leader(OFFICER, PersonRef(member_number=members["一队"][1]), in_group(GROUPS["一队"]), None)
    await run_a_patrol()
    hidden = (await tips.report_tip(volunteer(3), "赌博", '=HYPERLINK("http://x") 楼下有人赌博')).tip
    await tips.verify_tip(OFFICER, hidden.id, 20, None)
    named = (await tips.report_tip(volunteer(1), "治安", "路灯坏了", anonymous=False)).tip
    await tips.verify_tip(OFFICER, named.id, 5, None)

    with pytest.raises(NotAllowed):
        await export.export_workbook(volunteer(1), None, around_now(), None)
    made = export_file(await export.export_workbook(OFFICER, None, around_now(), None))
    book = load_workbook(io.BytesIO(made.content))
    assert book.sheetnames == ["成员", "任务", "出勤明细", "积分流水", "线索", "培训", "资质"]
    people = list(book["成员"].iter_rows(min_row=2, values_only=True))
    assert len(people) == 6
    assert all("****" in row[2] for row in people)  # phones masked
    assert [row[8:10] for row in book["任务"].iter_rows(min_row=2, values_only=True)] == [(2, 1)]  # in, no-show
    tips_sheet = {row[0]: row for row in book["线索"].iter_rows(min_row=2, values_only=True)}
    assert tips_sheet[hidden.id][7] == "匿名"
    assert tips_sheet[hidden.id][6].startswith("'=HYPERLINK")  # shown as text, never run as a formula
    assert tips_sheet[named.id][7] == "队员一"
    tip_rewards = [row for row in book["积分流水"].iter_rows(min_row=2, values_only=True) if row[4] == "线索奖励"]
    assert [row[2] for row in tip_rewards] == ["队员一"]  # the named reporter's; the anonymous one waits, unseen
    assert all(row[6] == "" or row[6] is None for row in tip_rewards)  # no tip number
    assert all(len(row[0]) == 10 for row in tip_rewards)  # the day only, not the minute it was verified
    everything = " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
    assert "13700000003" not in everything

    leader = export_file(await export.export_workbook(volunteer(2), None, around_now(), None))
    led = load_workbook(io.BytesIO(leader.content))
    assert led.sheetnames == ["成员", "任务", "出勤明细", "积分流水", "培训", "资质"]  # tips only reach officers
    assert leader.scope_name == "一队"
    assert export.cell("+1") == "'+1"
    assert export.cell(-5) == -5


def local_day(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=settings.timezone)


TRAINING_PERIOD = DateRange(local_day(2026, 11, 22), local_day(2026, 12, 1))
"""22 to 30 November: the qualifications are counted as on the 30th."""


async def run_training(members: dict[str, list[int]]) -> int:
    """山地救援 (a year, grants 救援): a session for 一队 on 25 November that 队员一 attends and 队员二 misses; 队员二,
    三, 四 and 五 completed it by hand on other days; quizzes finished in and out of the period, in and out of the
    unit. Returns the session's task number."""
    await courses.create_course(OFFICER, courses.parse_course("山地救援 有效期1年 授予:救援".split()))
    spec = tasks.parse_task_words("培训 明天14:00 2小时 派出所会议室 10人 课程:1".split(), NOW)
    session = (await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), spec)).view.task
    not_held = tasks.parse_task_words("培训 明天19:00 2小时 派出所会议室 10人 课程:1".split(), NOW)
    await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), not_held)  # never closed: not held
    for number in (1, 2):
        await tasks.signup_for_task(volunteer(number), session.id, NOW)
    await tasks.check_in(volunteer(1), session.id, session.start_at)
    await tasks.close_task(OFFICER, session.id, session.end_at)
    one, two, three = members["一队"]
    four, five, _ = members["二队"]
    for number, completed_on in (
        (two, local_day(2025, 12, 10, 10)),  # through 2026-12-09: 9 days after the 30th
        (three, local_day(2025, 11, 20, 10)),  # through 2026-11-19: run out
        (four, local_day(2025, 11, 1, 10)),  # run out, and renewed on 2026-11-10
        (four, local_day(2026, 11, 10, 10)),
        (five, local_day(2026, 12, 2, 10)),  # after the period: not held on the 30th
    ):
        await completions.complete_by_hand(OFFICER, 1, [number], completed_on)
    outsider = members["外队"][0]
    async with db.session() as session_db:
        for member_id, passed, at in (
            (one, True, local_day(2026, 11, 26, 20)),
            (two, False, local_day(2026, 11, 26, 21)),
            (four, True, local_day(2026, 11, 27, 9)),
            (one, True, local_day(2026, 12, 2, 9)),  # after the period
            (outsider, False, local_day(2026, 11, 27, 9)),  # another unit's member
        ):
            score = 100 if passed else 0
            session_db.add(
                QuizAttempt(
                    course_id=1, member_id=member_id, score=score, correct=int(passed), questions=1, passed=passed,
                    created_at=at,
                )
            )  # fmt: skip
    return session.id


async def test_the_figures_count_training_sessions_quizzes_and_who_holds_each_qualification(database: str) -> None:
    members = await set_up()
    await run_training(members)

    unit = await stats.report(OFFICER, None, TRAINING_PERIOD, "unit")
    training = unit.training
    assert training is not None
    assert (training.sessions, training.attended, training.quiz_attempts, training.quiz_passed) == (1, 1, 3, 2)
    assert training.day == date(2026, 11, 30)
    assert [(h.tag, h.valid, h.expiring, h.expired) for h in training.holdings] == [("救援", 3, 1, 1)]
    text = text_for_report(unit)
    assert "培训 1 场 1 人次，线上考试 3 次，通过率 67%" in text
    assert "资质人数（11月30日 有效 / 其中30天内到期 / 已过期未复训）：救援 3 / 1 / 1" in text

    team = await stats.report(OFFICER, in_group(GROUPS["二队"]), TRAINING_PERIOD, "team")
    assert team.training is not None
    assert (team.training.sessions, team.training.attended, team.training.quiz_attempts) == (0, 0, 1)
    assert [(h.tag, h.valid, h.expiring, h.expired) for h in team.training.holdings] == [("救援", 1, 0, 0)]
    assert "通过率 100%" in text_for_report(team)

    # two statements, however many sessions, quizzes and qualifications
    async with db.session() as session_db:
        station = await organisation.find_unit(session_db, "市局/历下分局/闫千户派出所")
        assert station is not None
        covered = stats.UnitScope(name=station.name, unit=station)
        with statements() as seen:
            await stats.training_for(session_db, covered, TRAINING_PERIOD)
    assert len(seen) == 2


async def test_the_export_has_the_training_sessions_and_each_members_qualifications(database: str) -> None:
    members = await set_up()
    session_id = await run_training(members)
    made = export_file(await export.export_workbook(OFFICER, None, TRAINING_PERIOD, None))
    book = load_workbook(io.BytesIO(made.content))
    assert list(book["培训"].iter_rows(values_only=True)) == [
        ("任务号", "课程", "日期", "出勤"),
        (session_id, "1 山地救援", "2026-11-25", 1),
    ]
    one, two, three = members["一队"]
    four = members["二队"][0]
    assert list(book["资质"].iter_rows(values_only=True)) == [
        ("成员号", "姓名", "队伍", "资质", "课程", "有效至", "状态"),
        (one, "队员一", "一队", "救援", "1 山地救援", "2027-11-24", "有效"),
        (two, "队员二", "一队", "救援", "1 山地救援", "2026-12-09", "将到期"),
        (three, "队员三", "一队", "救援", "1 山地救援", "2026-11-19", "已过期"),
        (four, "队员四", "二队", "救援", "1 山地救援", "2027-11-09", "有效"),
    ]
    assert made.counts["培训"] == 1


def glyph(character: str) -> Image.Image:
    picture = Image.new("L", (48, 48))
    ImageDraw.Draw(picture).text((4, 0), character, font=font(32), fill=255)
    return picture


def test_the_font_draws_chinese_rather_than_empty_boxes() -> None:
    missing = glyph("\U000f0000").tobytes()  # a private-use code point: the font's empty box
    for character in "义警之星积分排行榜荣誉证书队员":
        drawn = glyph(character)
        assert drawn.getbbox() is not None, character
        assert drawn.tobytes() != missing, character


def test_the_board_and_certificate_pictures() -> None:
    board = Board(
        period=period_of("month", datetime(2026, 11, 24, tzinfo=timezone.utc)),
        scope="team",
        scope_name="夕阳红巡逻队",
        metric="points",
        rows=[Standing(rank, rank, f"队员{rank}", 100 - rank) for rank in range(1, 11)],
        own=Standing(12, 99, "张三", 40),
    )
    drawn = board_image(board)
    picture = Image.open(io.BytesIO(drawn))
    assert picture.format == "PNG"
    assert picture.size[1] > 700  # ten rows
    # the caller's own place is in the text, not on the card: every member asking gets the same card
    plugins._images._drawn_boards.clear()  # drawn again, not the card kept for the same board
    assert board_image(replace(board, own=Standing(3, 98, "李四", 97))) == drawn
    assert board_image(replace(board, rows=board.rows[:9])) != drawn
    rgb = picture.convert("RGB")
    assert rgb.getpixel((700, picture.size[1] - 5)) == (255, 255, 255)  # white stays white on the palette card
    assert rgb.getpixel((700, 150)) == (244, 246, 250)  # and the shaded rows their shade
    header = picture.crop((30, 20, 600, 70)).convert("L")
    darkest, lightest = header.getextrema()
    assert darkest < 100  # the blue band
    assert lightest == 255  # and the white title on it
    empty = Board(period=board.period, scope="team", scope_name="一队", metric="minutes")
    Image.open(io.BytesIO(board_image(empty)))
    certificate = Image.open(io.BytesIO(certificate_image("一队", "张三", "2026年10月", 120, "6小时")))
    assert certificate.size == (1000, 700)
    spec = {"kind": "honour", "team": "一队", "member": "张三", "month": "10月", "points": 1, "hours": "1小时"}
    assert image_for(spec).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="no picture"):
        image_for({"kind": "nothing"})


async def test_a_sheet_too_long_is_cut_and_the_officer_told(database: str, monkeypatch) -> None:
    await set_up()
    monkeypatch.setattr(export, "MAX_ROWS", 4)
    made = export_file(await export.export_workbook(OFFICER, None, around_now(), None))
    assert made.cut == ["成员"]
    assert made.counts["成员"] == 4
    book = load_workbook(io.BytesIO(made.content))
    assert book["成员"].max_row == 5  # the heading and four people


async def test_the_export_says_which_tasks_have_not_started(database: str) -> None:
    await set_up()
    closed = await run_a_patrol()
    started = tasks.parse_task_words("宣传 明天19:00 1小时 广场 5人".split(), NOW)  # in the past of the real clock
    going = (await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), started)).view.task
    coming = tasks.parse_task_words("宣传 明天19:00 1小时 广场 5人".split())
    to_come = (await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), coming)).view.task
    made = export_file(await export.export_workbook(OFFICER, None, around_now(), None))
    sheet = load_workbook(io.BytesIO(made.content))["任务"]
    statuses = {row[0]: row[5] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert statuses == {closed: "已结束", going.id: "进行中", to_come.id: "未开始"}
