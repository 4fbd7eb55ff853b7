"""The outbox against a real bot process: a backlog survives SIGKILL, and only what was in flight goes twice; a
database outage in the middle of sending makes nothing go twice."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from onebot_peer import OneBotPeer
from process import PYTHON, ROOT, BotProcess, free_port, write_bot_config
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from storage import db
from storage.models import OutboxMessage
from storage.services.outbox import Destination
from tests import databases

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "crash-test-token"
BACKLOG = 1000
GROUPS = 100
BATCH = 20
"""The outbox batch size: the most that can have been sent but not yet marked sent when the process dies."""


def write_config(directory: Path, port: int, database: Path) -> Path:
    outbox = f"""
[bot]
data_dir = "{directory / "data"}"

[outbox]
batch_size = {BATCH}
lookahead_seconds = 2
poll_seconds = 0.2
lease_seconds = 3

[limits.onebot]
per_second = 150
group_per_minute = 1000
private_per_second = 10
jitter_ms = 0
"""
    return write_bot_config(directory, port, f"sqlite+aiosqlite:///{database}", TOKEN, outbox)


def fill_backlog(config: Path, database: Path) -> None:
    subprocess.run([PYTHON, "-m", "bot", "--config", str(config), "db", "upgrade"], cwd=ROOT, check=True, timeout=120)
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ")
    rows = []
    for number in range(BACKLOG):
        group = str(800000 + number % GROUPS)
        target = {"id": group, "parent_id": "", "channel": False, "private": False, "self_id": None, "extra": {}}
        target |= {"scope": None, "adapter": "OneBot V11", "platforms": None}
        rows.append(
            (
                "onebot",
                f"group:{group}",
                json.dumps(target),
                f"积压消息 {number}",
                "[]",
                "[]",
                2,
                now,
                "pending",
                0,
                now,
            )
        )
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO outboxmessage (platform, chat_key, target, text, buttons, mentions, priority, not_before,"
            " state, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


async def start(process: BotProcess, port: int) -> OneBotPeer:
    process.start()
    await process.wait_for_port(port, timeout=60)
    peer = OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="12345", access_token=TOKEN)
    await peer.connect(timeout=30)
    return peer


def received(peer: OneBotPeer) -> list[str]:
    return [message.text for message in peer.sent if message.text.startswith("积压消息")]


async def test_a_backlog_survives_sigkill_and_only_in_flight_messages_repeat(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "crash.db"
    config = write_config(tmp_path, port, database)
    fill_backlog(config, database)

    first = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / "first.log")
    peer = await start(first, port)
    try:
        for _ in range(300):
            if len(received(peer)) >= BACKLOG // 3:
                break
            await asyncio.sleep(0.05)
        first.kill()  # SIGKILL mid-way: no chance to mark anything
        before = received(peer)
    finally:
        await peer.close()
        await first.stop_async()
    assert BACKLOG // 3 <= len(before) < BACKLOG

    second = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / "second.log")
    peer = await start(second, port)
    try:
        for _ in range(600):
            if len(set(before) | set(received(peer))) == BACKLOG:
                break
            await asyncio.sleep(0.1)
        after = received(peer)
    finally:
        await peer.close()
        await second.stop_async()

    everything = before + after
    assert len(set(everything)) == BACKLOG, second.log_tail(40)
    twice = [text for text, times in Counter(everything).items() if times > 1]
    assert all(Counter(everything)[text] == 2 for text in twice)
    assert len(twice) <= BATCH, f"{len(twice)} sent twice; the window is {BATCH}"
    print(f"crash test: {len(before)} before SIGKILL, {len(after)} after restart, {len(twice)} sent twice")  # noqa: T201


NOTICES = 30
OUTAGE = 6.0
"""Seconds the database is away: longer than the lease below, so that without the journal the batch that was
sending is claimed and sent again."""


def write_outage_config(directory: Path, port: int, database_url: str) -> Path:
    extra = f"""
[bot]
data_dir = "{directory / "data"}"

[outbox]
batch_size = {NOTICES}
lookahead_seconds = 2
poll_seconds = 0.2
lease_seconds = 3

[limits.onebot]
per_second = 5
group_per_minute = 20
private_per_second = 1
jitter_ms = 0
"""
    return write_bot_config(directory, port, database_url, TOKEN, extra)


async def queue_notices(url: str) -> None:
    """Thirty notices due now, each for a group of its own (nothing merged)."""
    engine = db.create_engine(url)
    now = datetime.now(timezone.utc)
    rows = [
        {
            "platform": "onebot",
            "chat_key": f"group:{810000 + number}",
            "target": Destination("onebot", str(810000 + number)).target(),
            "text": f"审核通知 {number}",
            "buttons": [],
            "mentions": [],
            "priority": 1,
            "not_before": now,
            "state": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for number in range(NOTICES)
    ]
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(OutboxMessage), rows)
    finally:
        await engine.dispose()


async def sent_in_database(url: str) -> int:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text("SELECT count(*) FROM outboxmessage WHERE state = 'sent'"))).scalar()
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_database_outage_mid_dispatch_sends_no_notice_twice(tmp_path: Path) -> None:
    name = databases.create_database("yijing_e2e", migrate=True)
    direct = databases.database_url(name)
    proxy = await TcpProxy(make_url(direct).port or 5432).start()
    through_proxy = make_url(direct).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    port = free_port()
    config = write_outage_config(tmp_path, port, through_proxy)
    bot = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / "bot.log")
    peer: OneBotPeer | None = None
    try:
        await queue_notices(direct)
        peer = await start(bot, port)

        def arrived() -> Counter[str]:
            return Counter(message.text for message in peer.sent if message.text.startswith("审核通知"))

        await bot.wait_until(lambda: sum(arrived().values()) >= 4, 30, "the first notices")
        proxy.cut()  # mid-batch: the sends go on, marking them sent cannot
        cut_at = sum(arrived().values())
        await asyncio.sleep(OUTAGE)
        during = sum(arrived().values())
        proxy.restore()
        for _ in range(300):
            if len(arrived()) == NOTICES and await sent_in_database(direct) == NOTICES:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # a notice sent again would have arrived by now
        counts = arrived()
    finally:
        if peer is not None:
            await peer.close()
        await bot.stop_async()
        await proxy.close()
        databases.drop_database(name)
    twice = sorted(text for text, times in counts.items() if times > 1)
    print(  # noqa: T201
        f"outage test: cut after {cut_at} notices, {during} arrived by the end of the {OUTAGE:.0f} s outage,"
        f" {len(counts)} of {NOTICES} delivered, {len(twice)} twice"
    )
    assert proxy.refused > 0, "the bot did not try the database during the outage"
    assert len(counts) == NOTICES, bot.log_tail(40)
    assert twice == [], f"{len(twice)} sent twice: {twice[:5]}\n{bot.log_tail(20)}"
    assert (tmp_path / "data" / "outbox-sent.journal").read_text() == ""
