"""Studying a course in private: /学习 (its material, then its quiz one question at a time), /题库 (an officer loads,
reads or removes a course's questions)."""

import asyncio
from pathlib import Path

from nonebot import require
from nonebot.adapters import Bot, Event
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.typing import T_State

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Image, Match, MultiVar, UniMessage

from plugins._arguments import as_number
from plugins._common import (
    CurrentPlace,
    answer_or_leave,
    close_dialogue,
    command,
    finish,
    open_dialogue,
    refuse_on_error,
    shows_pictures,
)
from plugins._texts.study import (
    QUIZ_PRIVATE_ONLY,
    QUIZ_USAGE,
    STUDY_CANCELLED,
    STUDY_EXPIRED,
    STUDY_LEFT,
    STUDY_PRIVATE_ONLY,
    STUDY_USAGE,
    text_for_bad_answer,
    text_for_material,
    text_for_question,
    text_for_quiz_cleared,
    text_for_quiz_loaded,
    text_for_quiz_shown,
    text_for_result,
    text_for_start,
)
from storage.services.training import question_bank, study
from storage.services.training.quiz import from_json, parse_answer
from storage.settings import settings

__plugin_meta__ = PluginMetadata(
    name="学习",
    description="私聊学习课程资料、一题一题考试；民警管理课程题库",
    usage="\n\n".join([STUDY_USAGE, QUIZ_USAGE]),
)

study_command = command("学习", "study", Args["words", MultiVar(str, "*")])
quiz_command = command("题库", "quiz", Args["words", MultiVar(str, "*")])

CLEAR_WORDS = ("清空", "clear")


def _number_and_rest(event: Event) -> tuple[int | None, str]:
    """The course's number after the command, and the text after it with its line breaks (the questions)."""
    parts = event.get_plaintext().strip().split(maxsplit=2)
    number = as_number(parts[1]) if len(parts) > 1 else None
    return number, parts[2].strip() if len(parts) > 2 else ""


@quiz_command.handle()
async def quiz(place: CurrentPlace, event: Event) -> None:
    if place.in_group:
        await finish(QUIZ_PRIVATE_ONLY)  # the answers would be read by who takes the quiz; nothing is kept
    number, text = _number_and_rest(event)
    if number is None:
        await finish(QUIZ_USAGE)
    if not text:
        await finish(text_for_quiz_shown(await refuse_on_error(question_bank.show_quiz(place.caller, number))))
    if text in CLEAR_WORDS:
        await finish(text_for_quiz_cleared(await refuse_on_error(question_bank.clear_quiz(place.caller, number))))
    await finish(text_for_quiz_loaded(await refuse_on_error(question_bank.load_quiz(place.caller, number, text))))


def _picture(path: str) -> bytes | None:
    try:
        return (settings.data_dir / Path(path)).read_bytes()
    except OSError:
        return None


@study_command.handle()
async def start(bot: Bot, event: Event, state: T_State, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    if place.in_group:
        await finish(STUDY_PRIVATE_ONLY)
    given = list(words.result) if words.available else []
    number = as_number(given[0]) if len(given) == 1 else None
    if number is None:
        await finish(STUDY_USAGE)
    begun = await refuse_on_error(study.start_study(place.caller, number))
    material = UniMessage.text(text_for_material(begun))
    if shows_pictures(bot):
        for path in begun.photos:
            # the bytes themselves: a QQ client on another machine could not open a path on this one
            if (picture := await asyncio.to_thread(_picture, path)) is not None:
                material += Image(raw=picture)
    if not begun.questions:
        await material.finish()
    await material.send()
    state["course_id"] = number
    state["questions"] = [question.as_json() for question in begun.questions]
    state["answers"] = []
    await _ask(bot, event, state, study_command.pause, first=text_for_start(begun) + "\n")


async def _ask(bot: Bot, event: Event, state: T_State, wait, first: str = "") -> None:
    """The next question; the dialogue waits for its answer (`wait`: the matcher's pause from the handler that
    began it, reject from the one that takes answers), a fresh wait for each question."""
    questions = from_json(state["questions"])
    number = len(state["answers"]) + 1
    open_dialogue(bot, event, expired=STUDY_EXPIRED)
    await wait(UniMessage.text(first + text_for_question(number, len(questions), questions[number - 1])))


@study_command.handle()
async def answer(matcher: Matcher, bot: Bot, event: Event, state: T_State, place: CurrentPlace) -> None:
    text = await answer_or_leave(matcher, event, cancelled=STUDY_CANCELLED, left=STUDY_LEFT)
    questions = from_json(state["questions"])
    number = len(state["answers"]) + 1
    question = questions[number - 1]
    chosen = parse_answer(question, text)
    if chosen is None:
        open_dialogue(bot, event, expired=STUDY_EXPIRED)
        await study_command.reject(UniMessage.text(text_for_bad_answer(number, question)))
    state["answers"].append(chosen)
    if len(state["answers"]) < len(questions):
        await _ask(bot, event, state, study_command.reject)
    close_dialogue(event)
    result = await refuse_on_error(study.finish_study(place.caller, state["course_id"], questions, state["answers"]))
    await finish(text_for_result(result))
