"""A QQ client's first connection: the bot asks it to read a file in the data folder (where /导出 puts the files it
hands the client) and says in its log whether exports will reach officers, over a real OneBot v11 socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from onebot_peer import OneBotPeer, _Failure
from process import PYTHON, ROOT, BotProcess, free_port, phase_failed

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "client-files-token"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running_bot(
    bot_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[BotProcess, str, Path]]:
    directory = tmp_path_factory.mktemp("bot")
    port = free_port()
    data = directory / "data"
    config = directory / "config.toml"
    config.write_text(
        f'[bot]\nsuperusers = ["onebot:3355779"]\ndata_dir = "{data}"\n[server]\nport = {port}\n'
        f'[database]\nurl = "{bot_database_url}"\n[onebot]\naccess_token = "{TOKEN}"\n',
        encoding="utf-8",
    )
    process = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=directory / "bot.log")
    process.start()
    try:
        await process.wait_for_port(port, timeout=60)
        yield process, f"ws://127.0.0.1:{port}/onebot/v11/ws", data
    finally:
        await process.stop_async()


@pytest.fixture(autouse=True)
def _bot_log_on_failure(request: pytest.FixtureRequest):
    yield
    if phase_failed(request):
        print(request.getfixturevalue("running_bot")[0].log_tail(60))  # noqa: T201


async def test_napcat_that_can_read_the_data_folder_is_told_fine_once(running_bot) -> None:
    process, url, data = running_bot
    async with OneBotPeer(url, self_id="12001", access_token=TOKEN) as qq:
        line = await process.wait_for_log("QQ 客户端 NapCat.Onebot（账号 12001）读得到数据文件夹", timeout=30)
        assert f"读得到数据文件夹 {data.resolve()}：/导出 的表格发得出去。" in line
        assert len(qq.read_files) == 1
        assert "检查 QQ 客户端能不能读到数据文件夹里的文件" in qq.read_files[0].decode("utf-8")
        assert qq.sent == []  # nothing was sent to anyone
    assert not any((data / "exports").iterdir())  # the test file is gone
    async with OneBotPeer(url, self_id="12001", access_token=TOKEN) as again:  # a reconnection
        await process.wait_until(lambda: process.log_text().count("Bot 12001 connected") == 2, 20, "the reconnection")
        await asyncio.sleep(1)  # time enough for a check to have been asked for
        assert again.read_files == []
    assert process.log_text().count("账号 12001") == 1


async def test_napcat_in_a_container_without_the_folder_is_told_exports_will_fail_and_how_to_mount(
    running_bot,
) -> None:
    process, url, data = running_bot
    peer = OneBotPeer(url, self_id="12002", access_token=TOKEN)

    def not_mounted(params: dict) -> dict:
        raise _Failure(200, "ENOENT: no such file or directory, copyfile")

    peer.set_handler("download_file", not_mounted)
    async with peer:
        line = await process.wait_for_log("QQ 客户端 NapCat.Onebot（账号 12002）读不到数据文件夹里的文件", timeout=30)
    assert "（它说：ENOENT: no such file or directory, copyfile）：/导出 的表格会发不出去。" in line
    assert "WARNING" in line
    assert f"把 {data.resolve()} 挂载到容器里的同一路径" in process.log_text()


async def test_a_client_that_cannot_be_asked_gets_a_plain_hint(running_bot) -> None:
    process, url, _data = running_bot
    async with OneBotPeer(url, self_id="12003", access_token=TOKEN, app_name="Lagrange.OneBot") as qq:
        await process.wait_for_log(
            "QQ 客户端 Lagrange.OneBot（账号 12003）没有只读文件、不发给任何人的接口", timeout=30
        )
        assert [call.action for call in qq.calls if call.action == "download_file"] == []
