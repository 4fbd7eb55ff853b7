"""The outbox against a real bot process: a backlog survives SIGKILL, and only what was in flight goes twice."""

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

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "crash-test-token"
BACKLOG = 1000
GROUPS = 100
BATCH = 20
"""The outbox batch size: the most that can have been sent but not yet marked sent when the process dies."""


def write_config(directory: Path, port: int, database: Path) -> Path:
    outbox = f"""
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
