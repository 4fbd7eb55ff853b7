"""Whether the QQ client can read the bot's data folder, checked when a OneBot client first connects.

/导出 hands the QQ client a path under [bot] data_dir (OneBot's upload_private_file takes a path on disk): a client on
another machine, in a container without the folder mounted at the same path, or run by a user who may not read the
folder (the bot keeps it 0700) cannot send the file, and the officer only hears that the export failed.

NapCat's download_file reads a local file (a file:// URL) into its own cache and sends nothing to anyone, so the bot
writes a small file where exports go and asks NapCat to read it. Lagrange and go-cqhttp have no call that reads a
local file without sending it (go-cqhttp's download_file fetches over HTTP only; their get_file and get_image look
up files they received): for them the log says what an export needs instead.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nonebot
from nonebot.adapters.onebot.v11 import Bot as OneBotBot
from nonebot.log import logger

READ_CHECK_FOLDER = "qq-client-read-check"
"""Under data_dir/exports, where exports are written while they are sent."""
READ_CHECK_FILE = "qq-client-read-check.txt"
READ_CHECK_TEXT = "义警助手：检查 QQ 客户端能不能读到数据文件夹里的文件（导出的表格就放在这里）。可以删除。\n"

_checked: set[str] = set()
"""The QQ accounts checked since this process started: a client that reconnects is not asked again."""


@dataclass(frozen=True)
class ReadCheck:
    readable: bool | None
    """None: this client has no way to read a file without sending it, so it was not tried."""
    text: str
    """What the log says, plainly."""


def _same_path_advice(data_dir: Path) -> str:
    return (
        f"它要在同一路径读得到 {data_dir}：和机器人在同一台机器上、用运行机器人的同一个用户运行；"
        f"在容器里，把 {data_dir} 挂载到容器里的同一路径，并用机器人的用户（uid）运行"
    )


def _write_probe(folder: Path) -> Path:
    """The small file the client is asked to read, where exports go (a few bytes: written in passing)."""
    check_folder = folder / "exports" / READ_CHECK_FOLDER
    check_folder.mkdir(parents=True, exist_ok=True)
    probe = check_folder / READ_CHECK_FILE
    probe.write_text(READ_CHECK_TEXT, encoding="utf-8")
    return probe


async def check_client_reads(bot: Any, data_dir: Path) -> ReadCheck:
    """Ask the QQ client behind `bot` (a OneBot v11 bot) to read a file written where exports go; `data_dir` is
    the absolute path of the data folder, as the client must see it."""
    folder = data_dir
    who = f"账号 {bot.self_id}"
    try:
        info = await bot.call_api("get_version_info")
        app = str(info.get("app_name") or "") if isinstance(info, dict) else ""
    except Exception:
        app = ""
    name = app or "（没说自己是什么）"
    if "napcat" not in app.lower():
        return ReadCheck(
            None,
            f"QQ 客户端 {name}（{who}）没有只读文件、不发给任何人的接口，没法先试它读不读得到数据文件夹。"
            f"/导出 会把 {folder} 里的表格路径交给它发送：{_same_path_advice(folder)}，否则导出的表格发不出去。",
        )
    check_folder = folder / "exports" / READ_CHECK_FOLDER
    probe = check_folder / READ_CHECK_FILE
    try:
        _write_probe(folder)
        await bot.call_api("download_file", url=probe.as_uri(), name=READ_CHECK_FILE)
    except Exception as error:
        said = getattr(error, "info", {}).get("message") or getattr(error, "info", {}).get("wording") or error
        return ReadCheck(
            False,
            f"QQ 客户端 {name}（{who}）读不到数据文件夹里的文件 {probe}（它说：{said}）：/导出 的表格会发不出去。"
            f"{_same_path_advice(folder)}。",
        )
    finally:
        shutil.rmtree(check_folder, ignore_errors=True)
    return ReadCheck(True, f"QQ 客户端 {name}（{who}）读得到数据文件夹 {folder}：/导出 的表格发得出去。")


async def check_on_first_connect(bot: Any, data_dir: Path) -> ReadCheck | None:
    """The check for a QQ account's first connection since start-up, logged; None for a reconnection."""
    if bot.self_id in _checked:
        return None
    _checked.add(bot.self_id)
    result = await check_client_reads(bot, data_dir)
    if result.readable:
        logger.info(result.text)
    else:
        logger.warning(result.text)
    return result


def install(data_dir: Path) -> None:
    """Check each QQ account's client when it first connects (in the running bot; not in the handler tests)."""
    folder = data_dir.resolve()  # exports hand the client absolute paths

    @nonebot.get_driver().on_bot_connect
    async def check_client(bot: OneBotBot) -> None:
        await check_on_first_connect(bot, folder)
