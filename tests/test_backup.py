"""Backup and restore as an administrator does it: `python -m bot admin backup FILE` copies the SQLite database while
the bot runs, and the copy, put back as the database, is a bot that works; for PostgreSQL it does nothing and says
how pg_dump does it, and following that advice gives a working bot too."""

from __future__ import annotations

import asyncio
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.__main__ import main
from storage import db
from storage.services import membership, tasks
from tests.test_task_services import NOW, make_team, post, volunteer

ROOT = Path(__file__).resolve().parent.parent


def write_config(directory: Path, database_url: str, name: str = "config.toml") -> Path:
    config = directory / name
    config.write_text(f'[bot]\ndata_dir = "{directory / "data"}"\n[database]\nurl = "{database_url}"\n', "utf-8")
    return config


async def admin(config: Path, *arguments: str) -> int:
    """`python -m bot --config FILE admin ...`, in this process (main runs its own event loop, hence the thread)."""
    return await asyncio.to_thread(main, ["--config", str(config), "admin", *arguments])


def upgrade(config: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("YIJING_", "BOT_CONFIG"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=environment,
        check=False,
    )


def command_line(text: str, program: str) -> list[str]:
    """The line of the advice that runs `program`, as an administrator would copy it."""
    return shlex.split(next(line.strip() for line in text.splitlines() if line.strip().startswith(program + " ")))


async def test_a_backup_put_back_as_the_database_is_a_bot_that_works(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    await make_team(volunteers=2)
    task = (await post("巡逻 明天19:00 2小时 闫千户片区 10人 5分")).view.task
    assert (await tasks.signup_for_task(volunteer(1), task.id, NOW)).status == "signed"
    backups = tmp_path / "backups"
    backups.mkdir()
    target = backups / "yijing-2026-11-24.db"

    if database.startswith("sqlite"):
        # the bot is running: this process holds the database open
        assert await admin(write_config(tmp_path, database), "backup", str(target)) == 0
        said = capsys.readouterr().out
        assert said.startswith(f"已备份到 {target}（"), said
        assert "成员 3，队伍 1，单位 2，任务 1，报名 1，积分记录 0，线索 0" in said
        assert f"请把 {tmp_path / 'data' / 'tips'} 和这个文件一起备份" in said
        assert f"删除过个人信息的成员记在 {tmp_path / 'data' / 'erasures.list'}" in said
        assert "不要换成旧的" in said
        assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds phone numbers
        copied = target.read_bytes()

        assert await admin(write_config(tmp_path, database), "backup", str(target)) == 1
        assert "已经存在，没有覆盖它" in capsys.readouterr().err
        assert target.read_bytes() == copied  # yesterday's backup is still there
        restored = f"sqlite+aiosqlite:///{target}"
    else:
        with_password = make_url(database).set(password="s3cret-pw").render_as_string(hide_password=False)
        target = backups / "yijing-2026-11-24.dump"
        assert await admin(write_config(tmp_path, with_password), "backup", str(target)) == 1
        advice = capsys.readouterr().err
        assert "什么也没做" in advice
        assert not target.exists()
        assert "s3cret-pw" not in advice
        assert f"删除过个人信息的成员记在 {tmp_path / 'data' / 'erasures.list'}" in advice
        parsed = make_url(database)
        dump = command_line(advice, "pg_dump")
        assert dump[:2] == ["pg_dump", "-Fc"]
        given = {flag: dump[dump.index(flag) + 1] for flag in ("-h", "-p", "-d", "-f")}
        assert given == {"-h": parsed.host, "-p": str(parsed.port), "-d": parsed.database, "-f": str(target)}
        await asyncio.to_thread(subprocess.run, dump, check=True, capture_output=True, timeout=120)
        # restored onto a new server: the same command, pointed at an empty database
        restored = request.getfixturevalue("empty_postgres_url")
        restore = command_line(advice, "pg_restore")
        assert restore[:3] == ["pg_restore", "--clean", "--if-exists"]
        restore[restore.index("-d") + 1] = make_url(restored).database
        await asyncio.to_thread(subprocess.run, restore, check=True, capture_output=True, timeout=120)

    # the bot started again on the copy
    await db.close_database()
    await db.open_database(restored)
    profile = await membership.my_profile(volunteer(1))
    assert profile.member is not None
    assert profile.member.name == "队员一"
    assert [team.team_name for team in profile.teams] == ["夕阳红巡逻队"]
    assert (await tasks.signup_for_task(volunteer(2), task.id, NOW)).status == "signed"
    assert (await tasks.signup_for_task(volunteer(1), task.id, NOW)).changed is False  # the first sign-up came back
    await db.close_database()

    finished = upgrade(write_config(tmp_path, restored, "restored.toml"))
    assert finished.returncode == 0, finished.stderr
    assert "没有改动" in finished.stdout
