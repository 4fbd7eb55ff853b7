"""Joining without posting a phone number where the whole group reads it: /加入 姓名 in the team's group, then the
number in private chat with the bot."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage import db
from storage.models import JoinRequest, Member, OutboxMessage, OutboxState, TeamMembership, utcnow
from storage.services import organisation, outbox
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import say
from tests.places import in_group

ADMIN, OFFICER, APPLICANT, OTHER = 10001, 20001, 30001, 30002
GROUP = 555001
JOINING = "老张，请私聊我，发送你的手机号，完成加入“夕阳红巡逻队”的申请（手机号不要发在群里）。"


async def set_up() -> None:
    await organisation.grant_officer(
        ChatAccount("onebot", str(ADMIN)), PersonRef(platform="onebot", user_id=str(OFFICER)), "历下分局"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "夕阳红巡逻队")


async def applications() -> list[tuple[str, str | None, list[str], str, str | None]]:
    async with db.session() as session:
        statement = select(TeamMembership, Member).join(Member, Member.id == TeamMembership.member_id)
        rows = (await session.exec(statement)).all()
    return [(m.name, m.phone, list(m.tags), t.status, t.applied_group_id) for t, m in rows]


async def test_a_name_in_the_group_and_the_phone_in_private(database: str) -> None:
    await set_up()
    assert await say(APPLICANT, "/加入 老张 驾驶 医护", GROUP) == JOINING
    assert await applications() == []
    async with db.session() as session:
        (prompt,) = (await session.exec(select(OutboxMessage))).all()
    assert prompt.chat_key == f"user:{APPLICANT}"
    assert prompt.best_effort
    assert "请直接回复你的手机号" in prompt.text

    asked = await say(APPLICANT, "/加入")
    assert asked == "请回复你的手机号（11位，例如 13800138000），完成加入申请。"
    wrong = await say(APPLICANT, "1380013800")
    assert wrong == "手机号不对：请填11位大陆手机号，例如 13800138000。"
    done = await say(APPLICANT, "138 0013 8000")
    assert done.startswith("已收到老张加入“夕阳红巡逻队”的申请，编号 1。")
    assert await applications() == [("老张", "13800138000", ["驾驶", "医护"], "applied", str(GROUP))]
    pending = await say(OFFICER, "/审核", GROUP)
    assert "编号 1｜老张｜138****8000｜特长：驾驶、医护｜夕阳红巡逻队" in pending
    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []
    again = await say(APPLICANT, "/加入 老张", GROUP)
    assert again == "老张，你的申请（编号 1）已在等待审核，不用重复申请。"


async def test_a_phone_typed_into_the_group_still_applies_and_is_never_said_back(database: str) -> None:
    await set_up()
    typed = await say(OTHER, "/加入 老王 13900139000 护学", GROUP)
    assert typed.startswith("已收到老王加入“夕阳红巡逻队”的申请")
    assert "139" not in typed
    assert (await applications())[0][:2] == ("老王", "13900139000")
    wrong = await say(APPLICANT, "/加入 老张 1390013900", GROUP)
    assert "1390013900" not in wrong
    assert wrong == "手机号不对：请填11位大陆手机号，例如 13800138000。"


async def test_nobody_applies_in_private_to_a_team_by_name(database: str) -> None:
    await set_up()
    refused = "请先在你的队伍群里发送 /加入 姓名，再私聊我发送手机号。"
    assert await say(APPLICANT, "/加入 老张 13800138000") == refused
    assert await say(APPLICANT, "13800138000") == refused
    usage = await say(APPLICANT, "/加入")
    assert "在你的队伍群里发送 /加入 姓名 特长" in usage
    assert await applications() == []


async def test_an_application_left_unfinished_expires(database: str) -> None:
    await set_up()
    await say(APPLICANT, "/加入 老张", GROUP)
    async with db.session() as session:
        request = (await session.exec(select(JoinRequest))).one()
        request.created_at = utcnow() - timedelta(days=4)
        session.add(request)
    assert await say(APPLICANT, "13800138000") == "请先在你的队伍群里发送 /加入 姓名，再私聊我发送手机号。"


async def test_the_private_prompt_is_tried_once(database: str) -> None:
    """A platform that refuses a private message to someone who never opened a chat with the bot: the prompt is
    dropped, not retried and parked for the administrator; the group reply told the applicant what to do."""
    await set_up()
    await say(APPLICANT, "/加入 老张", GROUP)
    (claimed,) = await outbox.claim("test", ["onebot"], utcnow(), 10, timedelta(seconds=60))
    parked = await outbox.mark_failed([claimed.id], "ActionFailed: 不是好友", utcnow())
    assert parked == []
    async with db.session() as session:
        row = await session.get(OutboxMessage, claimed.id)
    assert row.state == OutboxState.dropped
    assert row.last_error == "ActionFailed: 不是好友"
    assert (await outbox.summary()).parked == []
