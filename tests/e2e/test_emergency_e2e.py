"""An emergency call-out end to end over the OneBot v11 socket: two groups, three responders with ETAs, the update
to the officer, escalation on a simulated clock, and closing with points awarded once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from bot_database import let_alert_time_pass
from joining import join_through_the_group
from onebot_peer import OneBotPeer, at_segment, text_segment
from process import FAST_QQ_LIMITS, PYTHON, ROOT, BotProcess, free_port, write_bot_config

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "alert-token"
ADMIN, OFFICER, BRANCH_OFFICER = 10001, 20001, 20002
G1, G2, G3 = 720001, 720002, 720003
VOLUNTEERS = {30001: "张一", 30002: "张二", 30003: "张三"}


def number(label: str, text: str) -> int:
    match = re.search(label + r"\s*(\d+)", text)
    assert match, text
    return int(match.group(1))


async def test_an_emergency_call_out_end_to_end(tmp_path: Path, bot_database_url: str) -> None:
    port = free_port()
    extra = f'[bot]\nsuperusers = ["onebot:{ADMIN}"]\n[emergency]\nescalate_after_minutes = 5\ncheck_seconds = 1\n'
    config = write_bot_config(tmp_path, port, bot_database_url, TOKEN, extra + FAST_QQ_LIMITS)
    process = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / "bot.log")
    process.start()
    try:
        await process.wait_for_port(port, timeout=60)
        async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as qq:
            await run_scenario(qq, bot_database_url)
    except BaseException:
        print(process.log_tail(80))  # noqa: T201
        raise
    finally:
        await process.stop_async()


async def run_scenario(qq: OneBotPeer, database_url: str) -> None:
    qq.add_user(OFFICER, "李警官", group_id=G1)
    qq.add_user(BRANCH_OFFICER, "王警官", group_id=G3)
    await qq.ask_group(
        G1, ADMIN, [text_segment("/授权民警 "), at_segment(OFFICER), text_segment(" 市局/历下分局/闫千户派出所")]
    )
    await qq.ask_group(
        G3, ADMIN, [text_segment("/授权民警 "), at_segment(BRANCH_OFFICER), text_segment(" 市局/历下分局")]
    )
    await qq.ask_group(G1, OFFICER, "/绑定队伍 一队")
    await qq.ask_group(G2, OFFICER, "/绑定队伍 二队")
    await qq.ask_group(G3, BRANCH_OFFICER, "/绑定队伍 分局直属队")
    for index, (user_id, name) in enumerate(VOLUNTEERS.items()):
        group = (G1, G2)[index % 2]
        applied = await join_through_the_group(qq, group, user_id, name, f"1350000{index:04d}")
        since = qq.mark()
        await qq.ask_group(group, OFFICER, f"/通过 {number('编号', applied.text)}")
        await qq.expect_private(user_id, "申请已通过", since=since)

    since = qq.mark()
    raised = await qq.ask_group(G1, OFFICER, "/紧急 走失老人，男，75岁，蓝色外套，最后在北园大街 需要3人")
    alert = number("紧急呼叫", raised.text)
    assert "2 个队伍群" in raised.text
    for group in (G1, G2):
        message = await qq.expect_group(group, "【紧急】市局/历下分局/闫千户派出所：走失老人", since=since)
        assert f"/响应 {alert}" in message.text
    with pytest.raises(AssertionError):
        await qq.expect_group(G3, "【紧急】", since=since, timeout=0.5)  # the branch's own group is not called

    first, second, third = VOLUNTEERS
    assert "现在 1/3 人" in (await qq.ask_group(G1, first, "/响应 5分钟")).text
    assert "已经响应" in (await qq.ask_group(G1, first, f"/响应 {alert}")).text
    assert "现在 2/3 人" in (await qq.ask_group(G2, second, f"/响应 {alert} 3分钟")).text
    since = qq.mark()
    assert "现在 3/3 人" in (await qq.ask_group(G1, third, f"/响应 {alert} 10")).text
    update = await qq.expect_private(OFFICER, "人数已够", since=since)
    assert "响应 3/3 人" in update.text
    assert "张一：呼叫后" in update.text
    assert "预计 5 分钟到" in update.text
    status = await qq.ask_group(G1, OFFICER, f"/紧急 {alert}")
    assert "张二：呼叫后" in status.text
    assert "预计 3 分钟到" in status.text

    # a second call-out that too few answer: after five minutes (simulated) it goes wider, once
    since = qq.mark()
    other = number("紧急呼叫", (await qq.ask_group(G1, OFFICER, "/紧急 山中失联驴友 需要5人")).text)
    for group in (G1, G2):
        await qq.expect_group(group, "【紧急】市局/历下分局/闫千户派出所：山中失联驴友", since=since)
    await qq.ask_group(G2, second, f"/响应 {other} 8分钟")
    since = qq.mark()
    await let_alert_time_pass(database_url, other, timedelta(minutes=6))
    for group in (G1, G2, G3):
        wider = await qq.expect_group(group, "【紧急·升级】", since=since, timeout=15)
        assert "山中失联驴友" in wider.text
    await qq.expect_nothing(timeout=2.5, since=qq.mark())  # and only once

    closed = await qq.ask_group(G1, OFFICER, f"/紧急 结束 {alert} 已找到老人 积分10")
    assert "给 3 位响应者各 10 分" in closed.text
    again = await qq.ask_group(G1, OFFICER, f"/紧急 结束 {alert} 已找到老人 积分10")
    assert "之前已经结束" in again.text
    assert "给 0 位响应者" in again.text
    late = await qq.ask_group(G1, first, f"/响应 {alert}")
    assert "已经结束" in late.text
    me = await qq.ask_private(first, "/我的")
    assert "积分：10" in me.text
