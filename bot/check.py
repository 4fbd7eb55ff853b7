"""`python -m bot admin check`: what a configuration lacks or gets wrong, checked without starting the bot (the
tokens, the administrators, the database reachable and writable, the data folder writable), one line per check."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.config import CONSOLE_USER, EXAMPLE_SUPERUSERS, Settings, is_loopback, placeholder_tokens
from storage import db

TELEGRAM_TOKEN = re.compile(r"^\d+:[\w-]{20,}$")
"""What @BotFather's tokens look like: the bot's number, a colon, some 35 letters, digits, - and _."""


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    detail: str


def text_for_finding(finding: Finding) -> str:
    return f"{'✓' if finding.ok else '✗'} {finding.what}：{finding.detail}"


def text_for_summary(findings: list[Finding]) -> str:
    wrong = sum(not finding.ok for finding in findings)
    if not wrong:
        return "全部正常，可以启动：python -m bot"
    return f"有 {wrong} 项要改（上面打 ✗ 的），改好再检查一次。"


async def check(settings: Settings) -> list[Finding]:
    findings = [Finding(True, "配置文件", f"{settings.source}，读得懂")]
    findings.append(_platforms(settings))
    if settings.onebot.enabled:
        findings.append(_onebot(settings))
    if settings.telegram.enabled:
        findings.extend(_telegram(settings))
    findings.append(_superusers(settings))
    findings.append(_data_folder(Path(settings.bot.data_dir)))
    findings.append(await _database(settings.database.url))
    return findings


def _platforms(settings: Settings) -> Finding:
    enabled = settings.enabled_platforms()
    if not enabled:
        return Finding(False, "平台", "一个也没开：[onebot]、[telegram] 或 [console] 里至少写一个 enabled = true")
    return Finding(True, "平台", "、".join(enabled))


def _onebot(settings: Settings) -> Finding:
    where = f"ws://{settings.server.host}:{settings.server.port}/onebot/v11/ws"
    token = settings.onebot.access_token.get_secret_value()
    refused = [problem for problem in placeholder_tokens(settings) if problem.startswith("[onebot]")]
    if refused:
        return Finding(False, "QQ（OneBot）", refused[0])
    if token:
        return Finding(True, "QQ（OneBot）", f"在 {where} 等 NapCat / Lagrange 连接，access_token 已设（不显示）")
    if is_loopback(settings.server.host):
        return Finding(True, "QQ（OneBot）", f"在 {where} 等连接，没有 access_token：只有这台机器上的 QQ 客户端连得上")
    return Finding(
        False,
        "QQ（OneBot）",
        f"在 {where} 等连接，别的机器也连得上，但 [onebot] access_token 是空的：谁都能冒充 QQ 客户端。"
        "请设一个 access_token（NapCat / Lagrange 里填同一串）",
    )


def _telegram(settings: Settings) -> list[Finding]:
    bots = settings.telegram.bots
    if not bots:
        return [Finding(False, "Telegram", "enabled = true，但 bots 是空的：写上 @BotFather 给的 token")]
    refused = {problem for problem in placeholder_tokens(settings) if problem.startswith("[telegram]")}
    findings = []
    for number, bot in enumerate(bots, start=1):
        what = f"Telegram 第 {number} 个机器人"
        placeholder = [problem for problem in refused if f"第 {number} 个" in problem]
        if placeholder:
            findings.append(Finding(False, what, placeholder[0]))
        elif not TELEGRAM_TOKEN.match(bot.token.get_secret_value()):
            findings.append(
                Finding(False, what, "token 不像 @BotFather 给的（数字:一串字母），请从 @BotFather 复制完整的 token")
            )
        elif bot.proxy:
            findings.append(Finding(True, what, f"token 已设（不显示），经代理 {bot.proxy} 连 {bot.api_server}"))
        else:
            findings.append(
                Finding(
                    True,
                    what,
                    f"token 已设（不显示），直接连 {bot.api_server}；在中国大陆连不上时，给它设 proxy"
                    '（例如 proxy = "http://127.0.0.1:7890"）',
                )
            )
    return findings


def _superusers(settings: Settings) -> Finding:
    accounts = list(settings.bot.superusers)
    if settings.console.enabled and settings.console.demo and CONSOLE_USER not in accounts:
        accounts.append(CONSOLE_USER)  # the demo makes the person at the console an administrator
    if not accounts:
        return Finding(False, "管理员", "[bot] superusers 是空的：没有人能授权民警。写上你的账号，例如 onebot:你的QQ号")
    examples = [account for account in accounts if account in EXAMPLE_SUPERUSERS]
    if examples:
        return Finding(
            False,
            "管理员",
            f"{'、'.join(examples)} 是示例里的账号，用它的人会是管理员。请换成你自己的账号"
            "（私聊机器人发 /我的 就能看到），或者删掉",
        )
    return Finding(True, "管理员", "、".join(accounts))


def _data_folder(folder: Path) -> Finding:
    what = "数据文件夹"
    where = folder.absolute()
    if folder.exists() and not folder.is_dir():
        return Finding(False, what, f"{where} 是一个文件，不是文件夹：请把 [bot] data_dir 改成一个文件夹")
    if not folder.exists():
        ancestor = next(parent for parent in where.parents if parent.exists())
        if ancestor.is_dir() and os.access(ancestor, os.W_OK | os.X_OK):
            return Finding(True, what, f"{where} 还没有，启动时会建（只有运行机器人的用户能读）")
        return Finding(False, what, f"{where} 不存在，也建不了：这个用户不能写 {ancestor}。请换个路径，或者给它写权限")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as error:
        return Finding(
            False,
            what,
            f"{where} 写不进（{error.strerror or error}）：线索照片和导出的表格都存在这里。请让运行机器人的用户能写它",
        )
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        return Finding(
            True, what, f"{where} 写得进；别的用户现在也能进（{mode:04o}），启动时会改成只有自己能进（0700）"
        )
    return Finding(True, what, f"{where} 写得进")


def _made_by_the_probe(file: Path | None) -> list[Path]:
    """What an SQLite probe would create that is not there yet: the file with its journals, and missing folders
    (removed afterwards, so that a check leaves nothing behind)."""
    if file is None or file.exists():
        return []
    made = [file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")]
    return made + [folder for folder in file.absolute().parents if not folder.exists()]


def _remove(paths: list[Path]) -> None:
    for path in paths:  # files first, then folders from the deepest
        try:
            path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)
        except OSError:
            pass


async def _database(url: str) -> Finding:
    what = "数据库"
    leftovers = _made_by_the_probe(db.sqlite_file(url))
    try:
        state = await db.probe(url)
    except db.DatabaseUnusable as error:
        return Finding(
            False,
            what,
            f"打不开或写不进 {error.database}（{error.reason}）。请让运行机器人的用户能写这个数据库"
            "（SQLite：数据库文件和它所在的文件夹；PostgreSQL：连得上、有写权限、不是只读库）",
        )
    finally:
        _remove(leftovers)
    where = db.describe_url(url)
    if not state.known:
        return Finding(
            False, what, f"{where} 的结构是 {state.current}，是更新版本的机器人写的：请先升级机器人（见 README）"
        )
    if state.current is None:
        return Finding(True, what, f"{where} 连得上、写得进；还是空的，启动时会建好结构（{state.head}）")
    if state.current != state.head:
        return Finding(True, what, f"{where} 连得上、写得进；结构 {state.current}，启动时会升级到 {state.head}")
    return Finding(True, what, f"{where} 连得上、写得进；结构是最新的（{state.head}）")
