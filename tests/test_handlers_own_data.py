"""/我的数据 and /删除我的信息 as a member has them with the bot on QQ: the file of everything held about them, the
hour between two files, the erasure refused while a redemption waits, a confirmation that can be declined, and
afterwards a bot that knows them no more. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Message
from nonebot.message import handle_event
from openpyxl import load_workbook
from sqlmodel import select

from storage import db
from storage.models import Member, PlatformIdentity, QuizAttempt, id_of
from storage.services import shop, tasks, tips
from storage.services.erasure import ERASED_NAME
from storage.services.people import PersonRef
from storage.services.standings import award_points
from storage.settings import settings
from tests.chat import RecordingBot, onebot_group_message, onebot_private_message
from tests.places import in_group
from tests.test_points import GROUPS, NOW, OFFICER, set_up, volunteer

ME = 30001
GROUP = int(GROUPS["一队"])


class FileKeepingBot(RecordingBot):
    """Keeps the bytes of the files it is asked to upload (the bot deletes them once sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    async def call_api(self, api: str, **data: Any) -> Any:
        if api == "upload_private_file":
            self.files[data["name"]] = await asyncio.to_thread(Path(data["file"]).read_bytes)
        return await super().call_api(api, **data)


async def send(user_id: int, text: str, group_id: int | None = None) -> tuple[str, dict[str, bytes]]:
    bot = FileKeepingBot()
    event = onebot_private_message(user_id, text) if group_id is None else onebot_group_message(group_id, user_id, text)
    await handle_event(bot, event)
    return "\n".join(Message(reply).extract_plain_text() for reply in bot.replies()), bot.files


async def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, int]:
    """队员一 served a patrol, was awarded points, reported a tip and redeemed a cup: (member, task, redemption)."""
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    members = await set_up(per_team=1)
    me = members["一队"][0]
    spec = tasks.parse_task_words([*"巡逻 明天19:00 2小时 北区 5人 3分".split()], NOW)
    task = (await tasks.post_task(OFFICER, in_group(GROUPS["一队"]), spec)).view.task
    await tasks.signup_for_task(volunteer(1), task.id, NOW)
    await tasks.check_in(volunteer(1), task.id, task.start_at)
    await tasks.close_task(OFFICER, task.id, task.end_at)
    await award_points(OFFICER, PersonRef(member_number=me), 30, "协助寻找走失老人")
    tip = (await tips.report_tip(volunteer(1), "治安", "三号楼路灯坏了", anonymous=False)).tip
    await tips.reply_to_tip(OFFICER, id_of(tip), "具体在哪个单元？")
    cup, _ = await shop.add_reward(OFFICER, "保温杯", 10, 5, None)
    redeemed = await shop.redeem(volunteer(1), id_of(cup))
    return me, task.id, id_of(redeemed.redemption)


def sheets(content: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


async def test_my_data_comes_privately_as_a_file_of_everything_once_an_hour(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, task, redemption = await build(tmp_path, monkeypatch)
    said, files = await send(ME, "/我的数据", GROUP)
    assert said == "你的数据只私聊发给你：请私聊我发送 /我的数据"
    assert files == {}

    said, files = await send(ME, "/我的数据 全部")
    assert said == "要一份自己的数据，请只发送 /我的数据（后面不用写别的），文件会私聊发给你。"
    assert files == {}
    said, files = await send(ME, "/mydata")
    assert said.startswith(
        "这是机器人记着的关于你的全部信息：档案、账号、队伍、报名与出勤 1 行，积分记录 3 行，线索 1 行，兑换 1 行"
    )
    ((name, content),) = files.items()
    assert name.startswith(f"我的数据_{me}_")
    book = sheets(content)
    assert list(book) == [
        "档案",
        "平台账号",
        "队伍",
        "身份",
        "入队申请",
        "报名与出勤",
        "积分记录",
        "线索",
        "线索记录",
        "兑换",
        "紧急响应",
        "政审",
        "保险",
        "培训",
        "考试",
        "操作记录",
    ]
    file = dict(row for row in book["档案"][1:] if row[0] is not None)
    assert (file["成员号"], file["姓名"], file["手机"]) == (me, "队员一", "13700000001")  # theirs: not masked
    assert book["平台账号"][1][:2] == ("onebot", str(ME))
    assert book["队伍"][1][:3] == ("一队", "市局/历下分局/闫千户派出所", "在队")
    (signup,) = book["报名与出勤"][1:]
    assert (signup[0], signup[1], signup[4], signup[7]) == (task, "巡逻", "已出勤", 120)
    assert sorted((row[1], row[2]) for row in book["积分记录"][1:]) == [(-10, "兑换"), (3, "出勤"), (30, "奖励")]
    (tip,) = book["线索"][1:]
    assert (tip[2], tip[3]) == ("治安", "否")
    assert [(row[2], row[3]) for row in book["线索记录"][1:]] == [
        ("举报", "三号楼路灯坏了"),
        ("民警问", "具体在哪个单元？"),
    ]
    assert book["兑换"][1][:4] == (redemption, "保温杯", 10, "待发放")
    assert all(row[4] == "他人" for row in book["操作记录"][1:] if row[1] == "award")
    everything = repr(book)
    assert "李警官" not in everything  # no officer who acted on them is named
    assert "20001" not in everything
    assert not list((tmp_path / "data" / "exports").rglob("*.xlsx"))  # nothing personal is kept once sent

    said, files = await send(ME, "/我的数据")
    assert said.startswith("你的数据一小时只能导出一次")
    assert "之后再发送 /我的数据" in said
    assert files == {}


async def test_erasure_is_refused_while_a_redemption_waits(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, redemption = await build(tmp_path, monkeypatch)
    said, _ = await send(ME, "/删除我的信息", GROUP)
    assert said == "删除个人信息只能私聊办理：请私聊我发送 /删除我的信息"
    said, _ = await send(ME, "/删除我的信息")
    assert said == (
        f"你还有一张兑换单（{redemption} 号）等着发放，现在不能删除。请先领取，或者发送 /兑换 取消 {redemption}，"
        "再发送 /删除我的信息。"
    )
    said, _ = await send(ME, "确认")  # no question was asked: nothing to confirm
    assert "已删除" not in said
    async with db.session() as session:
        assert (await session.exec(select(PlatformIdentity).where(PlatformIdentity.user_id == str(ME)))).first()


async def test_declining_changes_nothing_and_confirming_erases(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, task, redemption = await build(tmp_path, monkeypatch)
    await shop.cancel_redemption(volunteer(1), redemption)
    said, _ = await send(ME, "/删除我的信息 12")
    assert said == "删除自己的个人信息，请只发送 /删除我的信息（后面不用写别的），我会先问你确认。"
    said, _ = await send(ME, "/删除我的信息")
    assert said.startswith("删除后，你的姓名、手机号、身份证号")
    assert "一分钟内回复“确认”" in said
    said, _ = await send(ME, "取消")
    assert said == "没有删除，什么也没有改。"
    said, _ = await send(ME, "/forgetme")
    assert said.startswith("删除后")
    said, _ = await send(ME, "好的")
    assert said == "没有删除，什么也没有改。"
    async with db.session() as session:
        member = await session.get(Member, me)
        assert member is not None
        assert (member.name, member.phone, member.erased_at) == ("队员一", "13700000001", None)

    await send(ME, "/删除我的信息")
    said, _ = await send(ME, "确认")
    assert said == "已删除你的个人信息和账号。机器人不再认识你；以后想再参加，可以重新 /加入，会作为新队员登记。"
    said, _ = await send(ME, "/我的数据")
    assert said == "机器人这里没有你的信息：你还没有加入任何队伍。"
    roster, _ = await send(20001, f"/任务 {task}", GROUP)
    assert "队员一" not in roster
    assert ERASED_NAME in roster
    board, _ = await send(20001, "/排行榜 总 全市", GROUP)
    assert "队员一" not in board


async def test_my_data_holds_the_courses_completed_and_the_quizzes_taken(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, _, _ = await build(tmp_path, monkeypatch)
    said, _ = await send(20001, "/课程 新建 防诈宣传 有效期1年 授予:防诈")
    assert said.startswith("已建好课程：1. 防诈宣传")
    said, _ = await send(20001, f"/结业 1 {me}")
    assert said.startswith("已登记完成课程“防诈宣传”")
    async with db.session() as session:
        session.add(QuizAttempt(course_id=1, member_id=me, score=60, correct=3, questions=5, passed=False))

    _, files = await send(ME, "/我的数据")
    (content,) = files.values()
    book = sheets(content)
    (completed,) = book["培训"][1:]
    assert (completed[0], completed[1], completed[3], completed[5]) == (1, "防诈宣传", "民警登记", "防诈")
    assert book["考试"][1:] == [(1, "防诈宣传", book["考试"][1][2], 60, 3, 5, "不及格")]
    assert "20001" not in repr(book["培训"])  # who marked it is not named
