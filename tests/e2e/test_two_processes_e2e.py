"""Two bot processes on one PostgreSQL database: every reminder of 500 tasks is sent exactly once."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from onebot_peer import OneBotPeer
from process import PYTHON, ROOT, BotProcess, free_port, write_bot_config
from sqlalchemy import text, update
from sqlmodel import SQLModel

from storage import db
from storage.models import TaskReminder, utcnow
from storage.services import organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import configure
from tests.places import in_group

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "two-process-token"
TASKS = 500
GROUP = "900001"
OFFICER = ChatAccount("onebot", "20001")
REMINDER = re.compile(r"【任务提醒】任务 (\d+)")


async def five_hundred_tasks_with_reminders_due(url: str) -> None:
    configure(reminders_before_minutes=[60], remind_at_checkin_open=False, deadline_notice_before_minutes=0)
    await db.open_database(url)
    try:
        tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        async with db.get_engine().begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await organisation.grant_officer(
            ChatAccount("onebot", "10001"), PersonRef(platform="onebot", user_id="20001"), "市局"
        )
        await organisation.bind_group(OFFICER, in_group(GROUP), "两进程测试队")
        start = utcnow() + timedelta(hours=3)
        for number in range(TASKS):
            spec = tasks.TaskSpec(
                kind="巡逻", place=f"点位{number}", start=start, end=start + timedelta(hours=1), capacity=2
            )
            await tasks.post_task(OFFICER, in_group(GROUP), spec)
        async with db.session() as session:
            await session.exec(update(TaskReminder).values(due_at=utcnow()))  # the clock, simulated: all due now
    finally:
        configure(reminders_before_minutes=[1440, 60], remind_at_checkin_open=True, deadline_notice_before_minutes=120)
        await db.close_database()


def config_for(directory: Path, port: int, url: str) -> Path:
    extra = """
[reminders]
before_start_minutes = [60]
at_checkin_open = false
deadline_notice_before_minutes = 0
tick_seconds = 1

[outbox]
batch_size = 50
lookahead_seconds = 2
poll_seconds = 0.2

[limits.onebot]
per_second = 200
group_per_minute = 100000
private_per_second = 10
jitter_ms = 0
"""
    return write_bot_config(directory, port, url, TOKEN, extra)


async def test_two_processes_send_every_reminder_once(postgres_url: str, tmp_path: Path) -> None:
    await five_hundred_tasks_with_reminders_due(postgres_url)
    processes: list[BotProcess] = []
    peers: list[OneBotPeer] = []
    try:
        for index in range(2):
            port = free_port()
            process = BotProcess(
                [PYTHON, "-m", "bot", "--config", str(config_for(tmp_path, port, postgres_url))],
                cwd=ROOT,
                log_path=tmp_path / f"bot{index}.log",
            )
            process.start()
            processes.append(process)
            await process.wait_for_port(port, timeout=60)
            peer = OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id=str(30000 + index), access_token=TOKEN)
            await peer.connect(timeout=30)
            peers.append(peer)

        def reminded() -> Counter[str]:
            return Counter(match for peer in peers for message in peer.sent for match in REMINDER.findall(message.text))

        for _ in range(600):
            if len(reminded()) == TASKS:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # anything sent twice would have arrived by now
        counts = reminded()
    finally:
        for peer in peers:
            await peer.close()
        for process in processes:
            await process.stop_async()
    assert len(counts) == TASKS, processes[0].log_tail(30)
    assert set(counts.values()) == {1}, [task for task, times in counts.items() if times > 1][:10]
    shares = [sum(len(REMINDER.findall(m.text)) for m in peer.sent) for peer in peers]
    print(f"two processes: reminders sent {shares[0]} + {shares[1]}, each of {TASKS} once")  # noqa: T201
