"""Whether the QQ client can read the data folder that /导出 hands it files from: checked once when a OneBot client
first connects, by asking NapCat to read a file written there (download_file reads it into NapCat's cache and sends
nothing to anyone); the log says plainly what fails and what to do, or, for a client without such a call, what an
export needs."""

from __future__ import annotations

from pathlib import Path

import nonebot
from nonebot.adapters.onebot.v11 import Adapter, Bot
from nonebot.adapters.onebot.v11.exception import ActionFailed
from nonebug import App

from bot import client_files
from tests.chat import ONEBOT_SELF_ID

NAPCAT = {"app_name": "NapCat.Onebot", "app_version": "4.8.0", "protocol_version": "v11"}


def probe_url(data_dir: Path) -> str:
    return (data_dir.resolve() / "exports" / client_files.READ_CHECK_FOLDER / client_files.READ_CHECK_FILE).as_uri()


async def test_napcat_that_reads_the_data_folder_is_logged_as_fine_and_the_file_is_gone(app: App, tmp_path: Path):
    data = tmp_path / "data"
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ctx.should_call_api("get_version_info", {}, NAPCAT)
        ctx.should_call_api(
            "download_file",
            {"url": probe_url(data), "name": client_files.READ_CHECK_FILE},
            {"file": "/app/napcat/temp/qq-client-read-check.txt"},
        )
        result = await client_files.check_client_reads(bot, data)
    assert result.readable is True
    assert result.text == (
        f"QQ 客户端 NapCat.Onebot（账号 {ONEBOT_SELF_ID}）读得到数据文件夹 {data.resolve()}：/导出 的表格发得出去。"
    )
    assert not (data / "exports" / client_files.READ_CHECK_FOLDER).exists()


async def test_napcat_in_a_container_without_the_folder_says_exports_will_fail_and_how_to_mount(
    app: App, tmp_path: Path
):
    data = tmp_path / "data"
    refused = ActionFailed(status="failed", retcode=200, message="ENOENT: no such file or directory", wording="")
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ctx.should_call_api("get_version_info", {}, NAPCAT)
        ctx.should_call_api(
            "download_file", {"url": probe_url(data), "name": client_files.READ_CHECK_FILE}, exception=refused
        )
        result = await client_files.check_client_reads(bot, data)
    assert result.readable is False
    assert result.text.startswith(
        f"QQ 客户端 NapCat.Onebot（账号 {ONEBOT_SELF_ID}）读不到数据文件夹里的文件 "
        f"{data.resolve() / 'exports' / client_files.READ_CHECK_FOLDER / client_files.READ_CHECK_FILE}"
        "（它说：ENOENT: no such file or directory）：/导出 的表格会发不出去。"
    ), result.text
    assert f"在容器里，把 {data.resolve()} 挂载到容器里的同一路径，并用机器人的用户（uid）运行" in result.text
    assert not (data / "exports" / client_files.READ_CHECK_FOLDER).exists()


async def test_a_client_without_a_read_only_call_gets_a_plain_hint_and_nothing_is_sent(app: App, tmp_path: Path):
    data = tmp_path / "data"
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ctx.should_call_api("get_version_info", {}, {"app_name": "Lagrange.OneBot", "app_version": "0.0.3"})
        result = await client_files.check_client_reads(bot, data)  # no further call: nonebug fails on any
    assert result.readable is None
    assert result.text.startswith(
        f"QQ 客户端 Lagrange.OneBot（账号 {ONEBOT_SELF_ID}）没有只读文件、不发给任何人的接口，"
        "没法先试它读不读得到数据文件夹。"
    )
    assert "否则导出的表格发不出去" in result.text


async def test_only_the_first_connection_of_an_account_is_checked(app: App, tmp_path: Path):
    data = tmp_path / "data"
    client_files._checked.discard("424242")
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id="424242")
        ctx.should_call_api("get_version_info", {}, {"app_name": "go-cqhttp"})
        first = await client_files.check_on_first_connect(bot, data)
        again = await client_files.check_on_first_connect(bot, data)  # a reconnection: nothing asked
    assert first is not None
    assert first.readable is None
    assert again is None
