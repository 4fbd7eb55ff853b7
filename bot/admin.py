"""The administrator's command line: checking a configuration, importing rosters, granting officer rights without a
chat, backups, and bringing the database up to date."""

from __future__ import annotations

import argparse
import shlex
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import check
from bot.config import Settings
from plugins._texts import refusal
from storage import db
from storage.errors import DomainError
from storage.services.erasure import LIST_FILE
from storage.services.organisation import grant_officer_in
from storage.services.people import PersonRef
from storage.services.roster import import_roster
from storage.settings import configure


def say(text: str) -> None:
    print(text)  # noqa: T201


async def run(settings: Settings, arguments: argparse.Namespace) -> int:
    if arguments.admin_command == "backup":  # reads the database as it is: no migration, no engine
        return backup(settings, Path(arguments.file), force=arguments.force)
    if arguments.admin_command == "check":  # reports a database it cannot open instead of failing on it
        return await run_check(settings)
    configure(superusers=settings.bot.superusers, **settings.domain_settings())
    await db.open_database(settings.database.url)
    try:
        if arguments.admin_command == "import-roster":
            return await _import_roster(Path(arguments.file))
        return await _grant(arguments)
    except DomainError as error:
        print(f"没有办成：{refusal(error)}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        await db.close_database()


async def run_check(settings: Settings) -> int:
    findings = await check.check(settings)
    for finding in findings:
        say(check.text_for_finding(finding))
    say(check.text_for_summary(findings))
    return 0 if all(finding.ok for finding in findings) else 1


async def _import_roster(path: Path) -> int:
    report = await import_roster(path)
    say(
        f"读取 {report.rows} 行：新建成员 {report.members_created}，更新 {report.members_updated}，"
        f"未变 {report.unchanged}，加入队伍 {report.memberships_added}，拒收 {len(report.rejected)}。"
    )
    for line, reason in report.rejected:
        say(f"  第 {line} 行拒收：{refusal(reason)}")
    return 0


async def _grant(arguments: argparse.Namespace) -> int:
    if arguments.member is not None:
        person = PersonRef(member_number=arguments.member)
    else:
        platform, _, user_id = arguments.account.partition(":")
        if platform not in ("onebot", "telegram", "console") or not user_id:
            print("没有办成：--account 应写成 onebot:QQ号 或 telegram:用户ID", file=sys.stderr)  # noqa: T201
            return 1
        person = PersonRef(platform=platform, user_id=user_id, display_name=arguments.name)
    async with db.session() as session:
        grant = await grant_officer_in(session, person, arguments.unit, None, None)
    state = "已授权" if grant.new else "本来就是"
    say(f"{grant.member.name}（成员号 {grant.member.id}）{state}“{grant.unit.path}”的民警。")
    return 0


def refuse(text: str) -> int:
    print(text, file=sys.stderr)  # noqa: T201
    return 1


BACKUP_SUMMARY = {
    "member": "成员",
    "team": "队伍",
    "unit": "单位",
    "task": "任务",
    "signup": "报名",
    "pointentry": "积分记录",
    "tip": "线索",
}
"""The tables an administrator checks a backup by, in the order they are reported."""


def backup(settings: Settings, target: Path, *, force: bool) -> int:
    """Copy the SQLite database to `target`; for PostgreSQL, say how pg_dump does it."""
    url = settings.database.url
    source = db.sqlite_file(url)
    if source is None:
        return refuse(text_for_other_database(url, target, settings.bot.data_dir))
    if not source.is_file():
        return refuse(f"没有备份：数据库文件 {source} 不存在。请检查配置里 [database] url 写的路径。")
    if target.exists() and target.resolve() == source.resolve():
        return refuse(f"没有备份：{target} 就是数据库本身，请写另一个文件名。")
    if target.is_dir():
        return refuse(f"没有备份：{target} 是一个文件夹，请写要生成的备份文件名，例如 {target / 'yijing-backup.db'}。")
    if target.exists() and not force:
        return refuse(f"没有备份：{target} 已经存在，没有覆盖它。换一个文件名，或者加 --force 替换它。")
    if not target.parent.is_dir():
        return refuse(f"没有备份：文件夹 {target.parent} 不存在。")
    try:
        made = db.backup_sqlite(source, target)
    except (sqlite3.Error, OSError) as error:
        return refuse(f"备份失败，没有生成 {target}：{error}")
    counts = "，".join(f"{label} {made.rows.get(table, 0)}" for table, label in BACKUP_SUMMARY.items())
    say(
        f"已备份到 {made.path}（{text_for_size(made.size)}，数据库结构 {made.revision or '无'}）：{counts}；"
        f"共 {len(made.rows)} 张表 {sum(made.rows.values())} 行。文件只有你这个用户能读（0600）。"
    )
    tips = Path(settings.bot.data_dir) / "tips"
    say(f"线索照片不在数据库里：请把 {tips} 和这个文件一起备份（数据库记着照片的文件名）。")
    say(text_for_erasure_list(settings.bot.data_dir))
    return 0


def text_for_erasure_list(data_dir: str) -> str:
    listed = Path(data_dir) / LIST_FILE
    return (
        f"删除过个人信息的成员记在 {listed}（只有成员号）：恢复备份时留着现在的这个文件，不要换成旧的，"
        "机器人启动时会把这些人再删一次。备份保留 30 天，过期的请删除（见 README）。"
    )


def text_for_size(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def text_for_other_database(url: str, target: Path, data_dir: str) -> str:
    """How to back up a database this command does not copy; the password is never written out."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return f"没有备份：这个命令只备份 SQLite 数据库文件，{db.describe_url(url)} 不是。"
    where = ["-h", parsed.host or "localhost", "-p", str(parsed.port or 5432)]
    if parsed.username:
        where += ["-U", parsed.username]
    where += ["-d", parsed.database or "postgres"]
    dump = shlex.join(["pg_dump", "-Fc", *where, "-f", str(target)])
    restore = shlex.join(["pg_restore", "--clean", "--if-exists", *where, str(target)])
    tips = Path(data_dir) / "tips"
    return (
        f"没有备份：数据库是 PostgreSQL（{db.describe_url(url)}），这个命令只备份 SQLite，什么也没做。\n"
        f"请用 PostgreSQL 自带的 pg_dump 备份（要密码时它会问，或者用 ~/.pgpass），机器人运行时也可以：\n"
        f"  {dump}\n"
        f"恢复时先停下机器人，再：\n"
        f"  {restore}\n"
        f"线索照片不在数据库里：请把 {tips} 一起备份。\n"
        f"{text_for_erasure_list(data_dir)}"
    )


async def run_db(settings: Settings, arguments: argparse.Namespace) -> int:
    if arguments.db_command == "upgrade":
        try:
            change = await db.preflight(settings.database.url)
        except db.DatabaseUnusable as error:
            print(text_for_unusable(error), file=sys.stderr)  # noqa: T201
            return 1
        say(f"数据库：{db.describe_url(settings.database.url)}")
        say(text_for_schema_change(change))
        return 0
    await db.generate_revision(settings.database.url, arguments.message)
    return 0


def text_for_schema_change(change: db.SchemaChange) -> str:
    if not change.applied:
        return f"数据库已是最新结构（{change.after}），没有改动。"
    if change.before is None:
        return f"已建好数据库结构：{change.after}（应用了 {change.applied} 个迁移）。"
    return f"已升级数据库：{change.before} → {change.after}（应用了 {change.applied} 个迁移）。"


def text_for_unusable(error: db.DatabaseUnusable) -> str:
    return (
        f"数据库不可用: 打不开或写不进 {error.database}（{error.reason}）。请让运行机器人的用户能写这个数据库"
        "（SQLite：数据库文件和它所在的文件夹；PostgreSQL：连得上、有写权限、不是只读库），再启动。"
    )
