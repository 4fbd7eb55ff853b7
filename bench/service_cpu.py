"""CPU per call of the everyday commands' services, in this process, on a small SQLite database.

Seeds a unit with a team bound to a group, 15 approved members, 5 open tasks (everyone signed up for the first)
and some points, then calls each service `--runs` times from a member in the team's group and prints the median
and p90 CPU time per call (`time.process_time`, so other load on the machine skews it little): tasks.list_open_tasks
(/任务), tasks.task_detail (/任务 N), membership.my_profile (/我的), standings.my_points (/积分),
standings.leaderboard (/排行榜's text) and plugins._images.board_image (its picture: drawn, and the same board
again within the minute it is kept). No NoneBot, no chat: the
whole command's figures are bench/command_load.py's (`--kinds tasks,task,me,points,board`).

    .venv/bin/python bench/service_cpu.py [--runs 300] [--profile NAME]   # NAME: cProfile one service, top 25
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import db
from storage.services import membership, organisation, standings, tasks
from storage.services.actors import ChatAccount, ChatGroup
from storage.services.people import PersonRef
from storage.settings import configure

ADMIN, OFFICER, FIRST_MEMBER = 10001, 20001, 30001
GROUP = ChatGroup("onebot", "820001")


def account(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


async def seed() -> None:
    officer = PersonRef(platform="onebot", user_id=str(OFFICER))
    await organisation.grant_officer(account(ADMIN), officer, "市局/历下分局/闫千户派出所")
    await organisation.bind_group(account(OFFICER), GROUP, "一队")
    digits = "零一二三四五六七八九十"
    for n in range(15):
        name = f"队员{digits[n // 10]}{digits[n % 10]}" if n >= 10 else f"队员{digits[n]}"
        applied = await membership.apply_to_team(account(FIRST_MEMBER + n), GROUP, name, f"138000000{n:02d}", [])
        await membership.decide_application(account(OFFICER), approve=True, number=applied.number)
    for n in range(1, 6):
        spec = tasks.parse_task_words(f"巡逻 明天{8 + n}:00 1小时 第{n}片区 20人 5分".split())
        await tasks.post_task(account(OFFICER), GROUP, spec)
    for n in range(15):
        await tasks.signup_for_task(account(FIRST_MEMBER + n), 1)
    for n in range(0, 15, 2):
        target = PersonRef(platform="onebot", user_id=str(FIRST_MEMBER + n))
        await standings.award_points(account(OFFICER), target, 5 + n, "巡逻表现好")


def timed(runs: int, call: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[list[float]]]:
    async def run() -> list[float]:
        await call()  # warm
        spent = []
        for _ in range(runs):
            start = time.process_time()
            await call()
            spent.append(time.process_time() - start)
        return spent

    return run


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--profile", help="one of the names printed: cProfile it and print the top 25")
    args = parser.parse_args()
    configure(superusers=[f"onebot:{ADMIN}"], timezone="Asia/Shanghai", daily_cap=0, monthly_cap=0, rewards=[])
    from plugins import _images  # after configure: the face reads the settings

    with tempfile.TemporaryDirectory() as folder:
        await db.open_database(f"sqlite+aiosqlite:///{folder}/bench.db")
        try:
            await seed()
            me = account(FIRST_MEMBER + 3)
            board = await standings.leaderboard(me, GROUP, "month", "team", "points")

            async def draw() -> bytes:
                _images._drawn_boards.clear()  # a board not drawn in the last minute
                return _images.board_image(board)

            async def kept() -> bytes:
                return _images.board_image(board)  # the same board again within the minute

            calls: dict[str, Callable[[], Awaitable[object]]] = {
                "list_open_tasks": lambda: tasks.list_open_tasks(me, GROUP),
                "task_detail": lambda: tasks.task_detail(me, 1),
                "my_profile": lambda: membership.my_profile(me),
                "my_points": lambda: standings.my_points(me, GROUP),
                "leaderboard": lambda: standings.leaderboard(me, GROUP, "month", "team", "points"),
                "board_image": draw,
                "board_image_kept": kept,
            }
            if args.profile:
                run = timed(args.runs, calls[args.profile])
                profiler = cProfile.Profile()
                profiler.enable()
                await run()
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                return
            print(f"{'service':<16} {'median ms':>10} {'p90 ms':>8}  (CPU per call, {args.runs} calls)")
            for name, call in calls.items():
                spent = sorted(await timed(args.runs, call)())
                median = statistics.median(spent) * 1000
                p90 = spent[int(len(spent) * 0.9)] * 1000
                print(f"{name:<16} {median:>10.2f} {p90:>8.2f}")
        finally:
            await db.close_database()


if __name__ == "__main__":
    asyncio.run(main())
