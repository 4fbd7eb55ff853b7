"""Issue 19's member features read as an attacker would: a stranger with an invite code, a leader of another team,
an officer of a sibling unit, and an officer comparing two reads of an anonymous tip. Each test is a way in that
was open, and is shut now; on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from storage import db
from storage.models import Member, PlatformIdentity
from storage.services.roster import import_roster
from storage.settings import settings
from tests.chat import forget_dialogues, say
from tests.test_handlers_own_data import send
from tests.test_recruiting import GROUP, OTHER_LEADER, STRANGER, make_invite, set_up
from tests.test_roster_and_cli import write_csv

IMPORTED = [
    ["单位", "队伍", "姓名", "手机号", "紧急联系人", "身份证号"],
    ["历下分局", "夕阳红巡逻队", "王建国", "13800000001", "王妻 13900000001", "11010519491231002X"],
]
"""A member the officers imported into 夕阳红巡逻队 (历下分局) with his ID number; he has no account yet."""


@pytest.fixture(autouse=True)
def no_dialogue_waits():
    forget_dialogues()
    yield
    forget_dialogues()


async def accounts_of(name: str) -> list[str]:
    async with db.session() as session:
        member = (await session.exec(select(Member).where(Member.name == name))).one()
        rows = (await session.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member.id))).all()
    return [row.user_id for row in rows]


async def test_a_stranger_with_another_teams_code_cannot_take_over_an_imported_member(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a name and a phone (which neighbours, colleagues and any old sign-up sheet know) and any invite code
    let a stranger's account become the imported member, of any unit: /我的数据 then sent them his whole ID number
    and /档案 his policy number, and they could sign up and spend his points as him."""
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    await set_up()
    await import_roster(write_csv(tmp_path / "roster.csv", IMPORTED))
    code = await make_invite(OTHER_LEADER, "/招募 7天")  # 青春飞扬护学队, of the sibling unit 历城分局
    assert (await say(STRANGER, f"/加入 {code}")).startswith("你正在申请加入“青春飞扬护学队”")
    await say(STRANGER, "王建国")
    assert await say(STRANGER, "13800000001") == "这个手机号已被别人登记：请检查号码，或联系队长。"
    assert await say(STRANGER, "取消") == "已取消入队申请，填写的内容没有保存。"
    said, files = await send(STRANGER, "/我的数据")
    assert (said, files) == ("机器人这里没有你的信息：你还没有加入任何队伍。", {})
    assert await accounts_of("王建国") == []

    # the same words through the group of his own team still find his record (that is what the import is for)
    answer = await say(STRANGER, "/加入 王建国 13800000001", GROUP)
    assert "夕阳红巡逻队" in answer, answer
    assert await accounts_of("王建国") == [str(STRANGER)]
