"""A course's quiz: the text format officers write (forgiving of how people type, refusing what cannot be a
question), a member's answer to one question, the score; and /题库, which loads, shows and clears a course's
questions in private only."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage import db
from storage.errors import DomainError
from storage.models import AuditLog, Course
from storage.services.training.quiz import Question, parse_answer, parse_quiz, score
from tests.chat import say
from tests.refusals import refused
from tests.test_training import GROUP, NEW_COURSE, OFFICER, SIBLING_OFFICER, ZHANG, set_up

EXAMPLE = """1. 发现电信诈骗线索应当怎么做？[单选]
A. 自己去抓人  B. 立即告诉民警*  C. 发到群里
2. 劝阻酒驾时可以动手拦车。[判断] 错*
3. 哪些情况要立即报告民警？[多选]
A. 打架*
B. 有人溺水*
C. 下雨"""


def test_the_documented_example_reads_as_three_questions() -> None:
    single, judge, multiple = parse_quiz(EXAMPLE)
    assert single.as_json() == {
        "text": "发现电信诈骗线索应当怎么做？",
        "kind": "single",
        "options": ["自己去抓人", "立即告诉民警", "发到群里"],
        "answers": [1],
    }
    assert judge.as_json() == {
        "text": "劝阻酒驾时可以动手拦车。",
        "kind": "judge",
        "options": ["对", "错"],
        "answers": [1],
    }
    assert multiple.as_json() == {
        "text": "哪些情况要立即报告民警？",
        "kind": "multiple",
        "options": ["打架", "有人溺水", "下雨"],
        "answers": [0, 1],
    }


def test_numbers_letters_stars_and_tags_are_read_however_they_are_typed() -> None:
    typed = """１、巡逻时可以穿拖鞋 ×＊
2．哪个是报警电话【单选】
a：120  b、110＊ c) 119
3) 巡逻要带什么
A. 手电*
B. 哨子＊
4.发现火情先报警 正确*
5、  可以透露举报人信息吗 [判断]
A. 对  B. 错*
6. 哪个不对？
A:甲 B:乙 C:丙*"""
    questions = parse_quiz(typed)
    assert [(q.text, q.kind, q.options, q.answers) for q in questions] == [
        ("巡逻时可以穿拖鞋", "judge", ("对", "错"), (1,)),
        ("哪个是报警电话", "single", ("120", "110", "119"), (1,)),
        ("巡逻要带什么", "multiple", ("手电", "哨子"), (0, 1)),  # two stars without a tag: multiple choice
        ("发现火情先报警", "judge", ("对", "错"), (0,)),
        ("可以透露举报人信息吗", "judge", ("对", "错"), (1,)),  # a judge question written with options
        ("哪个不对？", "single", ("甲", "乙", "丙"), (2,)),
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("1. 问题？\nA. 甲  B. 乙", "第1题没有标正确答案：在正确的选项后面加 \\*"),
        ("1. 问题？[单选]\nA. 甲*  B. 乙*", "第1题是单选，却标了不止一个正确答案"),
        ("1. 问题？\nA. 甲*", "第1题至少要有两个选项"),
        ("1. 对的\nA. 甲*  B. 乙\n2. [单选]\nA. 甲*  B. 乙", "第2题没有题目文字"),
        ("1. 问题 [判断]", "第1题没有标正确答案"),
        ("随便写写\n1. 问题 对*", "第一题前面有一行“随便写写”看不懂"),
        ("1. " + "长" * 301 + " 对*", "第1题太长：题目最多 300 字"),
        ("".join(f"{n}. 第{n}题 对*\n" for n in range(1, 52)), "一门课程最多 50 题"),
        ("今天天气不错", "第一题前面有一行"),
        ("", "没有看到题目"),
    ],
)
def test_what_cannot_be_a_question_is_refused_with_its_number(text: str, said: str) -> None:
    with refused(said):
        parse_quiz(text)
    with refused("题库没有保存" if text else None):
        parse_quiz(text)


SINGLE = Question("哪个是报警电话", "single", ("120", "110", "119"), (1,))
MULTIPLE = Question("巡逻要带什么", "multiple", ("手电", "哨子", "零食"), (0, 1))
JUDGE = Question("巡逻时可以穿拖鞋", "judge", ("对", "错"), (1,))


def test_letters_in_a_questions_own_text_are_not_taken_for_its_options() -> None:
    crossing, example, judge = parse_quiz(
        "1. 巡逻到 C、D 两区交界处发现有人打架，应当？ A. 上前制止 B. 报告民警* C. 离开\n"
        "2. 下列哪项属于 e.g. 诈骗？ A. 冒充公检法要求转账* B. 正常网购\n"
        "3. 在 A、B 两个路口之间可以随意停车。[判断] 错*"
    )
    assert (crossing.text, crossing.options, crossing.answers) == (
        "巡逻到 C、D 两区交界处发现有人打架，应当？",
        ("上前制止", "报告民警", "离开"),
        (1,),
    )
    assert (example.text, example.options) == ("下列哪项属于 e.g. 诈骗？", ("冒充公检法要求转账", "正常网购"))
    assert (judge.text, judge.kind, judge.answers) == ("在 A、B 两个路口之间可以随意停车。", "judge", (1,))


def test_an_answer_is_read_as_people_say_it() -> None:
    single, judge, multiple = parse_quiz(EXAMPLE)
    for typed in ("选B", "我选B", "B吧", "答案是B", "选 b"):
        assert parse_answer(single, typed) == (1,), typed
    for typed, chosen in (("对的", (0,)), ("我选对", (0,)), ("错了", (1,)), ("是的", (0,))):
        assert parse_answer(judge, typed) == chosen, typed
    assert parse_answer(multiple, "选AB") == (0, 1)
    assert parse_answer(single, "不知道") is None


def test_an_option_letter_skipped_or_a_star_inside_an_option_is_refused() -> None:
    with refused("第1题的选项字母不连续（A、B、D）"):
        parse_quiz("1. 哪些要报告？[多选]\nA. 打架*\nB. 溺水*\nD. 下雨")
    with refused("第1题的选项 B 中间有 *"):
        parse_quiz("1. 哪些要报告？[多选]\nA. 打架*  B. 溺水*  D. 下雨")


def test_an_answer_is_read_however_a_member_types_it() -> None:
    for typed in ("B", "b", "Ｂ", " b。"):
        assert parse_answer(SINGLE, typed) == (1,)
    for typed in ("A B", "AB", "a、b", "ＢＡ", "A,B", "b a"):
        assert parse_answer(MULTIPLE, typed) == (0, 1)
    assert parse_answer(MULTIPLE, "C") == (2,)
    for typed in ("对", "正确", "√", "是", "T", "t"):
        assert parse_answer(JUDGE, typed) == (0,)
    for typed in ("错", "错误", "×", "否", "F", "f"):
        assert parse_answer(JUDGE, typed) == (1,)
    # no answer to the question: asked again, not counted
    for typed in ("", "D", "AB", "110", "不知道"):
        assert parse_answer(SINGLE, typed) is None
    assert parse_answer(MULTIPLE, "AD") is None
    assert parse_answer(JUDGE, "也许") is None


def test_the_score_counts_a_multiple_choice_only_when_exactly_right() -> None:
    questions = [SINGLE, MULTIPLE, JUDGE]
    assert score(questions, [(1,), (0, 1), (1,)]) == (3, 100)
    assert score(questions, [(1,), (0,), (1,)]) == (2, 67)
    assert score(questions, [(0,), (0, 1, 2), (0,)]) == (0, 0)
    assert score([], []) == (0, 0)


# ---- /题库 in chat

SAVED = (
    "已保存课程 1（山地救援）的题库：共 3 题（单选 1、多选 1、判断 1），80分及格。\n"
    "队员私聊发送 /学习 1 考试。看题目和答案：/题库 1"
)


async def quiz_of(course_id: int) -> list[dict]:
    async with db.session() as session:
        course = await session.get(Course, course_id)
        assert course is not None
        return course.quiz


async def test_an_officer_loads_shows_replaces_and_clears_a_quiz_in_private(database: str) -> None:
    await set_up()
    await say(OFFICER, NEW_COURSE)
    assert await say(OFFICER, f"/题库 1\n{EXAMPLE}") == SAVED
    assert [item["kind"] for item in await quiz_of(1)] == ["single", "judge", "multiple"]
    assert (await say(OFFICER, f"/quiz 1\n{EXAMPLE}")).startswith("课程 1（山地救援）的题库和这次发的一样，没有改动")

    shown = await say(OFFICER, "/题库 1")
    assert shown.splitlines()[:5] == [
        "【课程 1 题库】山地救援，共 3 题，80分及格",
        "1. 发现电信诈骗线索应当怎么做？[单选]",
        "A. 自己去抓人  B. 立即告诉民警*  C. 发到群里",
        "2. 劝阻酒驾时可以动手拦车。[判断] 错*",
        "3. 哪些情况要立即报告民警？[多选]",
    ]
    # what is shown can be sent back as it is
    assert [q.as_json() for q in parse_quiz("\n".join(shown.splitlines()[1:-1]))] == await quiz_of(1)

    # a wrong quiz keeps the old one
    assert await say(OFFICER, "/题库 1\n1. 新问题？\nA. 甲  B. 乙") == (
        "第1题没有标正确答案：在正确的选项后面加 *，判断题在题目后写 对* 或 错*。题库没有保存。"
    )
    assert len(await quiz_of(1)) == 3
    assert await say(OFFICER, "/题库 1\n1. 新问题 对*") == (
        "已保存课程 1（山地救援）的题库：共 1 题（判断 1），80分及格。原来的 3 题已替换。\n"
        "队员私聊发送 /学习 1 考试。看题目和答案：/题库 1"
    )
    assert await say(OFFICER, "/题库 1 清空") == "已清空课程 1（山地救援）的题库（原有 1 题）；已有的考试成绩不变。"
    assert await say(OFFICER, "/题库 1 清空") == "课程 1（山地救援）本来就没有题目。"
    assert await quiz_of(1) == []
    assert (await say(OFFICER, "/题库 1")).startswith("课程 1（山地救援）还没有题目。\n题库（民警，私聊）")
    async with db.session() as session:
        actions = (await session.exec(select(AuditLog.action).where(AuditLog.target == "course:1"))).all()
    assert [action for action in actions if action != "create_course"] == ["load_quiz", "load_quiz", "clear_quiz"]


async def test_a_quiz_in_a_group_is_refused_and_only_officers_of_the_course_change_it(database: str) -> None:
    await set_up()
    await say(OFFICER, NEW_COURSE)
    assert await say(OFFICER, f"/题库 1\n{EXAMPLE}", GROUP) == "题库里有答案，请私聊我发送 /题库，不要在群里发。"
    assert await say(OFFICER, "/题库 1", GROUP) == "题库里有答案，请私聊我发送 /题库，不要在群里发。"
    assert await quiz_of(1) == []
    assert await say(SIBLING_OFFICER, f"/题库 1\n{EXAMPLE}") == "没有编号为 1 的课程。发送 /课程 看可以参加的课程。"
    assert (await say(ZHANG, f"/题库 1\n{EXAMPLE}")).startswith("只有民警可以管理课程")
    assert await quiz_of(1) == []
    assert (await say(OFFICER, "/题库")).startswith("题库（民警，私聊）：/题库 课程编号 换行后写题目")


def test_a_refusal_names_its_problem() -> None:
    with pytest.raises(DomainError) as caught:
        parse_quiz("1. 问题？\nA. 甲*\n2. 好的 对*")
    assert caught.value.params["number"] == 1
    assert caught.value.params["problem"] == "few_options"
