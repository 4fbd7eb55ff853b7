"""The weekly leaderboard and the monthly 义警之星 at city scale, and what they do to the event loop meanwhile.

Seeds the city of command_load.py (15,000 teams, each bound to a group; 215,000 members) and gives every member
points last week and last month, so that every team has a board and a star. Then, in this process, runs the
bot's own `post_weekly_boards` and `post_monthly_honours` at their due time while a heartbeat task measures how
long the event loop stops between its beats. Every command the bot answers meanwhile waits that long.

Baseline, in the same run: the same heartbeat with the database open and nothing else running.

Prints, for each post: the messages queued, wall and CPU seconds, and the loop's longest stall and p99. The
messages are worded as the bot words them (plugins/_texts renders each team's notice when it is queued).

    .venv/bin/python bench/periodic_posts.py                       # SQLite in a temporary folder
    .venv/bin/python bench/periodic_posts.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/yijing_posts
    (the PostgreSQL database is dropped and created again: use a name of its own)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parent))

from command_load import ROOT, City, recreate_postgres, seed
from outbox_fanout import watch_loop

sys.path.insert(0, str(ROOT))

from sqlalchemy import text
from sqlalchemy.engine import make_url

import plugins._texts  # noqa: F401  (the chat's wording: the posts' notices are rendered with it, as in the bot)
from storage import db
from storage.services import standings
from storage.services.totals import period_of

MONDAY_0900 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai, the default board time
FIRST_0900 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 on the 1st, the default honours time


class Heartbeat:
    """The event loop's stalls while the block runs, sampled by outbox_fanout's watch_loop."""

    def __init__(self) -> None:
        self.stalls: list[float] = []
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self.task = asyncio.create_task(watch_loop(self.stalls, self.stop))
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.task is not None
        self.stop.set()
        await self.task

    def describe(self) -> str:
        ordered = sorted(self.stalls)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        median = statistics.median(ordered)
        return f"loop stall max {1000 * ordered[-1]:.1f} ms, p99 {1000 * p99:.1f} ms, median {1000 * median:.2f} ms"


async def give_everyone_points(url: str) -> None:
    """Every member has points last week and last month (1-50, so places differ)."""
    week, month = period_of("week", MONDAY_0900, back=1).key, period_of("month", FIRST_0900, back=1).key
    await db.open_database(url)
    async with db.get_engine().begin() as connection:
        for key in (week, month):
            await connection.execute(
                text(
                    "INSERT INTO membertotal (member_id, period, points, minutes, tips, points_at) "
                    "SELECT id, :key, (id * 7) % 50 + 1, (id * 13) % 600, 0, :at FROM member"
                ),
                {"key": key, "at": MONDAY_0900},
            )
        await connection.execute(text("ANALYZE membertotal"))  # as autovacuum does on a live database
    await db.close_database()


async def measure(name: str, post) -> None:
    async with Heartbeat() as heartbeat:
        cpu, wall = time.process_time(), time.perf_counter()
        messages = await post()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{name}: {messages:,} messages in {wall:.2f} s ({cpu:.2f} s CPU); {heartbeat.describe()}", flush=True)


async def main(arguments: argparse.Namespace) -> None:
    city = City(arguments.teams, arguments.members)
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'posts.db'}"
        if make_url(url).get_backend_name() == "postgresql":
            await recreate_postgres(url)
        seconds = await seed(url, city, 0)
        await give_everyone_points(url)
        print(f"seeded {city.teams:,} teams and groups, {city.members:,} members with points in {seconds:.1f} s")
        await db.open_database(url)
        gc.collect()
        gc.freeze()  # as the bot does once started (bot/app.py, settle_memory)
        try:
            async with Heartbeat() as idle:
                await asyncio.sleep(3)
            print(f"idle (baseline): {idle.describe()}", flush=True)
            await measure("weekly board", lambda: standings.post_weekly_boards(MONDAY_0900))
            await measure("monthly honours", lambda: standings.post_monthly_honours(FIRST_0900))
            await measure("weekly board again (posted already)", lambda: standings.post_weekly_boards(MONDAY_0900))
        finally:
            await db.close_database()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--teams", type=int, default=15_000)
    parser.add_argument("--members", type=int, default=215_000)
    asyncio.run(main(parser.parse_args()))
