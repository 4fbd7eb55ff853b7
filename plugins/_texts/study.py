"""Wording of a course's questions (/题库) and of studying it (/学习): the material, the questions asked one at a
time, the result."""

from __future__ import annotations

from datetime import datetime

from plugins._texts import Refusal, add_refusals
from plugins._texts.training import until_text
from plugins._texts.when import describe
from storage.services.training.question_bank import QuizCleared, QuizLoaded, QuizShown
from storage.services.training.quiz import (
    MAX_OPTION_TEXT,
    MAX_QUESTION_TEXT,
    Kind,
    Question,
    letters_of,
)
from storage.services.training.study import StudyResult, StudyStart

EXAMPLE = (
    "1. 发现电信诈骗线索应当怎么做？[单选]\n"
    "A. 自己去抓人  B. 立即告诉民警*  C. 发到群里\n"
    "2. 劝阻酒驾时可以动手拦车。[判断] 错*"
)
QUIZ_USAGE = (
    "题库（民警，私聊）：/题库 课程编号 换行后写题目，正确答案后面加 *，例如\n"
    f"/题库 3\n{EXAMPLE}\n"
    "题型写 [单选] [多选] [判断]；/题库 3 看题目和答案　/题库 3 清空"
)
STUDY_USAGE = "学习（私聊）：/学习 课程编号　看资料，再一题一题考试，例如 /学习 3\n发送 /课程 看可以参加的课程。"
QUIZ_PRIVATE_ONLY = "题库里有答案，请私聊我发送 /题库，不要在群里发。"
STUDY_PRIVATE_ONLY = "学习和考试请私聊我发送 /学习 课程编号。"
STUDY_CANCELLED = "已退出考试，没有记录成绩。需要时重新发送 /学习 课程编号。"
STUDY_LEFT = "已退出考试，没有记录成绩。"
STUDY_EXPIRED = "等太久了，考试已退出，没有记录成绩。需要时重新发送 /学习 课程编号。"

KIND_NAMES: dict[Kind, str] = {"single": "单选", "multiple": "多选", "judge": "判断"}
HOW_TO_ANSWER: dict[Kind, str] = {
    "single": "回复一个字母，例如 B",
    "multiple": "回复所有正确选项的字母，例如 AC",
    "judge": "回复 对 或 错",
}

PROBLEMS: dict[str, str] = {
    "no_answer": "第{number}题没有标正确答案：在正确的选项后面加 *，判断题在题目后写 对* 或 错*。",
    "single_two": "第{number}题是单选，却标了不止一个正确答案：改成 [多选]，或只留一个 *。",
    "few_options": "第{number}题至少要有两个选项（A. … B. …）；判断题在题目后写 对* 或 错*。",
    "empty": "第{number}题没有题目文字。",
    "empty_option": "第{number}题的选项 {letter} 是空的。",
    "too_many_options": "第{number}题选项太多：最多 {most} 个（A 到 F）。",
    "text_too_long": f"第{{number}}题太长：题目最多 {MAX_QUESTION_TEXT} 字，每个选项最多 {MAX_OPTION_TEXT} 字。",
    "judge_options": "第{number}题是判断题：在题目后写 对* 或 错*，不用写其他选项。",
    "letters_out_of_order": "第{number}题的选项字母不连续（{letters}）：按 A、B、C… 的顺序写，不要跳过字母。",
    "stray_star": "第{number}题的选项 {letter} 中间有 *：* 只写在正确选项的最后；也检查一下选项字母是否连续。",
    "stray": "第一题前面有一行“{text}”看不懂：每题以题号开头，例如 1. 题目",
}
NOT_SAVED = "题库没有保存。"


def _bad_quiz(problem: str = "", **params: object) -> str:
    if isinstance(letters := params.get("letters"), list):
        params["letters"] = "、".join(letters)
    wording = PROBLEMS.get(problem, "第{number}题看不懂。").format(**params)
    return wording + ("" if wording.endswith("。") else "\n") + NOT_SAVED


def _retry_later(course_id: int, at: datetime) -> str:
    return f"上次考试没有及格，{describe(at)} 以后才能再考（私聊 /学习 {course_id}）。"


REFUSALS: dict[str, Refusal] = {
    "training.bad_quiz": _bad_quiz,
    "training.quiz_too_long": "题库太长了（最多 {most} 字）。" + NOT_SAVED,
    "training.too_many_questions": "一门课程最多 {most} 题。" + NOT_SAVED,
    "training.no_questions": f"没有看到题目：每题以题号开头，正确答案后面加 *，例如\n{EXAMPLE}",
    "training.retry_later": _retry_later,
    "training.nothing_to_study": "课程 {course_id}（{name}）还没有学习资料和考题。发送 /课程 {course_id} 看怎么完成。",
    "training.study_is_for_members": (
        "/学习 是队员学习和考试用的，你不在课程 {course_id} 的队伍里。看题目和答案请发送 /题库 {course_id}。"
    ),
    "training.retired_meanwhile": "课程 {course_id}（{name}）在考试期间停用了，这次没有记录成绩。",
    "training.quiz_changed": "考试期间题目改了，这次没有记录成绩。请重新发送 /学习 {course_id}。",
}
add_refusals(REFUSALS)


# ---- /题库


def _counts(counts: dict[Kind, int]) -> str:
    return "、".join(f"{KIND_NAMES[kind]} {count}" for kind, count in counts.items() if count)


def text_for_quiz_loaded(loaded: QuizLoaded) -> str:
    course = loaded.course
    total = sum(loaded.counts.values())
    what = f"共 {total} 题（{_counts(loaded.counts)}），{course.pass_mark}分及格"
    if not loaded.changed:
        return f"课程 {course.id}（{course.name}）的题库和这次发的一样，没有改动：{what}。"
    replaced = f"原来的 {loaded.replaced} 题已替换。" if loaded.replaced else ""
    return (
        f"已保存课程 {course.id}（{course.name}）的题库：{what}。{replaced}\n"
        f"队员私聊发送 /学习 {course.id} 考试。看题目和答案：/题库 {course.id}"
    )


def question_as_written(number: int, question: Question) -> str:
    """A question in the format /题库 reads, its right answers marked: what is shown can be copied and sent back."""
    head = f"{number}. {question.text}[{KIND_NAMES[question.kind]}]"
    if question.kind == "judge":
        return f"{head} {question.options[question.answers[0]]}*"
    options = "  ".join(
        f"{letters_of([index])}. {option}{'*' if index in question.answers else ''}"
        for index, option in enumerate(question.options)
    )
    return f"{head}\n{options}"


def text_for_quiz_shown(shown: QuizShown) -> str:
    course = shown.course
    if not shown.questions:
        return f"课程 {course.id}（{course.name}）还没有题目。\n{QUIZ_USAGE}"
    lines = [f"【课程 {course.id} 题库】{course.name}，共 {len(shown.questions)} 题，{course.pass_mark}分及格"]
    lines += [question_as_written(number, question) for number, question in enumerate(shown.questions, start=1)]
    lines.append(f"修改：/题库 {course.id} 换行后写全部题目（替换现有的）　清空：/题库 {course.id} 清空")
    return "\n".join(lines)


def text_for_quiz_cleared(cleared: QuizCleared) -> str:
    course = cleared.course
    if not cleared.removed:
        return f"课程 {course.id}（{course.name}）本来就没有题目。"
    return f"已清空课程 {course.id}（{course.name}）的题库（原有 {cleared.removed} 题）；已有的考试成绩不变。"


# ---- /学习


def text_for_material(start: StudyStart) -> str:
    course = start.course
    lines = [f"【学习 课程 {course.id}】{course.name}"]
    if course.description:
        lines.append(course.description)
    if start.material_text:
        lines.append(start.material_text)
    if start.material_link:
        lines.append(f"资料链接：{start.material_link}")
    if not (start.material_text or start.material_link or start.photos):
        lines.append("这门课程没有学习资料，直接考试。")
    if not start.questions:
        if course.online:
            lines.append("这门课程还没有考题，暂时不能在线结业；请问民警。")
        else:
            lines.append("参加一场这门课程的培训（签到签退）就结业：发送 /任务 看培训报名。")
    return "\n".join(lines)


def text_for_start(start: StudyStart) -> str:
    return (
        f"开始考试：共 {len(start.questions)} 题，{start.course.pass_mark}分及格。"
        "一题一题回答，随时回复“取消”退出（不记成绩）。"
    )


def text_for_question(number: int, total: int, question: Question) -> str:
    lines = [f"第{number}/{total}题（{KIND_NAMES[question.kind]}）{question.text}"]
    if question.kind != "judge":
        lines += [f"{letters_of([index])}. {option}" for index, option in enumerate(question.options)]
    lines.append(HOW_TO_ANSWER[question.kind])
    return "\n".join(lines)


def text_for_bad_answer(number: int, question: Question) -> str:
    how = HOW_TO_ANSWER[question.kind]
    if question.kind == "single":
        how = f"只选一个，{how}"
    return f"第{number}题请{how}（回复“取消”退出考试）。"


def _answer_text(question: Question, chosen: tuple[int, ...] | list[int]) -> str:
    if question.kind == "judge":
        return "、".join(question.options[index] for index in chosen)
    return f"{letters_of(chosen)}（{'、'.join(question.options[index] for index in sorted(chosen))}）"


def text_for_result(result: StudyResult) -> str:
    course = result.course
    verdict = "及格了！" if result.passed else "没有及格。"
    lines = [
        f"课程“{course.name}”考试：答对 {result.correct}/{result.questions} 题，{result.score}分"
        f"（{result.pass_mark}分及格），{verdict}"
    ]
    if result.wrong and result.passed:
        lines.append("答错的题：")
        lines += [
            f"第{wrong.number}题 {wrong.question.text} 你答 {_answer_text(wrong.question, wrong.chosen)}，"
            f"正确答案 {_answer_text(wrong.question, wrong.question.answers)}"
            for wrong in result.wrong
        ]
    elif result.wrong:  # the right answers only once passed: failing once would otherwise hand out the key
        lines.append("答错的题（复习资料后再考）：")
        lines += [f"第{wrong.number}题 {wrong.question.text}" for wrong in result.wrong]
    if result.completed:
        lines.append(
            f"已完成课程，取得资质：{'、'.join(result.granted)}，{until_text(result.valid_until)}。发送 /资质 查看。"
        )
    elif result.session_needed:
        lines.append("考试已通过，还要参加一场这门课程的培训（签到签退）才结业：发送 /任务 看培训报名。")
    elif result.retry_from is not None:
        lines.append(f"{describe(result.retry_from)} 以后可以再考：私聊发送 /学习 {course.id}")
    return "\n".join(lines)
