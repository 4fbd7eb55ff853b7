"""What an administrator sees when starting the bot or upgrading its database: `db upgrade` says what it did, and a
database the bot cannot write stops it at start-up with a plain message, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import tomllib
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage import db
from tests.e2e.process import PYTHON, BotProcess

ROOT = Path(__file__).resolve().parent.parent
HEAD = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
START = ()
UPGRADE = ("db", "upgrade")


def write_config(directory: Path, database_url: str) -> Path:
    """A configuration for QQ (OneBot v11 on a free port): a bot that starts runs until it is stopped."""
    config = directory / "config.toml"
    config.write_text(
        f'[bot]\ndata_dir = "{directory / "data"}"\n[database]\nurl = "{database_url}"\n'
        f'[server]\nport = {free_port()}\n[onebot]\naccess_token = "start-up-token"\n',
        encoding="utf-8",
    )
    return config


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def run_bot(config: Path, *arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m bot --config FILE ...`; a bot that goes on running instead of refusing fails the test."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("YIJING_", "BOT_CONFIG"))}
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(config), *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"python -m bot {' '.join(arguments)} went on running instead of refusing: {expired.stdout!r}")


async def at_revision(url: str, revision: str) -> None:
    """Build the database at `url` up to `revision`, as an older version of the bot left it."""

    def upgrade(connection) -> None:
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    engine = db.create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade)
    finally:
        await engine.dispose()


# --- db upgrade says what it did


async def test_db_upgrade_says_which_migrations_it_applied_and_then_that_nothing_changed(
    empty_database_url: str, tmp_path: Path
) -> None:
    await at_revision(empty_database_url, "0005")  # a database made by an older version of the bot
    config = write_config(tmp_path, empty_database_url)
    steps = len(list(ScriptDirectory.from_config(db.alembic_config()).iterate_revisions(HEAD, "0005")))

    upgraded = run_bot(config, *UPGRADE)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"已升级数据库：0005 → {HEAD}（应用了 {steps} 个迁移）。" in upgraded.stdout
    assert "没有改动" not in upgraded.stdout
    assert db.describe_url(empty_database_url) in upgraded.stdout

    again = run_bot(config, *UPGRADE)
    assert again.returncode == 0, again.stderr
    assert f"数据库已是最新结构（{HEAD}），没有改动。" in again.stdout
    assert "已升级" not in again.stdout


async def test_db_upgrade_on_an_empty_database_says_it_built_the_schema(
    empty_database_url: str, tmp_path: Path
) -> None:
    built = run_bot(write_config(tmp_path, empty_database_url), *UPGRADE)
    assert built.returncode == 0, built.stderr
    steps = len(list(ScriptDirectory.from_config(db.alembic_config()).iterate_revisions(HEAD, "base")))
    assert f"已建好数据库结构：{HEAD}（应用了 {steps} 个迁移）。" in built.stdout


# --- a database the bot cannot write


@contextmanager
def refusing_writes(path: Path) -> Iterator[None]:
    """Make the file or folder at `path` refuse writes: read-only by its mode, or, for root (whom modes do not
    stop), immutable (chattr +i). Where neither is possible only this case is skipped."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    try:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        made = False
    if not made:
        pytest.skip("running as root, where chmod does not stop writes, and chattr +i is not possible here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def assert_refused_plainly(finished: subprocess.CompletedProcess[str], database: str) -> None:
    assert finished.returncode == 1, (finished.stdout, finished.stderr)
    assert finished.stderr.startswith(f"数据库不可用: 打不开或写不进 {database}（"), finished.stderr
    assert "请让运行机器人的用户能写这个数据库" in finished.stderr
    assert "Traceback" not in finished.stderr + finished.stdout


@pytest.mark.parametrize("command", [START, UPGRADE], ids=["start", "db-upgrade"])
@pytest.mark.parametrize("case", ["file-read-only", "folder-not-writable", "folder-is-a-file"])
async def test_a_sqlite_database_the_bot_cannot_write_stops_it_at_start_up(
    tmp_path: Path, case: str, command: tuple[str, ...]
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "yijing.db"
    if case == "folder-is-a-file":
        folder.rmdir()
        folder.write_text("not a folder", encoding="utf-8")
        url = f"sqlite+aiosqlite:///{path}"
        finished = run_bot(write_config(tmp_path, url), *command)
        assert_refused_plainly(finished, db.describe_url(url))
        return
    url = f"sqlite+aiosqlite:///{path}"
    await at_revision(url, "head")  # a database that worked yesterday
    with refusing_writes(path if case == "file-read-only" else folder):
        with pytest.raises(sqlite3.OperationalError):  # the case is real: nothing can write it now
            with sqlite3.connect(path) as connection:
                connection.execute("CREATE TABLE probe (x)")
        finished = run_bot(write_config(tmp_path, url), *command)
    assert_refused_plainly(finished, db.describe_url(url))
    assert "readonly" in finished.stderr or "unable to open" in finished.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("command", [START, UPGRADE], ids=["start", "db-upgrade"])
async def test_a_postgresql_database_that_refuses_writes_stops_the_bot_at_start_up(
    empty_postgres_url: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = empty_postgres_url
    await at_revision(url, "head")
    name = make_url(url).database
    admin = db.create_engine(url)
    async with admin.connect() as connection:
        await connection.execute(text("COMMIT"))
        await connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    await admin.dispose()
    probe = db.create_engine(url)
    with pytest.raises(DBAPIError, match="read-only"):  # the case is real: the server refuses writes now
        async with probe.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    await probe.dispose()

    with_password = make_url(url).set(password="s3cret-pw").render_as_string(hide_password=False)
    finished = run_bot(write_config(tmp_path, with_password), *command)
    assert_refused_plainly(finished, db.describe_url(with_password))
    assert "read-only" in finished.stderr
    assert name
    assert name in finished.stderr
    assert "s3cret-pw" not in finished.stderr + finished.stdout


# --- the data folder is the bot's user's alone


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def start_and_stop(tmp_path: Path, database_url: str, run: int) -> str:
    """Start `python -m bot` until it listens, stop it, and return its log."""
    config = write_config(tmp_path, database_url)
    port = int(tomllib.loads(config.read_text("utf-8"))["server"]["port"])
    process = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / f"bot-{run}.log")
    process.start()
    try:
        await process.wait_for_port(port, timeout=60)
    finally:
        await process.stop_async()
    return process.log_text()


async def test_the_data_folder_is_made_private_and_a_loosened_one_is_tightened_once(
    database_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    if database_url.startswith("sqlite"):
        database_url = f"sqlite+aiosqlite:///{data / 'yijing.db'}"  # the default place: inside the data folder

    log = await start_and_stop(tmp_path, database_url, 1)
    assert mode_of(data) == 0o700, log
    assert "data folder" not in log  # nothing to tighten in a folder the bot made itself
    if database_url.startswith("sqlite"):
        assert mode_of(data / "yijing.db") == 0o600

    data.chmod(0o755)  # e.g. copied back from a backup with cp -r, or opened up with chmod -R a+rX
    log = await start_and_stop(tmp_path, database_url, 2)
    assert mode_of(data) == 0o700
    assert log.count(f"data folder {data} was open to other users (0755): now 0700, the bot's user only") == 1, log


# --- a set-up that warns


async def test_a_bot_open_beyond_this_machine_without_a_token_and_the_example_superuser_says_so_in_the_log(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\nsuperusers = ["onebot:10001", "onebot:3355779"]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[database]\nurl = "{database_url}"\n[server]\nhost = "0.0.0.0"\nport = {port}\n[onebot]\naccess_token = ""\n',
        encoding="utf-8",
    )
    process = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / "bot.log")
    process.start()
    try:
        await process.wait_for_port(port, timeout=60)
    finally:
        await process.stop_async()
    log = process.log_text()
    assert '[server] host = "0.0.0.0"，别的机器也连得上，但 [onebot] access_token 是空的' in log, log
    assert "[bot] superusers 里的 onebot:10001 是示例里的账号：用这个账号的人会是机器人的管理员。" in log
    assert "onebot:3355779 是示例" not in log
    assert "Traceback" not in log
    assert "Unknown ForwardRef" not in log  # every hook the bot registers is understood by NoneBot
