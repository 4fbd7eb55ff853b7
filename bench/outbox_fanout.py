"""Fan-out benchmark: 15,000 due reminders become outbox messages and are dispatched to a fake platform with the
sending limits lifted. Prints messages per second for each stage and the event loop's longest stall while it
runs, beside the same loop's longest stall when idle (the baseline, measured in the same run).

    .venv/bin/python bench/outbox_fanout.py                       # SQLite in a temporary folder
    .venv/bin/python bench/outbox_fanout.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    (the PostgreSQL database must exist and be empty or disposable: its tables are emptied)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from sqlmodel import SQLModel

import plugins._texts  # noqa: F401  (the chat's wording: reminders are rendered with it when queued, as in the bot)
from plugins._outbox.dispatcher import Dispatcher, Outgoing
from plugins._outbox.limits import Limits, RateLimiter
from storage import db
from storage.models import GroupBinding, Task, TaskReminder, TaskTeam, Team, Unit, utcnow
from storage.services import reminders


class FakePlatform:
    """Answers every send at once, like a platform with no limits and no latency."""

    def __init__(self) -> None:
        self.sent = 0

    def platforms(self) -> list[str]:
        return ["telegram"]

    def account(self, platform: str) -> str:
        return "bench-bot"

    async def send(self, message: Outgoing, account: str) -> None:
        self.sent += 1
        await asyncio.sleep(0)


async def watch_loop(stalls: list[float], stop: asyncio.Event, period: float = 0.005) -> None:
    """How late the loop wakes a task that asked to sleep `period`: the longest stall a command reply would see."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(period)
        stalls.append(loop.time() - before - period)


async def seed(groups: int) -> None:
    now = utcnow()
    start = now + timedelta(hours=2)
    async with db.get_engine().begin() as connection:
        await connection.execute(insert(Unit), [{"id": 1, "name": "压测市局", "path": "压测市局", "created_at": now}])
        await connection.execute(
            insert(Team), [{"id": n, "name": f"队{n}", "unit_id": 1, "created_at": now} for n in range(1, groups + 1)]
        )
        await connection.execute(
            insert(GroupBinding),
            [
                {"platform": "telegram", "group_id": str(-n), "team_id": n, "created_at": now}
                for n in range(1, groups + 1)
            ],
        )
        tasks = [
            {
                "id": n,
                "kind": "巡逻",
                "place": f"点位{n}",
                "start_at": start,
                "end_at": start + timedelta(hours=1),
                "signup_deadline": start,
                "capacity": 5,
                "points": 0,
                "required_tags": [],
                "repeat_weekly": False,
                "unit_id": 1,
                "status": "open",
                "created_at": now,
            }
            for n in range(1, groups + 1)
        ]
        for begin in range(0, groups, 2000):
            await connection.execute(insert(Task), tasks[begin : begin + 2000])
            await connection.execute(
                insert(TaskTeam),
                [{"task_id": n, "team_id": n} for n in range(begin + 1, min(begin + 2000, groups) + 1)],
            )
            await connection.execute(
                insert(TaskReminder),
                [
                    {"task_id": n, "kind": "before:60", "due_at": now, "state": "pending"}
                    for n in range(begin + 1, min(begin + 2000, groups) + 1)
                ],
            )


async def main(url: str, groups: int) -> None:
    await db.open_database(url)
    if url.startswith("postgresql"):
        tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        async with db.get_engine().begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await seed(groups)

    stop = asyncio.Event()
    idle: list[float] = []
    watcher = asyncio.create_task(watch_loop(idle, stop))
    await asyncio.sleep(2)
    stop.set()
    await watcher

    stop = asyncio.Event()
    busy: list[float] = []
    watcher = asyncio.create_task(watch_loop(busy, stop))
    began = time.perf_counter()
    enqueued = 0
    while True:
        run = await reminders.send_due_reminders()
        enqueued += run.messages
        if not run.sent:
            break
    enqueue_seconds = time.perf_counter() - began

    platform = FakePlatform()
    limiter = RateLimiter(
        {"telegram": Limits(per_second=1_000_000, group_per_minute=1_000_000, private_per_second=1e6)}
    )
    dispatcher = Dispatcher(platform, owner="bench", limiter=limiter, batch=100, lookahead=1)
    began = time.perf_counter()
    await dispatcher.run_until_empty()
    dispatch_seconds = time.perf_counter() - began
    stop.set()
    await watcher
    await db.close_database()

    def ms(values: list[float], q: float) -> float:
        return 1000 * statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 2 else 0.0

    print(f"database: {db.describe_url(url).split('://')[0]}, groups: {groups}")
    print(
        f"reminders → outbox: {enqueued} messages in {enqueue_seconds:.1f} s = {enqueued / enqueue_seconds:.0f} msg/s"
    )
    dispatch_rate = platform.sent / dispatch_seconds
    print(f"outbox → platform:  {platform.sent} sends in {dispatch_seconds:.1f} s = {dispatch_rate:.0f} msg/s")
    print(
        f"event loop stall, idle (baseline): max {1000 * max(idle):.1f} ms, p99 {ms(idle, 99):.1f} ms; "
        f"during the fan-out: max {1000 * max(busy):.1f} ms, p99 {ms(busy, 99):.1f} ms, "
        f"median {1000 * statistics.median(busy):.2f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="database URL (default: a new SQLite file in a temporary folder)")
    parser.add_argument("--groups", type=int, default=15_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main(arguments.database or f"sqlite+aiosqlite:///{folder}/bench.db", arguments.groups))
