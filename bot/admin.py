"""The administrator's command line: importing rosters and granting officer rights without a chat."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Settings
from storage import db
from storage.errors import DomainError
from storage.services.organisation import grant_officer_in
from storage.services.people import PersonRef
from storage.services.roster import import_roster
from storage.settings import configure


def say(text: str) -> None:
    print(text)  # noqa: T201


async def run(settings: Settings, arguments: argparse.Namespace) -> int:
    configure(superusers=settings.bot.superusers, **settings.domain_settings())
    await db.open_database(settings.database.url)
    try:
        if arguments.admin_command == "import-roster":
            return await _import_roster(Path(arguments.file))
        return await _grant(arguments)
    except DomainError as error:
        print(f"没有办成：{error}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        await db.close_database()


async def _import_roster(path: Path) -> int:
    report = await import_roster(path)
    say(
        f"读取 {report.rows} 行：新建成员 {report.members_created}，更新 {report.members_updated}，"
        f"未变 {report.unchanged}，加入队伍 {report.memberships_added}，拒收 {len(report.rejected)}。"
    )
    for line, reason in report.rejected:
        say(f"  第 {line} 行拒收：{reason}")
    return 0


async def _grant(arguments: argparse.Namespace) -> int:
    if arguments.member is not None:
        person = PersonRef(member_number=arguments.member)
    else:
        platform, _, user_id = arguments.account.partition(":")
        if platform not in ("onebot", "telegram", "console") or not user_id:
            raise DomainError("--account 应写成 onebot:QQ号 或 telegram:用户ID")
        person = PersonRef(platform=platform, user_id=user_id, display_name=arguments.name)
    async with db.session() as session:
        grant = await grant_officer_in(session, person, arguments.unit, None, None)
    state = "已授权" if grant.new else "本来就是"
    say(f"{grant.member.name}（成员号 {grant.member.id}）{state}“{grant.unit.path}”的民警。")
    return 0


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
