"""Taking roles back: an administrator ends an officer's role, an officer ends a leader's; each is audited, the
person is told privately, and the rights are gone from their next message."""

from __future__ import annotations

from nonebot.adapters.onebot.v11 import Message, MessageSegment
from sqlmodel import col, select

from storage import db
from storage.models import AuditLog, OutboxMessage
from tests.chat import say
from tests.test_who_sees_what import (
    ADMIN,
    LEADER,
    MEMBER,
    OFFICER,
    OTHER_GROUP,
    SIBLING_GROUP,
    SIBLING_OFFICER,
    set_up,
)


def mention(command: str, user_id: int, after: str = "") -> Message:
    """A command that @-mentions someone, as QQ sends it."""
    message = Message(MessageSegment.text(f"{command} ")) + MessageSegment.at(user_id)
    return message + MessageSegment.text(f" {after}") if after else message


async def told_privately(user_id: int) -> list[str]:
    async with db.session() as session:
        texts = await session.exec(select(OutboxMessage.text).where(OutboxMessage.chat_key == f"user:{user_id}"))
        return list(texts.all())


async def audited(action: str) -> list[str]:
    async with db.session() as session:
        return list((await session.exec(select(AuditLog.target).where(col(AuditLog.action) == action))).all())


async def test_an_administrator_takes_an_officers_role_back(database: str) -> None:
    task = await set_up()
    await say(ADMIN, mention("/授权民警", OFFICER, "市局/历下分局/七里山派出所"), SIBLING_GROUP)
    assert "幸福小区北门" in await say(OFFICER, f"/任务 {task}")

    assert await say(OFFICER, mention("/撤销民警", SIBLING_OFFICER), SIBLING_GROUP) == "只有管理员可以撤销民警。"
    assert "不写单位就撤销他在所有单位" in await say(ADMIN, "/撤销民警")
    assert "没有叫“火星派出所”的单位" in await say(ADMIN, "/撤销民警 1 火星派出所")

    answer = await say(ADMIN, "/撤销民警 1 闫千户派出所")
    assert answer.startswith("已撤销")
    assert "“市局/历下分局/闫千户派出所”的民警权限，已私信告知。" in answer
    assert "他仍是“市局/历下分局/七里山派出所”的民警。" in answer
    assert await say(OFFICER, f"/任务 {task}") == f"没有你能看到的任务 {task}：发送 /任务 查看你的队伍的任务。"
    assert "不归你的单位管" in await say(OFFICER, "/设队长 4 二队")

    assert "本来就不是“闫千户派出所”的民警" in await say(ADMIN, "/撤销民警 1 闫千户派出所")  # twice: nothing more
    everything = await say(ADMIN, "/revoke 1")
    assert "七里山派出所" in everything
    assert "仍是" not in everything
    assert "只有民警可以" in await say(OFFICER, "/设队长 4 二队")
    assert [text for text in await told_privately(OFFICER) if "撤销" in text] == [
        "管理员已撤销你在“市局/历下分局/闫千户派出所”的民警权限。",
        "管理员已撤销你在“市局/历下分局/七里山派出所”的民警权限。",
    ]
    assert await audited("revoke_officer") == ["member:1", "member:1"]


async def test_an_officer_takes_a_leaders_role_back_in_their_own_unit_only(database: str) -> None:
    await set_up()
    assert "分队人均积分榜" in await say(LEADER, "/排行榜 单位 分队", OTHER_GROUP)  # a leader ranks the teams

    assert await say(MEMBER, mention("/撤销队长", LEADER), OTHER_GROUP) == "只有民警可以撤销队长。"
    assert await say(SIBLING_OFFICER, "/撤销队长 4 二队") == "“二队”不归你的单位管，不能撤销它的队长。"
    assert "私聊时写上队伍名" in await say(OFFICER, "/撤销队长", OTHER_GROUP)

    assert await say(OFFICER, mention("/撤销队长", LEADER), OTHER_GROUP) == "李队长已不再是“二队”的队长，已私信告知。"
    assert await say(OFFICER, "/unsetleader 4 二队") == "李队长本来就不是“二队”的队长。"
    assert (
        await say(LEADER, "/排行榜 单位 分队", OTHER_GROUP) == "分队排名只有队长和民警可以查看。可以发送 /排行榜 单位"
    )
    assert await say(LEADER, "/审核", OTHER_GROUP) == "只有本队队长和民警可以审核。"
    assert [text for text in await told_privately(LEADER) if "队长" in text][
        -1
    ] == "你已不再是“二队”的队长（民警已撤销）。"
    assert await audited("unset_leader") == ["member:4"]
