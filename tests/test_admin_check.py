"""`python -m bot admin check`: an administrator checks a configuration before starting the bot, and reads one line
per check, on SQLite and on PostgreSQL; nothing is started, migrated or left behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import tomllib
from alembic.script import ScriptDirectory

from storage import db
from tests.test_config import ROOT, run_bot
from tests.test_start_up import at_revision, free_port, refusing_writes

HEAD = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
CHECK = ("admin", "check")


def write_config(directory: Path, database_url: str, extra: str = "") -> Path:
    config = directory / "config.toml"
    config.write_text(
        f'[bot]\nsuperusers = ["onebot:3355779"]\ndata_dir = "{directory / "data"}"\n'
        f'[database]\nurl = "{database_url}"\n[server]\nport = {free_port()}\n'
        f'[onebot]\naccess_token = "a-token-only-we-know"\n{extra}',
        encoding="utf-8",
    )
    return config


def lines_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


async def test_a_good_configuration_passes_every_check_one_line_each(database_url: str, tmp_path: Path) -> None:
    await at_revision(database_url, "head")
    config = write_config(tmp_path, database_url)
    port = tomllib.loads(config.read_text("utf-8"))["server"]["port"]
    finished = run_bot("--config", str(config), *CHECK, cwd=tmp_path)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert lines_of(finished.stdout) == [
        f"✓ 配置文件：{tmp_path / 'config.toml'}，读得懂",
        "✓ 平台：onebot",
        f"✓ QQ（OneBot）：在 ws://127.0.0.1:{port}/onebot/v11/ws 等 NapCat / Lagrange 连接，"
        "access_token 已设（不显示）",
        "✓ 管理员：onebot:3355779",
        f"✓ 数据文件夹：{tmp_path / 'data'} 还没有，启动时会建（只有运行机器人的用户能读）",
        f"✓ 数据库：{db.describe_url(database_url)} 连得上、写得进；结构是最新的（{HEAD}）",
        "全部正常，可以启动：python -m bot",
    ]
    assert "a-token-only-we-know" not in finished.stdout
    assert not (tmp_path / "data").exists()  # a check makes nothing


async def test_an_empty_database_is_checked_without_being_migrated(empty_database_url: str, tmp_path: Path) -> None:
    finished = run_bot("--config", str(write_config(tmp_path, empty_database_url)), *CHECK, cwd=tmp_path)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"连得上、写得进；还是空的，启动时会建好结构（{HEAD}）" in finished.stdout
    if empty_database_url.startswith("sqlite"):
        assert not (tmp_path / "empty").exists()  # not even the SQLite file was left behind
    else:
        assert (await db.probe(empty_database_url)).current is None  # no migration ran


def test_an_unedited_copy_of_the_example_says_what_to_edit(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text((ROOT / "config.example.toml").read_text("utf-8"), "utf-8")
    finished = run_bot(*CHECK, cwd=tmp_path)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    lines = lines_of(finished.stdout)
    assert '✗ QQ（OneBot）：[onebot] access_token 还是示例里的 "change-me"' in finished.stdout
    assert "✗ 管理员：onebot:10001、telegram:123456 是示例里的账号" in finished.stdout
    assert "✓ 数据库：sqlite+aiosqlite:///data/yijing.db 连得上、写得进；还是空的" in finished.stdout
    assert lines[-1] == "有 2 项要改（上面打 ✗ 的），改好再检查一次。"
    assert "Traceback" not in finished.stdout + finished.stderr
    assert not (tmp_path / "data").exists()


def test_missing_administrators_an_open_server_and_a_bad_telegram_token_are_each_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\nsuperusers = []\ndata_dir = "{tmp_path / "data"}"\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "yijing.db"}"\n'
        '[server]\nhost = "0.0.0.0"\n[onebot]\naccess_token = ""\n'
        '[telegram]\nenabled = true\nbots = [{ token = "123:short" }]\n',
        encoding="utf-8",
    )
    finished = run_bot("--config", str(config), *CHECK, cwd=tmp_path)
    assert finished.returncode == 1
    assert "别的机器也连得上，但 [onebot] access_token 是空的" in finished.stdout
    assert "✗ Telegram 第 1 个机器人：token 不像 @BotFather 给的" in finished.stdout
    assert "✗ 管理员：[bot] superusers 是空的：没有人能授权民警。写上你的账号，例如 onebot:你的QQ号" in finished.stdout
    assert lines_of(finished.stdout)[-1] == "有 3 项要改（上面打 ✗ 的），改好再检查一次。"


def test_a_telegram_bot_without_a_proxy_is_told_about_mainland_china(tmp_path: Path) -> None:
    token = "123456789:AAFakeTokenForTheTestOnly_abcdefghij"
    extra = f'[telegram]\nenabled = true\nbots = [{{ token = "{token}" }}]\n'
    url = f"sqlite+aiosqlite:///{tmp_path / 'yijing.db'}"
    finished = run_bot("--config", str(write_config(tmp_path, url, extra)), *CHECK, cwd=tmp_path)
    assert finished.returncode == 0, finished.stdout
    assert "✓ Telegram 第 1 个机器人：token 已设（不显示），直接连 https://api.telegram.org/；在中国大陆连不上时" in (
        finished.stdout
    )
    assert token not in finished.stdout


def test_a_database_that_cannot_be_reached_is_reported_not_a_failure(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://yijing:s3cret-pw@127.0.0.1:{free_port()}/yijing"  # nothing listens there
    finished = run_bot("--config", str(write_config(tmp_path, url)), *CHECK, cwd=tmp_path)
    assert finished.returncode == 1
    assert f"✗ 数据库：打不开或写不进 {db.describe_url(url)}（" in finished.stdout, finished.stdout + finished.stderr
    assert "✓ 管理员：onebot:3355779" in finished.stdout  # the other checks still ran
    assert "s3cret-pw" not in finished.stdout + finished.stderr
    assert "Traceback" not in finished.stdout + finished.stderr


@pytest.mark.parametrize("what", ["database", "data-folder"])
async def test_a_database_or_data_folder_that_refuses_writes_is_reported(tmp_path: Path, what: str) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    path = tmp_path / "db" / "yijing.db"
    url = f"sqlite+aiosqlite:///{path}"
    await at_revision(url, "head")
    config = write_config(tmp_path, url)
    with refusing_writes(path if what == "database" else data):
        finished = run_bot("--config", str(config), *CHECK, cwd=tmp_path)
    assert finished.returncode == 1, finished.stdout
    if what == "database":
        assert (
            f"✗ 数据库：打不开或写不进 {db.describe_url(url)}（attempt to write a readonly database）"
            in finished.stdout
        )
        assert f"✓ 数据文件夹：{data} 写得进" in finished.stdout
    else:
        assert f"✗ 数据文件夹：{data} 写不进（" in finished.stdout
        assert "线索照片和导出的表格都存在这里。请让运行机器人的用户能写它" in finished.stdout
    assert "Traceback" not in finished.stdout + finished.stderr


async def test_a_database_a_newer_version_migrated_is_named_by_check_and_stops_an_older_bot(tmp_path: Path) -> None:
    path = tmp_path / "yijing.db"
    url = f"sqlite+aiosqlite:///{path}"
    await at_revision(url, "head")
    with sqlite3.connect(path) as connection:  # as a newer version of the bot leaves it
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    config = write_config(tmp_path, url)
    checked = run_bot("--config", str(config), *CHECK, cwd=tmp_path)
    assert checked.returncode == 1
    assert f"✗ 数据库：{db.describe_url(url)} 的结构是 9999，是更新版本的机器人写的：请先升级机器人" in checked.stdout
    upgraded = run_bot("--config", str(config), "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 1
    assert upgraded.stderr.startswith(f"数据库不可用: 打不开或写不进 {db.describe_url(url)}（"), upgraded.stderr
    assert "9999" in upgraded.stderr


def test_the_demo_without_a_configuration_file_passes(tmp_path: Path) -> None:
    finished = run_bot(*CHECK, cwd=tmp_path)
    assert finished.returncode == 0, finished.stdout
    assert lines_of(finished.stdout)[:3] == [
        "✓ 配置文件：embedded default，读得懂",
        "✓ 平台：console",
        "✓ 管理员：console:user",
    ]
    assert not (tmp_path / "data").exists()
