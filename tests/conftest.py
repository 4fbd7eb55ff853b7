"""Test set-up: NoneBot initialised in-process for nonebug, and a fresh database for every test.

PostgreSQL: each run creates its own database on the server named by YIJING_TEST_POSTGRES (default: the local
server, user postgres) and drops it at the end. Where the server cannot be reached the PostgreSQL cases are
skipped, unless CI or YIJING_REQUIRE_POSTGRES is set, where that is a failure.

Patches of NoneBot and plugin internals (bot/patching.py) run strict here and in the bot processes the end-to-end
tests start: a patch whose target has changed raises instead of warning, so an upgrade that moves one fails the run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nonebot
import pytest
from nonebug import NONEBOT_INIT_KWARGS, NONEBOT_START_LIFESPAN
from sqlalchemy import text
from sqlmodel import SQLModel

from storage import db
from storage.settings import configure
from tests import databases

SUPERUSERS = ["onebot:10001", "telegram:9001"]


def pytest_configure(config: pytest.Config) -> None:
    os.environ["YIJING_STRICT_PATCHES"] = "1"
    config.stash[NONEBOT_INIT_KWARGS] = {
        "driver": "~fastapi+~aiohttp",
        "log_level": os.environ.get("YIJING_TEST_LOG_LEVEL", "WARNING"),
        "command_start": {"/", "／"},
        "superusers": set(SUPERUSERS),
        "alconna_use_command_start": True,
        "alconna_cache_message": False,
        "uninfo_cache": False,
        "session_expire_timeout": 300,
        "telegram_bots": [],
    }
    config.stash[NONEBOT_START_LIFESPAN] = False


@pytest.fixture(scope="session", autouse=True)
async def after_nonebot_init(after_nonebot_init: None) -> None:
    from nonebot.adapters.console import Adapter as ConsoleAdapter
    from nonebot.adapters.onebot.v11 import Adapter as OneBotAdapter
    from nonebot.adapters.telegram import Adapter as TelegramAdapter

    from bot import handled_exceptions, onebot_sender, sequential_checks, waiting
    from bot.app import fix_telegram_segment_repr, install_hooks, load_plugins

    driver = nonebot.get_driver()
    driver.register_adapter(OneBotAdapter)
    assert fix_telegram_segment_repr(), "the tests describe Telegram segments as the bot does"
    driver.register_adapter(TelegramAdapter)
    driver.register_adapter(ConsoleAdapter)
    load_plugins()
    assert onebot_sender.install(), "the bot reads a QQ group message's sender from the message; so must the tests"
    assert install_hooks(["/", "／"]), "the bot drops chatter before NoneBot's pre-processors; so must the tests"
    assert sequential_checks.install(), "the bot checks parameters in turn; the tests must run the same way"
    assert handled_exceptions.install(), (
        "handled exceptions leave no cycles in the bot; the tests must run the same way"
    )
    # nonebug keeps the matchers in a store of its own, so the waiting index is not installed here; its target
    # must still be the one it was written for (the end-to-end tests run the bot with it installed)
    assert waiting.PATCH.differences() == []


@pytest.fixture(autouse=True)
def domain_settings() -> None:
    configure(
        superusers=SUPERUSERS,
        timezone="Asia/Shanghai",
        daily_cap=0,
        monthly_cap=0,
        weekly_board_at=(0, 9, 0),
        honours_at=(9, 0),
        rewards=[],
        anonymous_payout_at=(0, 10, 0),
        anonymous_min_reporters=3,
        ask_id_number=False,
        consent_text="",
        stages=(),
        onboarding_course="",
        invite_valid_days=7,
        invite_places=30,
        vetting_note_to_applicant=False,
        required_tags_from="declared",
        pass_mark=80,
        quiz_retry_after_hours=24,
        qualification_reminder_days=[30],
        training_reminder_at=(9, 0),
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this run's own on the PostgreSQL server, migrated once, dropped at the end."""
    name = databases.create_database("yijing_test", migrate=True)
    try:
        yield databases.database_url(name)
    finally:
        databases.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A new, empty database (no tables) on the PostgreSQL server, dropped afterwards."""
    name = databases.create_database("yijing_test", migrate=False)
    try:
        yield databases.database_url(name)
    finally:
        databases.drop_database(name)


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database (no tables) of the same kind as database_url, not opened: a new SQLite file, or a new
    database on the PostgreSQL server. For what the command line does with a database."""
    if database_url.startswith("postgresql"):
        return request.getfixturevalue("empty_postgres_url")
    return f"sqlite+aiosqlite:///{tmp_path / 'empty' / 'yijing.db'}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[str]:
    """The same test on a fresh SQLite database and on an emptied PostgreSQL database of this run."""
    await db.open_database(database_url)
    if database_url.startswith("postgresql"):
        tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        async with db.get_engine().begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database_url
    await db.close_database()
