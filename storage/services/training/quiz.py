"""A course's quiz: the text format an officer writes (/题库), a member's answer to one question, and the score.

The format, one question after another:

    1. 发现电信诈骗线索应当怎么做？[单选]
    A. 自己去抓人  B. 立即告诉民警*  C. 发到群里
    2. 劝阻酒驾时可以动手拦车。[判断] 错*
    3. 哪些情况要立即报告民警？[多选]
    A. 打架*
    B. 有人溺水*
    C. 下雨

- A question starts a line with its number and a dot or a comma (`1.` `1、` `1．` `１.` `1)`); its text may go on
  over the next lines until the first option.
- Options start with a letter A–F (either case) and `.` `、` `．` `:` `：` `)`; several on one line are separated by
  spaces, or each has a line of its own. The options are in order A, B, C….
- `*` (or `＊`) after an option marks it right; a judge question (true or false) is written with 对* or 错* after
  its text (also 正确/错误, √/×) and has the options 对 and 错.
- The kind is a tag in the question's text: [单选] [多选] [判断] (or 【】); without one, a question with 对*/错* is
  a judge question, with two or more right options a multiple choice, otherwise a single choice.

Everything is checked before anything is kept: a question without a right answer, a single choice with two, fewer
than two options, an empty question, more than MAX_QUESTIONS questions, a text too long are refused with the
question's number (`training.bad_quiz`, `problem` one of PROBLEMS).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from storage.errors import DomainError, quoted

Kind = Literal["single", "multiple", "judge"]
KINDS: tuple[Kind, ...] = ("single", "multiple", "judge")

MAX_QUESTIONS = 50
MAX_QUESTION_TEXT = 300
MAX_OPTION_TEXT = 100
MAX_OPTIONS = 6
MAX_QUIZ_TEXT = 20000
LETTERS = "ABCDEF"
JUDGE_OPTIONS = ["对", "错"]

PROBLEMS = (
    "no_answer",  # no right answer marked
    "single_two",  # a single choice with two or more right answers
    "few_options",  # fewer than two options
    "empty",  # no question text
    "too_many_options",
    "text_too_long",  # the question's or an option's text
    "judge_options",  # a judge question with options A, B…
    "stray",  # a line before the first question
    "empty_option",
    "letters_out_of_order",  # an option letter skipped or out of place (A, B, D)
    "stray_star",  # a * inside an option's text (a mistyped letter joins two options)
)

QUESTION = re.compile(r"^(\d{1,3})\s*[.、,，．)）]\s*(.*)$")
OPTION = re.compile(r"(?:^|(?<=\s))([A-Fa-f])\s*[.、:：．)）]\s*")
"""Where an option may start: a letter and its mark, at a line's start or after a space. Which of these are the
options is chosen by _option_marks: the run A, B, C… in order (a question's own text may name 'C、D 两区')."""
TAG = re.compile(r"[\[【［]\s*(单选|多选|判断)(?:题)?\s*[\]】］]")
TAG_KINDS: dict[str, Kind] = {"单选": "single", "多选": "multiple", "判断": "judge"}
STAR = "*"
JUDGE_MARK = re.compile(r"(对|错|正确|错误|√|×|✓|✗|✔|✘)\s*\*\s*$")


@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind
    options: tuple[str, ...]
    answers: tuple[int, ...]
    """The indexes of the right options."""

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "options": list(self.options), "answers": list(self.answers)}


def from_json(items: list[dict[str, Any]]) -> list[Question]:
    return [
        Question(item["text"], item["kind"], tuple(item["options"]), tuple(int(a) for a in item["answers"]))
        for item in items
    ]


FULL_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "＊": "*",
        "\u3000": " ",
    }
)


def _normal(text: str) -> str:
    """Full-width digits, letters, stars and spaces as plain ones; the rest as typed (the text is shown again)."""
    return text.translate(FULL_WIDTH)


def _refuse(number: int, problem: str, **params: Any) -> DomainError:
    return DomainError("training.bad_quiz", number=number, problem=problem, **params)


def parse_quiz(text: str) -> list[Question]:
    """The questions of a quiz written in the format above; DomainError `training.bad_quiz` (nothing kept) when any
    is wrong, `training.no_questions` when there is none."""
    if len(text) > MAX_QUIZ_TEXT:
        raise DomainError("training.quiz_too_long", most=MAX_QUIZ_TEXT)
    blocks: list[tuple[int, list[str]]] = []
    for raw in _normal(text).splitlines():
        line = raw.strip()
        if not line:
            continue
        if found := QUESTION.match(line):
            blocks.append((int(found.group(1)), [found.group(2).strip()]))
            if len(blocks) > MAX_QUESTIONS:
                raise DomainError("training.too_many_questions", most=MAX_QUESTIONS)
        elif not blocks:
            raise _refuse(1, "stray", text=quoted(line))
        else:
            blocks[-1][1].append(line)
    if not blocks:
        raise DomainError("training.no_questions")
    return [_question(number, lines) for number, lines in blocks]


def _option_marks(body: str) -> list[tuple[int, int]]:
    """The (start, end) of each option's mark: the run of marks A, B, C… in order that begins at an A, preferring
    one whose A starts a line, then the longest, then the last (a question's text naming 'A、B 两个路口' comes
    before its options). Fewer than two: none (the text only names letters)."""
    found = [(match.start(), match.end(), match.group(1).upper()) for match in OPTION.finditer(body)]
    best: list[tuple[int, int]] = []
    best_rank: tuple[bool, int, int] = (False, 0, -1)
    for index, (start, end, letter) in enumerate(found):
        if letter != "A":
            continue
        run, expected = [(start, end)], "B"
        for later_start, later_end, later in found[index + 1 :]:
            if later == expected:
                run.append((later_start, later_end))
                expected = chr(ord(expected) + 1)
        at_line_start = start == 0 or body[start - 1] == "\n"
        rank = (at_line_start, len(run), start)
        if len(run) >= 2 and rank > best_rank:
            best, best_rank = run, rank
    return best


def _question(number: int, lines: list[str]) -> Question:
    """One question from its lines: its text (up to the first option), then its options."""
    body = "\n".join(lines)
    marks = _option_marks(body)
    head, rest = (body[: marks[0][0]], body[marks[0][0] :]) if marks else (body, "")
    kind: Kind | None = None
    if tag := TAG.search(" ".join(body.split())):
        kind = TAG_KINDS[tag.group(1)]
    whole_judge = JUDGE_MARK.search(body)
    if whole_judge and kind in (None, "judge") and not _judge_options(body, marks):
        head, rest = body[: whole_judge.start()], ""  # a true-or-false question whose text names letters
    head = " ".join(head.split())
    if tag := TAG.search(head):
        head = (head[: tag.start()] + head[tag.end() :]).strip()
    judge = JUDGE_MARK.search(head) if not rest or kind == "judge" else None
    if not rest and judge is None and whole_judge is not None:
        judge = whole_judge
    elif judge:
        head = head[: judge.start()].strip()
    if not head:
        raise _refuse(number, "empty")
    if len(head) > MAX_QUESTION_TEXT:
        raise _refuse(number, "text_too_long", most=MAX_QUESTION_TEXT)
    if kind == "judge" or (kind is None and judge):
        return _judge(number, head, judge.group(1) if judge else None, rest)
    options, answers = _options(number, rest)
    if len(options) < 2:
        raise _refuse(number, "few_options")
    if len(options) > MAX_OPTIONS:
        raise _refuse(number, "too_many_options", most=MAX_OPTIONS)
    if not answers:
        raise _refuse(number, "no_answer")
    if kind is None:
        kind = "multiple" if len(answers) > 1 else "single"
    if kind == "single" and len(answers) > 1:
        raise _refuse(number, "single_two")
    return Question(head, kind, tuple(options), tuple(answers))


def _judge(number: int, head: str, mark: str | None, rest: str) -> Question:
    """A true-or-false question: 对* or 错* after its text, or written as two options 对 and 错 with one marked."""
    if rest:
        options, answers = _options(number, rest)
        words = [JUDGE_ANSWERS.get(option) for option in options]
        if len(options) != 2 or None in words or len(set(words)) != 2 or len(answers) != 1:
            raise _refuse(number, "judge_options")
        mark = options[answers[0]]
    if mark is None:
        raise _refuse(number, "no_answer")
    right = JUDGE_ANSWERS[mark]
    return Question(head, "judge", tuple(JUDGE_OPTIONS), (right,))


def _line_start(text: str, match: re.Match[str]) -> bool:
    return match.start() == 0 or text[match.start() - 1] == "\n"


def _judge_options(body: str, marks: list[tuple[int, int]]) -> bool:
    """Whether the options are 对 and 错 (a true-or-false question written as A. 对 B. 错*)."""
    if len(marks) != 2:
        return False
    texts = _option_texts(body[marks[0][0] :], [(start - marks[0][0], end - marks[0][0]) for start, end in marks])
    return all(text.rstrip(STAR).strip() in JUDGE_ANSWERS for text in texts)


def _option_texts(rest: str, marks: list[tuple[int, int]]) -> list[str]:
    if not marks:
        return []
    ends = [start for start, _ in marks[1:]] + [len(rest)]
    return [rest[end:next_start] for (_, end), next_start in zip(marks, ends, strict=True)]


def _options(number: int, rest: str) -> tuple[list[str], list[int]]:
    """The options (in the order written) and the indexes of those marked right."""
    options: list[str] = []
    answers: list[int] = []
    marks = _option_marks(rest)
    starts = {start for start, _ in marks}
    for match in OPTION.finditer(rest):  # an option written at a line's start that is not in the run A, B, C…
        if _line_start(rest, match) and match.start() not in starts:
            written = [found.group(1).upper() for found in OPTION.finditer(rest) if _line_start(rest, found)]
            raise _refuse(number, "letters_out_of_order", letters=written)
    for index, option in enumerate(_option_texts(rest, marks)):
        if STAR in option.rstrip().rstrip(STAR):
            raise _refuse(number, "stray_star", letter=LETTERS[min(index, len(LETTERS) - 1)])
        option = " ".join(option.split())
        marked = option.endswith(STAR)
        option = option.rstrip(STAR).strip()
        if not option:
            raise _refuse(number, "empty_option", letter=LETTERS[min(index, len(LETTERS) - 1)])
        if len(option) > MAX_OPTION_TEXT:
            raise _refuse(number, "text_too_long", most=MAX_OPTION_TEXT)
        options.append(option)
        if marked:
            answers.append(index)
    return options, answers


# ---- answering and scoring

TRAILING = re.compile(r"[\u3002.!]+$")
"""What an answer may end with."""
ANSWER_SEPARATORS = re.compile(r"[\s,，、;；/]+")
ANSWER_PREFIX = re.compile(r"^(?:我觉得|我认为|我)?(?:选择|选|答案是|答案|答)\s*[:：]?\s*")
ANSWER_SUFFIX = re.compile(r"(?:的|吧|啊|呀|呢|了)+$")
JUDGE_ANSWERS = {
    **dict.fromkeys(("对", "正确", "√", "✓", "✔", "是", "T", "TRUE", "Y", "YES"), 0),
    **dict.fromkeys(("错", "错误", "×", "✗", "✘", "X", "否", "不对", "F", "FALSE", "N", "NO"), 1),
}


def parse_answer(question: Question, text: str) -> tuple[int, ...] | None:
    """The options a member chose, as indexes, from what they typed (`A`, `b`, `A C`, `AC`, `A、C`, full-width
    letters; for a judge question 对/错, 正确/错误, √/×, 是/否, T/F); None when it is no answer to this question (a
    letter beyond the options, two letters for a single choice, nothing)."""
    typed = TRAILING.sub("", unicodedata.normalize("NFKC", text).strip().upper())
    typed = ANSWER_SUFFIX.sub("", ANSWER_PREFIX.sub("", typed)).strip()  # 我选B, 选B吧, 对的
    if question.kind == "judge":
        if typed in JUDGE_ANSWERS:
            return (JUDGE_ANSWERS[typed],)
        if typed in ("A", "B"):  # the options as shown: A. 对  B. 错
            return (LETTERS.index(typed),)
        return None
    letters = ANSWER_SEPARATORS.sub("", typed)
    if not letters or any(letter not in LETTERS[: len(question.options)] for letter in letters):
        return None
    chosen = tuple(sorted({LETTERS.index(letter) for letter in letters}))
    if question.kind == "single" and len(chosen) != 1:
        return None
    return chosen


def is_right(question: Question, chosen: tuple[int, ...]) -> bool:
    return tuple(sorted(chosen)) == tuple(sorted(question.answers))


def score(questions: list[Question], answers: list[tuple[int, ...]]) -> tuple[int, int]:
    """(right answers, score out of 100 rounded to the nearest); a multiple choice counts only when exactly
    right, and a question without an answer counts as wrong."""
    if not questions:
        return 0, 0
    correct = sum(1 for question, chosen in zip(questions, answers, strict=False) if is_right(question, chosen))
    total = len(questions)
    return correct, (correct * 200 + total) // (2 * total)


def letters_of(indexes: tuple[int, ...] | list[int]) -> str:
    return "".join(LETTERS[index] for index in sorted(indexes))


def counts_by_kind(questions: list[Question]) -> dict[Kind, int]:
    return {kind: sum(1 for question in questions if question.kind == kind) for kind in KINDS}
