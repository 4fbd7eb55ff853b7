"""What every group message costs, and how fast a command is answered: 义警助手 beside a bare NoneBot.

Both bots run as their own processes; this process plays a OneBot v11 implementation (NapCat) to each over the
reverse WebSocket, from many groups and users, in the same run. Figures:

- chatter: CPU time the bot process spends per non-command group message (read from /proc, so other load on
  the machine does not skew it), and the throughput that implies, as a fraction of the bare bot's;
- commands: a closed loop of commands (the bare bot's /ping; ours /签到 by default, which looks the caller up in
  the database; the caller's name comes with the message): median and p99 reply latency
  and replies per second, as a fraction of the bare bot's;
- memory: resident size of each process at the end.

    .venv/bin/python bench/event_cost.py [--messages 5000] [--commands 300] [--database URL] [--command /帮助]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from onebot_peer import OneBotPeer
from process import PYTHON, BotProcess, free_port, write_bot_config

TOKEN = "bench-token"
GROUPS = 50
USERS = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(name: str, process: BotProcess, port: int, command: str, messages: int, commands: int) -> dict:
    process.start()
    await process.wait_for_port(port, timeout=60)
    async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as peer:
        for user in range(USERS):
            peer.add_user(30000 + user, f"队员{user}", group_id=700000 + user % GROUPS)
        for index in range(200):  # warm up
            await peer.group_message(700000 + index % GROUPS, 30000 + index % USERS, f"热身 {index}")
        await peer.ask_group(700000, 30000, command, timeout=30)
        await asyncio.sleep(1)

        before = cpu_seconds(process.pid)
        started = time.perf_counter()
        for index in range(messages):
            await peer.group_message(
                700000 + index % GROUPS, 30000 + index % USERS, f"今天巡逻辛苦了，大家注意安全 {index}"
            )
        await peer.ask_group(700000, 30000, command, timeout=60)  # the last one: everything before it was read
        chatter_wall = time.perf_counter() - started
        await asyncio.sleep(0.5)
        chatter_cpu = cpu_seconds(process.pid) - before

        latencies = []
        before = cpu_seconds(process.pid)
        started = time.perf_counter()
        for index in range(commands):
            sent = time.perf_counter()
            await peer.ask_group(700000 + index % GROUPS, 30000 + index % USERS, command, timeout=30)
            latencies.append(time.perf_counter() - sent)
        commands_wall = time.perf_counter() - started
        commands_cpu = cpu_seconds(process.pid) - before
        memory = rss_mb(process.pid)
    await process.stop_async()
    latencies.sort()
    return {
        "name": name,
        "chatter_cpu_ms": 1000 * chatter_cpu / messages,
        "chatter_wall_per_s": messages / chatter_wall,
        "command_p50_ms": 1000 * statistics.median(latencies),
        "command_p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "commands_per_s": commands / commands_wall,
        "command_cpu_ms": 1000 * commands_cpu / commands,
        "rss_mb": memory,
    }


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        bare_port, our_port = free_port(), free_port()
        bare = BotProcess(
            [PYTHON, str(ROOT / "bench" / "bare_bot.py"), str(bare_port), TOKEN],
            cwd=ROOT,
            log_path=directory / "bare.log",
        )
        database = arguments.database or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        config = write_bot_config(directory, our_port, database, TOKEN, '[bot]\nlog_level = "WARNING"\n')
        ours = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=directory / "ours.log")
        baseline = await measure(
            "bare NoneBot, /ping", bare, bare_port, "/ping", arguments.messages, arguments.commands
        )
        name = f"义警助手, {arguments.command}"
        ours_figures = await measure(name, ours, our_port, arguments.command, arguments.messages, arguments.commands)
    for figures in (baseline, ours_figures):
        print(
            f"{figures['name']}: chatter {figures['chatter_cpu_ms']:.3f} ms CPU/message "
            f"({figures['chatter_wall_per_s']:.0f} msg/s sent and read); "
            f"commands p50 {figures['command_p50_ms']:.1f} ms, "
            f"p99 {figures['command_p99_ms']:.1f} ms, {figures['commands_per_s']:.0f}/s closed loop, "
            f"{figures['command_cpu_ms']:.2f} ms CPU each; RSS {figures['rss_mb']:.0f} MB"
        )
    chatter_ratio = baseline["chatter_cpu_ms"] / ours_figures["chatter_cpu_ms"]
    command_ratio = ours_figures["commands_per_s"] / baseline["commands_per_s"]
    print(f"ratios (ours / bare): chatter throughput by CPU {chatter_ratio:.2f}, command replies/s {command_ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--database", help="database URL for 义警助手 (default: SQLite in a temporary folder)")
    parser.add_argument(
        "--command",
        default="/签到",
        help="our command in the loop (default /签到: finds the caller's member record and tasks open now)",
    )
    asyncio.run(main(parser.parse_args()))
