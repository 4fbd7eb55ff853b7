"""Everyday commands read what they show in a few statements, however many tasks, members or teams there are.

Each test says a command the way a volunteer types it and counts the SQL statements the bot ran for the answer
(an SQLAlchemy `before_cursor_execute` listener on the engine), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from storage import db
from storage.services import membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import say
from tests.places import in_group

ADMIN, OFFICER, MEMBER, OTHER = 10001, 20001, 30001, 30002
GROUP = 820001


def caller(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run meanwhile, in order."""
    seen: list[str] = []
    engine = db.get_engine().sync_engine

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def counted(user_id: int, text: str, group_id: int | None = GROUP) -> tuple[str, int]:
    """What the bot answers, and how many statements it ran for it."""
    with statements() as seen:
        answer = await say(user_id, text, group_id)
    return answer, len(seen)


def places_left(answer: str) -> dict[str, str]:
    """/任务's lines (编号｜类型｜时间｜地点｜名额), by place."""
    return {line.split("｜")[3]: line.split("｜")[4] for line in answer.splitlines() if line.count("｜") == 4}


async def set_up() -> None:
    """一队 of 闫千户派出所 bound to GROUP: 李警官 its officer, 张三 and 李四 members."""
    officer = PersonRef(platform="onebot", user_id=str(OFFICER))
    await organisation.grant_officer(caller(ADMIN), officer, "市局/历下分局/闫千户派出所")
    await organisation.bind_group(caller(OFFICER), in_group(GROUP), "一队")
    for user_id, name, phone in ((MEMBER, "张三", "13800000001"), (OTHER, "李四", "13800000002")):
        applied = await membership.apply_to_team(caller(user_id), in_group(GROUP), name, phone, [])
        await membership.decide_application(caller(OFFICER), approve=True, number=applied.number)


async def post(count: int, first: int) -> None:
    for n in range(first, first + count):
        spec = tasks.parse_task_words(f"巡逻 明天{8 + n}:00 1小时 第{n}片区 2人 5分".split())
        await tasks.post_task(caller(OFFICER), in_group(GROUP), spec)


async def test_the_open_tasks_are_read_in_as_many_statements_for_ten_tasks_as_for_one(database: str) -> None:
    await set_up()
    await post(1, 1)
    await say(MEMBER, "/报名 1", GROUP)
    await say(MEMBER, "/任务", GROUP)  # warm: the first connection's set-up is not the command's
    one_task, with_one = await counted(MEMBER, "/任务")
    assert places_left(one_task) == {"第1片区": "还剩1个名额"}
    await post(9, 2)
    for user_id in (MEMBER, OTHER):
        await say(user_id, "/报名 10", GROUP)
    ten_tasks, with_ten = await counted(MEMBER, "/任务")
    expected = {f"第{n}片区": "还剩2个名额" for n in range(1, 11)} | {
        "第1片区": "还剩1个名额",
        "第10片区": "还剩0个名额",
    }
    assert places_left(ten_tasks) == expected
    assert with_ten == with_one, (with_one, with_ten)


EVERYDAY = [
    # what a member types, where, how the answer starts, and at most how many statements it may take
    ("/任务", GROUP, "近期任务：", 2),
    ("/任务", None, "近期任务：", 4),
    ("/任务 1", GROUP, "【任务 1】巡逻", 2),  # who asks beside the task and its teams; the roster
    ("/我的", GROUP, "张三，成员号 2", 2),
    # who asks and the group's team are one statement (people.rights_beside)
    ("/积分", GROUP, "张三（成员号 2）积分余额 5 分", 2),  # and the balance, places and latest entries
    ("/排行榜", GROUP, "一队 ", 2),  # and the top of the board beside the caller's own place
    # a member's first /帮助 in the group: who, the group's team and whether they are in it; the welcome remembered
    ("/帮助", GROUP, "欢迎加入！", 2),
    ("/帮助", GROUP, "本群队伍：一队", 1),
]


async def test_a_members_everyday_commands_take_a_few_statements_each(database: str) -> None:
    await set_up()
    await post(3, 1)
    await say(MEMBER, "/报名 1", GROUP)
    await say(OFFICER, "/奖励 2 5 协助寻找走失老人", GROUP)
    await say(MEMBER, "/任务", GROUP)  # warm: the first connection's set-up is not the command's
    ran = []
    for text, group_id, starts, _ in EVERYDAY:
        answer, statements = await counted(MEMBER, text, group_id)
        assert answer.startswith(starts), (text, answer)
        ran.append((text, group_id, statements))
    assert ran == [(text, group_id, min(took, most)) for (text, group_id, took), (*_, most) in zip(ran, EVERYDAY)]


async def test_tasks_in_a_group_without_a_team_or_without_tasks(database: str) -> None:
    """/任务 finds the tasks through the group's binding; a group bound to no team still hears so."""
    await set_up()
    assert await say(MEMBER, "/任务", 820009) == "本群还没有绑定队伍。"
    assert await say(MEMBER, "/任务", GROUP) == "现在没有可报名的任务。"
    await post(1, 1)
    assert places_left(await say(MEMBER, "/任务", GROUP)) == {"第1片区": "还剩2个名额"}
