"""A member an officer imported from the roster has no chat account yet. Whoever applies with that member's name and
phone (in the team's group, or with the team's invite code) becomes that member only once a leader of the team or an
officer of its unit has checked that it is the same person: a name and a phone are known to neighbours, colleagues
and any old sign-up sheet. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from storage import db
from storage.models import AuditLog, JoinRequest, Member, OutboxMessage, PlatformIdentity, utcnow
from storage.services import claims
from storage.services.roster import import_roster
from storage.settings import settings
from tests.chat import finish_the_file_in_private, forget_dialogues, say
from tests.test_handlers_own_data import send
from tests.test_recruiting import GROUP, LEADER, OFFICER, OTHER_LEADER, SIBLING_OFFICER, STRANGER, make_invite, set_up
from tests.test_roster_and_cli import write_csv

IMPORTED = [
    ["单位", "队伍", "姓名", "手机号", "身份证号"],
    ["历下分局", "夕阳红巡逻队", "王建国", "13800000001", "11010519491231002X"],
]
WAITING = (
    "名册里已有“夕阳红巡逻队”的王建国。为了确认是你本人，要等队长或民警核对，"
    "确认后会私聊通知你，之后就能用这个账号报名、签到了。"
)


@pytest.fixture(autouse=True)
def no_dialogue_waits():
    forget_dialogues()
    yield
    forget_dialogues()


async def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The teams, and 王建国 imported into 夕阳红巡逻队; his member number."""
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    await set_up()
    await import_roster(write_csv(tmp_path / "roster.csv", IMPORTED))
    async with db.session() as session:
        member = (await session.exec(select(Member).where(Member.name == "王建国"))).one()
    assert member.id is not None
    return member.id


async def accounts_of(member_id: int) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member_id))).all()
    return [row.user_id for row in rows]


async def private_to(user_id: int) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user_id}"))).all()
    return [row.text for row in rows]


async def claim_number() -> int:
    async with db.session() as session:
        (request,) = (await session.exec(select(JoinRequest))).all()
    assert request.id is not None
    assert request.claims_member_id is not None
    return request.id


async def test_the_leader_checks_before_an_account_becomes_an_imported_member(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await imported(tmp_path, monkeypatch)
    await say(STRANGER, "/加入 王建国 13800000001", GROUP)
    assert await finish_the_file_in_private(STRANGER, phone="13800000001") == WAITING
    number = await claim_number()
    # nothing of his is the account's yet: no file, no data, no sign-ups
    assert await accounts_of(member) == []
    said, _ = await send(STRANGER, "/我的数据")
    assert said == "机器人这里没有你的信息：你还没有加入任何队伍。"
    assert (await say(STRANGER, "/档案")).startswith("你还没有登记")
    # the leader is asked, privately, and sees it in /审核
    (asked,) = [text for text in await private_to(LEADER) if "认领" in text]
    assert asked == (
        f"有人申请认领名册里的王建国（成员号 {member}，“夕阳红巡逻队”），认领编号 {number}。请先核对是本人"
        f"（当面或打电话），再发送 /认领 {number} 通过；不是本人就发送 /认领 {number} 拒绝 理由。"
    )
    review = await say(LEADER, "/审核")
    assert review.endswith(
        "待确认的名册认领（共 1 个，请先核对是本人）：\n"
        f"认领 {number}｜王建国（成员号 {member}）｜138****0001｜夕阳红巡逻队\n"
        "确认：/认领 编号 通过　不是本人：/认领 编号 拒绝 理由"
    ), review
    # a leader of another team and an officer of a sibling unit can neither see nor decide it
    assert "认领" not in await say(OTHER_LEADER, "/审核")
    assert "认领" not in await say(SIBLING_OFFICER, "/审核")
    refused = "只有“夕阳红巡逻队”的队长和民警可以审核。"
    assert await say(OTHER_LEADER, f"/认领 {number} 通过") == refused
    assert await say(SIBLING_OFFICER, f"/认领 {number} 通过") == refused
    assert await say(STRANGER, f"/认领 {number} 通过") == refused
    assert await accounts_of(member) == []

    confirmed = await say(LEADER, f"/认领 {number} 通过")
    assert confirmed == f"已确认：这个账号就是王建国（成员号 {member}，“夕阳红巡逻队”），已通知本人。"
    assert await accounts_of(member) == [str(STRANGER)]
    assert await say(LEADER, f"/认领 {number} 通过") == (
        f"没有编号为 {number} 的待确认认领（可能已经处理过了）。待确认的认领见 /审核。"
    )
    assert await accounts_of(member) == [str(STRANGER)]  # a double click links nothing twice
    told = [text for text in await private_to(STRANGER) if text.startswith("王建国，已确认")]
    assert told == [
        f"王建国，已确认你就是“夕阳红巡逻队”名册里的王建国（成员号 {member}），这个账号现在可以用了。"
        "发送 /帮助 看看能做什么。"
    ]
    own = await say(STRANGER, "/档案")
    assert own.startswith(f"你的档案：王建国，成员号 {member}\n"), own
    assert "地区：历下区" in own  # what he answered fills what the roster left empty
    assert "身份证：1101**********002X" in own  # what the roster held stays
    async with db.session() as session:
        entry = (await session.exec(select(AuditLog).where(AuditLog.action == "approve_claim"))).one()
    assert entry.target == f"member:{member}"


async def test_a_refused_claim_leaves_the_record_alone_and_tells_the_applicant(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await imported(tmp_path, monkeypatch)
    code = await make_invite(LEADER, "/招募 7天")  # the team's own invite reaches the record too
    assert (await say(STRANGER, f"/加入 {code}")).startswith("你正在申请加入“夕阳红巡逻队”")
    await say(STRANGER, "王建国")
    assert await finish_the_file_in_private(STRANGER, phone="13800000001") == WAITING
    number = await claim_number()
    assert (
        await say(OFFICER, f"/认领 {number} 拒绝 电话核实不是本人") == f"已拒绝认领 {number}（王建国），已通知申请人。"
    )
    assert await accounts_of(member) == []
    assert "你认领“夕阳红巡逻队”名册里的王建国没有通过：电话核实不是本人。如有疑问请联系队长。" in await private_to(
        STRANGER
    )
    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []  # the answers are not kept
    assert "认领" not in await say(LEADER, "/审核")


async def test_a_claim_nobody_decides_lapses_and_the_applicant_is_told(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await imported(tmp_path, monkeypatch)
    await say(STRANGER, "/加入 王建国 13800000001", GROUP)
    await finish_the_file_in_private(STRANGER, phone="13800000001")
    number = await claim_number()
    assert await claims.lapse_expired() == 0  # a fresh claim stays, and is not an unfinished application
    async with db.session() as session:
        request = await session.get(JoinRequest, number)
        assert request is not None
        request.created_at = utcnow() - claims.CLAIM_LIFETIME - timedelta(minutes=1)
        session.add(request)
    assert await claims.lapse_expired() == 1
    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []
    assert (
        "你认领“夕阳红巡逻队”名册里的王建国，14天内没有人确认，已作废，填写的内容没有保存。请联系队长后重新申请。"
        in (await private_to(STRANGER))
    )


async def test_usage_and_wrong_words_change_nothing(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await imported(tmp_path, monkeypatch)
    await say(STRANGER, "/加入 王建国 13800000001", GROUP)
    await finish_the_file_in_private(STRANGER, phone="13800000001")
    number = await claim_number()
    usage = "确认名册认领：/认领 编号 通过\n不是本人：/认领 编号 拒绝 理由\n编号见 /审核"
    assert await say(LEADER, "/认领") == usage
    assert await say(LEADER, f"/认领 {number}") == usage
    assert await say(LEADER, f"/认领 {number} 也许") == usage
    assert (
        await say(LEADER, "/认领 999 通过") == "没有编号为 999 的待确认认领（可能已经处理过了）。待确认的认领见 /审核。"
    )
    assert await accounts_of(member) == []
