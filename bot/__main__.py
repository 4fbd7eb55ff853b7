"""python -m bot [--config FILE]                 start the bot; first the data folder is made private to this user
                                              (0700) and the database is migrated and proven to take writes: a
                                              database it cannot write stops it (exit status 1)
python -m bot [--config FILE] admin ...       administrator commands (check, import-roster, grant, backup FILE)
python -m bot [--config FILE] db upgrade      apply the database migrations and say what changed (start-up does
                                              this too)
A configuration mistake, or a file named with --config or $BOT_CONFIG that does not exist, stops any of them with
配置有误 (exit status 2), and so does starting the bot with a platform on the example's placeholder token. Files
they write are readable by this user only (umask 077).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
from pathlib import Path

from bot.config import ConfigError, config_path_from, load_settings, placeholder_tokens, setup_warnings

PRIVATE_UMASK = 0o077
"""Everything this process creates (the data folder, the SQLite database, tip photos, exports, backups) is readable
by the bot's user only: folders 0700, files 0600. A umask for the whole process, rather than a mode at each place a
file is written, also covers the places written later and the SQLite journal files."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="义警助手",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        help="the TOML configuration file, in UTF-8 (default: $BOT_CONFIG, else ./config.toml, else the embedded "
        "demo); a file named here or in $BOT_CONFIG must exist",
    )
    commands = parser.add_subparsers(dest="command")

    admin = commands.add_parser("admin", help="administrator commands")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    admin_commands.add_parser(
        "check",
        help="check the configuration without starting the bot: tokens, administrators, the database reachable and "
        "writable (nothing migrated), the data folder writable; one line per check, exit status 1 if any is wrong",
    )
    roster = admin_commands.add_parser("import-roster", help="import a roster from CSV or XLSX (idempotent)")
    roster.add_argument(
        "file",
        help="columns: 单位,队伍,姓名,手机号,特长,平台账号; optional: 地区,工作单位,行业,职业,紧急联系人,身份证号,"
        "保险公司,保单号,保险到期",
    )
    grant = admin_commands.add_parser("grant", help="make someone an officer of a unit, as /授权民警 does")
    who = grant.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", type=int, help="member number")
    who.add_argument("--account", help="platform account, e.g. onebot:10001 or telegram:123456")
    grant.add_argument("--name", default="", help="the officer's name, for an account not yet registered")
    grant.add_argument("--unit", required=True, help="unit path, e.g. 济南市公安局/历下分局/闫千户派出所")
    backup = admin_commands.add_parser(
        "backup",
        help="copy the SQLite database to FILE, safely while the bot runs (for PostgreSQL: says how to use pg_dump); "
        "back up [bot] data_dir/tips with it",
    )
    backup.add_argument("file", help="the backup to write; it must not exist yet")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")

    database = commands.add_parser("db", help="database schema")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser(
        "upgrade", help="apply the migrations and say what changed (exit status 1 if the database cannot be written)"
    )
    revision = database_commands.add_parser("revision", help="(developers) generate a migration from the models")
    revision.add_argument("message")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    previous_umask = os.umask(PRIVATE_UMASK)
    try:
        return _run(arguments)
    finally:
        os.umask(previous_umask)  # for callers in the same process (tests); the bot itself has exited by now


def _run(arguments: argparse.Namespace) -> int:
    try:
        settings = load_settings(config_path_from(arguments.config))
    except ConfigError as error:
        print(f"配置有误: {error}", file=sys.stderr)  # noqa: T201
        return 2
    if arguments.command == "admin":
        from bot import admin

        return asyncio.run(admin.run(settings, arguments))
    if arguments.command == "db":
        from bot import admin

        return asyncio.run(admin.run_db(settings, arguments))
    refused = placeholder_tokens(settings)
    if refused:
        print("配置有误: " + "\n".join(refused), file=sys.stderr)  # noqa: T201
        return 2

    import nonebot
    from nonebot.log import logger

    from bot import admin
    from bot.app import setup
    from storage import db

    setup(settings)
    for warning in setup_warnings(settings):
        logger.warning(warning)
    tightened = keep_private(Path(settings.bot.data_dir))
    if tightened:
        logger.warning(tightened)
    # Migrate and prove a write before NoneBot starts: in its start-up hooks a failure would only be logged, and the
    # bot would go on answering commands it cannot record.
    try:
        change = asyncio.run(db.preflight(settings.database.url))
    except db.DatabaseUnusable as error:
        print(admin.text_for_unusable(error), file=sys.stderr)  # noqa: T201
        return 1
    logger.info(f"database {db.describe_url(settings.database.url)}: {admin.text_for_schema_change(change)}")
    nonebot.run()
    return 0


def keep_private(folder: Path) -> str | None:
    """Create the data folder for the bot's user only (0700), or take away what others may do in an existing one.
    Returns what was changed, for the log (None when nothing was)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if not mode & 0o077:
        return None
    try:
        folder.chmod(mode & 0o700)
    except OSError as error:
        return f"data folder {folder} is open to other users ({mode:04o}) and could not be closed: {error}"
    return f"data folder {folder} was open to other users ({mode:04o}): now {mode & 0o700:04o}, the bot's user only"


if __name__ == "__main__":
    sys.exit(main())
