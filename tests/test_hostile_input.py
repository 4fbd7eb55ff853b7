"""Every command, driven with hostile arguments by a volunteer, an officer and an administrator, in a group and in
private: each message gets a plain-text answer, nothing is written to the log as an error, no handler fails, and
nothing in the database changes.

The arguments are what people and attackers type where a command expects something else: numbers too large for
the database, negative numbers, 10,000 characters, emoji, CQ codes and markup, full-width digits. The
commands are read from what the plugins registered, so a new command is driven too.
"""

from __future__ import annotations

import hashlib

import pytest
from arclet.alconna import command_manager
from nonebot.adapters.onebot.v11 import Message, MessageSegment
from nonebot.log import logger
from nonebot.message import handle_event
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.app import UNEXPECTED_ERROR_REPLY
from storage import db
from storage.services import membership, organisation, tasks, tips
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import RecordingBot, onebot_group_message, onebot_private_message
from tests.places import in_group

ADMIN, OFFICER, VOLUNTEER = 10001, 20001, 30001
GROUP = 555001
HOSTILE = [
    "99999999999999999999",
    "-1",
    "0",
    "x" * 10_000,
    "😀🚓",
    "[CQ:at,qq=all]",
    "<b>粗</b>",
    "１２３",
]
TEMPLATES = ["{h}", "777777 {h}", "{h} 5 {h}"]
"""Where the hostile text goes: alone, after a number that names nothing, and around a plausible amount."""
FREE_TEXT = {"紧急": "结束 {h}"}
"""A call-out's text is free: any words an officer sends are a call-out, so the hostile text goes elsewhere."""


def command_names() -> list[str]:
    """Every command the plugins registered, by its Chinese name."""
    names = sorted({str(command.command) for command in command_manager.get_commands()})
    assert "报名" in names
    assert len(names) >= 35, names
    return names


async def snapshot() -> str:
    """Every row of every table, as one digest."""
    digest = hashlib.sha256()
    async with db.get_engine().connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await connection.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            digest.update(table.name.encode())
            for row in sorted(repr(tuple(row)) for row in rows):
                digest.update(row.encode())
    return digest.hexdigest()


async def set_up() -> None:
    """A station with a bound team group, an officer, a volunteer, a task and a tip: none of them numbered like
    the hostile numbers."""
    await organisation.grant_officer(
        ChatAccount("onebot", str(ADMIN)), PersonRef(platform="onebot", user_id=str(OFFICER)), "济南市公安局/历下分局"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "夕阳红巡逻队")
    application = await membership.apply_to_team(
        ChatAccount("onebot", str(VOLUNTEER)), in_group(GROUP), "张三", "13800138000", []
    )
    await membership.decide_application(ChatAccount("onebot", str(OFFICER)), approve=True, number=application.number)
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 闫千户片区 10人 5分".split())
    await tasks.post_task(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), spec)
    await tips.report_tip(ChatAccount("onebot", str(VOLUNTEER)), "赌博", "某小区地下室有人聚赌")


PLACES = {
    "volunteer in the team's group": (VOLUNTEER, GROUP),
    "officer in the team's group": (OFFICER, GROUP),
    "officer in private": (OFFICER, None),
    "administrator in private": (ADMIN, None),
}


def message_from(user_id: int, group_id: int | None, content: str):
    if group_id is None:
        return onebot_private_message(user_id, content)
    return onebot_group_message(group_id, user_id, Message(MessageSegment.text(content)))


async def test_hostile_arguments_get_an_answer_and_change_nothing(database: str) -> None:
    await set_up()
    logged: list[str] = []
    sink = logger.add(lambda record: logged.append(str(record)), level="WARNING")
    names = command_names()
    before = await snapshot()
    changed: list[str] = []
    try:
        for place, (user_id, group_id) in PLACES.items():
            for name in names:
                templates = [FREE_TEXT[name]] if name in FREE_TEXT and user_id == OFFICER else TEMPLATES
                for template in templates:
                    for hostile in HOSTILE:
                        typed = f"/{name} {template.format(h=hostile)}"
                        bot = RecordingBot()
                        await handle_event(bot, message_from(user_id, group_id, typed))
                        replies = bot.replies()
                        where = f"{place}: {typed[:60]!r}"
                        assert replies, f"no answer to {where}"
                        for reply in replies:
                            assert [segment.type for segment in reply] == ["text"], f"{where} -> {reply!r}"
                            assert UNEXPECTED_ERROR_REPLY not in str(reply), where
                            assert len(str(reply)) < 2000, f"{where} was answered with {len(str(reply))} characters"
                        assert logged == [], f"{where} logged: {logged[0][:2000]}"
                after = await snapshot()
                if after != before:
                    changed.append(f"{place}: /{name}")
                    before = after
    finally:
        logger.remove(sink)
    assert changed == []


@pytest.mark.parametrize(
    "typed", ["/报名 99999999999999999999", "/签退 99999999999999999999", "/导出 -1 昨天", "/线索 99999999999"]
)
async def test_the_probed_crashes_are_answered_with_what_to_type(database: str, typed: str) -> None:
    """The numbers and periods the probing found crashing (OverflowError, a parse error) now get a plain answer."""
    await set_up()
    bot = RecordingBot()
    await handle_event(bot, onebot_private_message(VOLUNTEER, typed))
    (reply,) = bot.replies()
    assert UNEXPECTED_ERROR_REPLY not in str(reply)
    assert "：" in str(reply) or "。" in str(reply)
