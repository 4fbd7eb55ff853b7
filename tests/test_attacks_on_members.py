"""Issue 19's member features read as an attacker would: a stranger with an invite code, a leader of another team,
an officer of a sibling unit, and an officer comparing two reads of an anonymous tip. Each test is a way in that
was open, and is shut now; on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from nonebot.adapters.onebot.v11 import Message as OneBotMessage
from nonebot.adapters.onebot.v11 import MessageSegment as OneBotSegment
from sqlmodel import select

from storage import db
from storage.models import Member, PlatformIdentity, Tip, id_of
from storage.services import anonymous_rewards, erasure, membership, revocation, tips
from storage.services.people import PersonRef
from storage.services.roster import import_roster
from storage.settings import configure, settings
from tests import test_insurance as insured
from tests import test_member_files as files
from tests import test_points as points_world
from tests.chat import finish_the_file_in_private, forget_dialogues, say
from tests.places import in_group
from tests.test_anonymous_rewards import NEXT_MONDAY_11, private_points
from tests.test_handlers_own_data import send, sheets
from tests.test_member_file_rosters import members_sheet
from tests.test_recruiting import (
    GROUP,
    LEADER,
    OFFICER,
    OTHER_LEADER,
    SECOND_STRANGER,
    STRANGER,
    account,
    apply_up_to_consent,
    invite_row,
    make_invite,
    set_up,
)
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
    said, files_sent = await send(STRANGER, "/我的数据")
    assert (said, files_sent) == ("机器人这里没有你的信息：你还没有加入任何队伍。", {})
    assert await accounts_of("王建国") == []

    # the same words through the group of his own team find his record (that is what the import is for), but
    # only as a claim the team's leader confirms after checking it is him (tests/test_claiming_roster_records.py)
    await say(STRANGER, "/加入 王建国 13800000001", GROUP)
    answer = await finish_the_file_in_private(STRANGER, phone="13800000001")
    assert answer.startswith("名册里已有“夕阳红巡逻队”的王建国。为了确认是你本人，要等队长或民警核对"), answer
    assert await accounts_of("王建国") == []
    said, files_sent = await send(STRANGER, "/我的数据")
    assert (said, files_sent) == ("机器人这里没有你的信息：你还没有加入任何队伍。", {})


async def test_an_anonymous_tips_reward_reads_the_same_after_its_reporter_is_erased(database: str) -> None:
    """Before: /核实 of an anonymous tip said 给举报人 0 分 once its reporter had erased themselves, and the usual
    reward otherwise; an officer who saw 王队长 become 已注销队员 knew he had sent the tip."""
    await set_up()
    other = await membership.apply_to_team(account(STRANGER), in_group(GROUP), "李梅", "13900139000", [])
    await membership.decide_application(account(OFFICER), approve=True, number=other.number)
    erased_tip = (await tips.report_tip(account(LEADER), "赌博", "某小区地下室有人聚赌", anonymous=True)).tip
    kept_tip = (await tips.report_tip(account(STRANGER), "赌博", "另一个小区也有人聚赌", anonymous=True)).tip
    await erasure.erase_me(account(LEADER))

    template = (
        "线索 {} 已核实，已通知举报人。奖励 {} 分会在每周匿名奖励发放时和本单位其他匿名奖励一起到账，只有举报人能看到。"
    )
    points = settings.tip_points.get("赌博", settings.tip_points_default)
    assert points > 0
    assert await say(OFFICER, f"/核实 {id_of(kept_tip)}") == template.format(id_of(kept_tip), points)
    assert await say(OFFICER, f"/核实 {id_of(erased_tip)}") == template.format(id_of(erased_tip), points)
    async with db.session() as session:
        erased_row, kept_row = await session.get(Tip, id_of(erased_tip)), await session.get(Tip, id_of(kept_tip))
    assert erased_row is not None
    assert kept_row is not None
    assert (kept_row.reward_state, kept_row.points) == ("due", points)
    assert (erased_row.reward_state, erased_row.points) == ("due", points)  # for the placeholder: nobody spends it


async def test_an_applicant_reads_neither_the_vetting_note_nor_who_vetted(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: with `[members] vetting_note_to_applicant` off (the default), the notice kept the officer's note from
    the applicant, but /档案 showed it with the officer's name, and /我的数据 had it twice (the 政审 sheet and the
    audit entry)."""
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    await set_up()
    configure(stages=["vetted"])
    applied = await membership.apply_to_team(account(STRANGER), in_group(GROUP), "李梅", "13900139000", [])
    number = applied.member.id
    officer = (await say(OFFICER, "/档案")).split("：", 1)[1].split("，")[0]  # the officer's name, as a member
    assert officer.startswith("onebot:"), officer
    assert await say(OFFICER, f"/政审 {number} 通过 今天 邻居反映其丈夫有赌博前科") == (
        f"已登记：李梅（成员号 {number}）政审通过。申请“夕阳红巡逻队”现在等队长审批（/通过 编号）。"
    )
    await say(LEADER, f"/通过 {applied.number}", GROUP)

    own = await say(STRANGER, "/档案")
    assert "政审：通过（" in own, own
    assert "赌博" not in own
    assert officer not in own
    said, files_sent = await send(STRANGER, "/我的数据")
    assert said.startswith("这是机器人记着的关于你的全部信息"), said
    (content,) = files_sent.values()
    cells = [str(cell) for rows in sheets(content).values() for row in rows for cell in row if cell is not None]
    assert any(cell == "通过" for cell in cells)
    assert not any("赌博" in cell or officer in cell for cell in cells)

    assert "邻居反映其丈夫有赌博前科" in await say(OFFICER, f"/档案 {number}")  # the officers keep it
    configure(vetting_note_to_applicant=True)  # where the deployment tells applicants the note, /档案 does too
    own = await say(STRANGER, "/档案")
    assert "邻居反映其丈夫有赌博前科" in own, own
    assert officer not in own


async def test_a_leader_reads_a_members_policy_number_masked(database: str) -> None:
    """Before: /保险 成员号 refused a leader (officers record and look up policies), but /档案 成员号 showed the
    leader the member's whole policy number."""
    await files.set_up()
    number = await files.fill_in_the_file()
    assert await say(files.LEADER, f"/保险 {number}") == "只有民警可以登记和查看队员的保险。看自己的保险请发送 /保险"
    leader_view = await say(files.LEADER, f"/档案 {number}")
    assert "保险：平安 *******-7，有效期至 2027-06-30" in leader_view, leader_view
    assert "PA-2026-7" not in leader_view
    assert "保险：平安 PA-2026-7，有效期至 2027-06-30" in await say(files.OFFICER, f"/档案 {number}")
    assert "保险：平安 PA-2026-7，有效期至 2027-06-30" in await say(files.MEMBER, "/档案")  # the member's own


async def test_my_data_holds_no_officers_note_on_verifying_a_tip(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the note an officer writes with /核实 (what was found, often about other people) was never sent to
    the reporter, but /我的数据 gave it to them in the tip's history."""
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    await set_up()
    tip = (await tips.report_tip(account(LEADER), "赌博", "三号楼地下室晚上有人聚赌", anonymous=False)).tip
    assert (await say(OFFICER, f"/核实 {id_of(tip)} 5 已查处 组织者李某住3号楼2单元")).startswith(
        f"线索 {id_of(tip)} 已核实"
    )
    said, files_sent = await send(LEADER, "/我的数据")
    assert said.startswith("这是机器人记着的关于你的全部信息"), said
    (content,) = files_sent.values()
    book = sheets(content)
    cells = [str(cell) for rows in book.values() for row in rows for cell in row if cell is not None]
    assert "三号楼地下室晚上有人聚赌" in cells  # what they wrote is theirs
    assert not any("李某" in cell for cell in cells)


async def test_an_officer_asking_for_a_mentioned_members_policy_is_told_the_right_number(database: str) -> None:
    """Before: /保险 @某人 for a member without a policy answered 成员号 0 还没有登记保险。登记：/保险 0 …, a
    command that names nobody."""
    numbers = await insured.set_up()
    zhang = numbers[insured.ZHANG]
    asked = OneBotMessage(OneBotSegment.text("/保险 ")) + OneBotSegment.at(insured.ZHANG)
    assert await say(insured.OFFICER, asked, insured.GROUP) == (
        f"成员号 {zhang} 还没有登记保险。登记：/保险 {zhang} 保险公司 保单号 有效期至"
    )


async def test_the_weekly_anonymous_payout_adds_up_the_same_after_a_reporter_is_erased(database: str) -> None:
    """Before: an erased reporter's reward still due was dropped, so the unit's payout in /导出 came to less than
    the rewards the officers had been told at /核实 (or, short of reporters, did not come that week): the
    officers knew that one of the week's anonymous tips came from the member who had just become 已注销队员."""
    configure(anonymous_payout_at=(0, 10, 0), anonymous_min_reporters=2)
    members = await points_world.set_up(per_team=4)
    for number, amount in ((1, 20), (2, 30)):
        tip = (await tips.report_tip(points_world.volunteer(number), "赌博", f"队员{number}看到有人聚赌")).tip
        await tips.verify_tip(points_world.OFFICER, id_of(tip), amount, None)
    await erasure.erase_me(points_world.volunteer(1))
    (paid,) = await anonymous_rewards.pay_due_rewards(NEXT_MONDAY_11)
    assert (paid.reporters, paid.points) == (2, 50)  # what the officers were told: 20 and 30
    assert await private_points(members["一队"][1]) == 30  # the reporter still here is paid as before


async def test_a_leaders_export_holds_what_the_leaders_file_view_holds(database: str) -> None:
    """Before: /档案 成员号 kept the ID number and the emergency contact from a leader, but the leader's /导出 of
    the team had both (masked: the ID number's region and last digits, the contact's name and 7 of the phone's
    digits) and the whole policy number."""
    await files.set_up()
    await files.fill_in_the_file()
    li = (await members_sheet(files.account(files.LEADER)))["李四"]
    assert (li["手机"], li["保单号"]) == ("138****8002", "*******-7")
    assert li["身份证号"] in ("", None)
    assert li["紧急联系人"] in ("", None)
    assert (li["地区"], li["保险公司"]) == ("历下区", "平安")
    from_officer = (await members_sheet(files.account(files.OFFICER)))["李四"]
    assert (from_officer["身份证号"], from_officer["紧急联系人"], from_officer["保单号"]) == (
        "3701**********1234",
        "李母 139****1111",
        "PA-2026-7",
    )


async def test_a_removed_leaders_invite_codes_stop_admitting_strangers(database: str) -> None:
    """Before: a leader removed with /撤销队长 (or one who left the team) kept every code they had handed out: strangers
    went on applying with them to a team the leader no longer ran, and the team's leaders were told each time."""
    await set_up()
    handed_out = await make_invite(LEADER, "/招募 7天")
    await apply_up_to_consent(STRANGER, handed_out)  # a stranger is in the middle of applying
    async with db.session() as session:
        leader = (await session.exec(select(Member).where(Member.name == "王队长"))).one()
    await revocation.unset_leader(account(OFFICER), PersonRef(member_number=leader.id), in_group(GROUP), None)

    assert await say(STRANGER, "同意") == "这个邀请码已作废：请向队长或民警要一个新的。"
    assert await say(SECOND_STRANGER, f"/加入 {handed_out}") == "这个邀请码已作废：请向队长或民警要一个新的。"
    async with db.session() as session:
        assert (await session.exec(select(Member).where(Member.name == "李梅"))).first() is None
    assert (await invite_row(handed_out)).used == 0
    officers = await make_invite(OFFICER, "/招募 夕阳红巡逻队 7天")  # an officer's code for the team still works
    assert (await say(SECOND_STRANGER, f"/加入 {officers}")).startswith("你正在申请加入“夕阳红巡逻队”")
