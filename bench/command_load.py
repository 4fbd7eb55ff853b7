"""Commands under load at city scale: 义警助手 beside a bare NoneBot with one /ping, in the same run.

The database is seeded first with bulk SQL at the size of Jinan: 15,000 teams, each bound to a QQ group, and
215,000 members, approved in their team and with a QQ account. Every team has a task in its check-in window
(every member signed up for it) and a task open for sign-up tomorrow. Then each bot runs as its own process and
this process plays NapCat to it over the OneBot v11 reverse WebSocket. Commands come from a different member in a
different group each time (spread over all 15,000 groups), so each is a first command in its session, as at an
evening peak. (Before bot/onebot_sender.py, uninfo asked the peer about the group and the member for each.)

Phases, each for the bare bot (/ping) and for ours (/报名 N, /签到, and the everyday commands below), each begun
once the bot has settled from the one before (at most 90 s; `Driver.settle`, the seconds in the JSON's `settled_s`):
- chatter: non-command group messages; CPU time the bot spends per message (from /proc);
- closed loop: a fixed number of commands, `--window` in flight at a time: replies per second, CPU per command;
- open loop: a steady `--rate` commands per second for `--seconds`: p50/p99 latency, measured from the moment
  each command was due to be sent until its reply arrived;
- open dialogues (ours): `--dialogues` wizards are opened and left waiting for their next answer (half /发布任务
  step by step by officers in their groups, half /线索 in private), then chatter and both commands again, and the
  wizards are closed (取消). That is done `--rounds` times, each time followed by a block without dialogues, so
  blocks alternate without, with, without, …; each block with dialogues is compared with the mean of the two
  around it. This machine drifts by 20-40 % between phases a minute apart, in either direction, and comparing one
  block with one other could not tell that from the dialogues' cost;
- everyday commands (ours, after /报名 and /签到 in each block): /任务, /任务 N (the task all the team signed up
  for, with its roster), /我的, /积分, /排行榜 (text and picture) and /帮助, each in a closed loop of `--commands`
  (replies per second, CPU per command; their ratios to the bare /ping), each reply checked to be the answer and
  not a refusal; `--kinds` chooses which of our commands run (e.g. `--kinds tasks,board`);
- memory: resident size of each bot at the end (and its peak, and the largest with the dialogues open).

The bare bot runs before ours and again after (and after a `--compare` checkout), and every ratio is against the
mean of its two runs (bare_mean): the machine drifts within minutes. Each bot runs on its own copy of the seeded
database, so each meets the same city, and a `--compare` checkout
its own schema version. The bots' clocks run as in production: about a minute after start each bot makes last
week's board and last month's honours, which in this city find no points.

This process must not pause while it measures: a full garbage collection of its own heap took 110–250 ms here and
showed up as the bot's latency (every command in flight came back "late" together). So the heap left after seeding
is frozen out of the collector, and each measured phase runs with automatic collection off after a collection
(as `timeit` does).

    .venv/bin/python bench/command_load.py                       # SQLite in a temporary folder
    .venv/bin/python bench/command_load.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/yijing_load
    (the PostgreSQL database is dropped and created again: use a name of its own; each bot runs on a copy of it,
    NAME_ours and NAME_before, dropped after it ran)

Prints one line per bot and phase, the ratios, and a JSON line with every figure (for medians over runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from onebot_peer import OneBotPeer
from process import PYTHON, BotProcess, free_port, write_bot_config
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from storage import db
from storage.models import (
    GroupBinding,
    Member,
    PlatformIdentity,
    Role,
    Signup,
    Task,
    TaskTeam,
    Team,
    TeamMembership,
    Unit,
    table_of,
    utcnow,
)

TOKEN = "bench-token"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETTLE_MOST = 90.0
"""Seconds a phase waits at most for the bot to settle (Driver.settle) before it starts anyway."""
GROUP_BASE = 900_000_000
USER_BASE = 1_000_000_000
BRANCHES = 10
EVERYDAY = {
    # kind: what a member types in their team's group (/任务 N: the task all the team signed up for), and how the
    # reply starts (/帮助: as a short menu since issue 18, as the whole list before)
    "tasks": ("/任务", ("近期任务：",)),
    "task": ("/任务 N", ("【任务 ",)),
    "me": ("/我的", ("队员",)),
    "points": ("/积分", ("队员",)),
    "board": ("/排行榜", ("第",)),
    "help": ("/帮助", ("本群队伍：", "义警助手")),
}
KINDS = ("signup", "checkin", *EVERYDAY)
STATIONS_PER_BRANCH = 15


# ------------------------------------------------------------------------------------------------ the process


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


# ------------------------------------------------------------------------------------------------ the data


class City:
    """Who is who in the seeded data: member m (1-based) is in team (m - 1) % teams + 1, at slot (m - 1) // teams.
    Slot 0 of the first teams is kept for officers and tip reporters; commands come from slot 1 on."""

    def __init__(self, teams: int, members: int) -> None:
        self.teams = teams
        self.members = members

    def member(self, team: int, slot: int) -> int:
        return slot * self.teams + team

    def team_of(self, member: int) -> int:
        return (member - 1) % self.teams + 1

    def group(self, team: int) -> int:
        return GROUP_BASE + team

    def qq(self, member: int) -> int:
        return USER_BASE + member

    def checkin_task(self, team: int) -> int:
        return team

    def signup_task(self, team: int) -> int:
        return self.teams + team

    def caller(self, k: int) -> tuple[int, int]:
        """The k-th command's (team, member): a different group each time, 7919 apart, until all were used."""
        team = (k * 7919) % self.teams + 1
        slot = 1 + k // self.teams
        member = self.member(team, slot)
        if member > self.members:
            raise RuntimeError("more commands than seeded members: raise --members or lower the counts")
        return team, member

    def officer(self, n: int) -> tuple[int, int]:
        team = n + 1
        return team, self.member(team, 0)

    def reporter(self, n: int, officers: int) -> int:
        return self.member(officers + n + 1, 0)


def _chunks(rows: list[dict], size: int = 20_000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def seed(url: str, city: City, officers: int) -> float:
    """Create the schema (migrations) and fill it with bulk inserts; returns the seconds it took."""
    started = time.perf_counter()
    engine = await db.open_database(url)
    now = utcnow()
    today_start = now + timedelta(minutes=10)  # inside the check-in window (30 minutes before the start)
    tomorrow = now + timedelta(days=1)
    units = [{"id": 1, "name": "压测市公安局", "path": "压测市公安局", "parent_id": None, "created_at": now}]
    stations = []
    for branch in range(BRANCHES):
        branch_id = 2 + branch
        branch_path = f"压测市公安局/分局{branch}"
        units.append({"id": branch_id, "name": f"分局{branch}", "path": branch_path, "parent_id": 1, "created_at": now})
        for station in range(STATIONS_PER_BRANCH):
            station_id = 100 + branch * STATIONS_PER_BRANCH + station
            units.append(
                {
                    "id": station_id,
                    "name": f"派出所{station}",
                    "path": f"{branch_path}/派出所{station}",
                    "parent_id": branch_id,
                    "created_at": now,
                }
            )
            stations.append(station_id)
    team_unit = {t: stations[(t - 1) % len(stations)] for t in range(1, city.teams + 1)}
    tables: list[tuple[Any, list[dict]]] = [
        (Unit, units),
        (Team, [{"id": t, "name": f"第{t}队", "unit_id": team_unit[t], "created_at": now} for t in team_unit]),
        (
            GroupBinding,
            [
                {
                    "id": t,
                    "platform": "onebot",
                    "group_id": str(city.group(t)),
                    "team_id": t,
                    "bound_by": None,
                    "created_at": now,
                }
                for t in team_unit
            ],
        ),
        (
            Member,
            [
                {
                    "id": m,
                    "name": f"队员{m}",
                    "phone": f"1{m:010d}",
                    "tags": ["巡逻"],
                    "status": "active",
                    "created_at": now,
                    "welcomed_at": now,  # members of long standing: their /帮助 is the menu, not the welcome
                }
                for m in range(1, city.members + 1)
            ],
        ),
        (
            PlatformIdentity,
            [
                {"id": m, "platform": "onebot", "user_id": str(city.qq(m)), "member_id": m, "created_at": now}
                for m in range(1, city.members + 1)
            ],
        ),
        (
            TeamMembership,
            [
                {
                    "id": m,
                    "team_id": city.team_of(m),
                    "member_id": m,
                    "status": "active",
                    "applied_at": now,
                    "decided_at": now,
                    "decided_by": None,
                    "reason": None,
                    "applied_platform": "onebot",
                    "applied_group_id": str(city.group(city.team_of(m))),
                }
                for m in range(1, city.members + 1)
            ],
        ),
        (
            Role,
            [
                {
                    "id": n + 1,
                    "member_id": city.officer(n)[1],
                    "kind": "officer",
                    "scope_id": team_unit[city.officer(n)[0]],
                    "granted_by": None,
                    "created_at": now,
                }
                for n in range(officers)
            ],
        ),
    ]
    task_rows = []
    for t in team_unit:
        for task_id, start, hours, capacity in (
            (city.checkin_task(t), today_start, 3, 50),
            (city.signup_task(t), tomorrow, 2, 10),
        ):
            task_rows.append(
                {
                    "id": task_id,
                    "kind": "巡逻",
                    "place": f"第{t}队片区",
                    "start_at": start,
                    "end_at": start + timedelta(hours=hours),
                    "signup_deadline": start - timedelta(hours=1),
                    "capacity": capacity,
                    "points": 5,
                    "required_tags": [],
                    "latitude": None,
                    "longitude": None,
                    "radius_m": None,
                    "repeat_weekly": False,
                    "series_id": None,
                    "unit_id": team_unit[t],
                    "created_by": None,
                    "status": "open",
                    "cancel_reason": None,
                    "closed_at": None,
                    "created_at": now,
                }
            )
    tables.append((Task, task_rows))
    tables.append(
        (
            TaskTeam,
            [{"id": row["id"], "task_id": row["id"], "team_id": (row["id"] - 1) % city.teams + 1} for row in task_rows],
        )
    )
    tables.append(
        (
            Signup,
            [
                {
                    "id": m,
                    "task_id": city.checkin_task(city.team_of(m)),
                    "member_id": m,
                    "status": "signed",
                    "arrived_at": now,
                    "checked_in_at": None,
                    "checked_out_at": None,
                    "checkout_automatic": False,
                    "latitude": None,
                    "longitude": None,
                    "distance_m": None,
                    "outside_radius": False,
                    "minutes_served": None,
                }
                for m in range(1, city.members + 1)
            ],
        )
    )
    postgres = make_url(url).get_backend_name() == "postgresql"
    async with engine.begin() as connection:
        for model, rows in tables:
            table = table_of(model)
            if postgres:
                raw = (await connection.get_raw_connection()).driver_connection
                assert raw is not None, "a connection the pool has just handed out has its driver's connection"
                # the columns the seeder fills; the others take their defaults (the member file's, for example)
                columns = [column.name for column in table.columns if rows and column.name in rows[0]]
                records = [
                    tuple(
                        json.dumps(row[c], ensure_ascii=False) if c in ("tags", "required_tags") else row[c]
                        for c in columns
                    )
                    for row in rows
                ]
                await raw.copy_records_to_table(table.name, records=records, columns=columns)
            else:
                for chunk in _chunks(rows):
                    await connection.execute(insert(table), chunk)
        if postgres:
            for model in (
                Unit,
                Team,
                GroupBinding,
                Member,
                PlatformIdentity,
                TeamMembership,
                Role,
                Task,
                TaskTeam,
                Signup,
            ):
                name = table_of(model).name
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
    async with engine.connect() as connection:
        if postgres:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("ANALYZE"))
        else:
            await connection.execute(text("ANALYZE"))
    await db.close_database()
    return time.perf_counter() - started


async def copy_of_database(url: str, name: str) -> str:
    """A copy of the seeded database for one bot, so that each bot meets the same city (and its own schema version:
    a `--compare` checkout may be older than this one's migrations)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        if not parsed.database:
            raise ValueError(f"{url} names no SQLite file to copy")
        source = Path(parsed.database)
        copy = source.with_name(f"{source.stem}-{name}{source.suffix}")
        await asyncio.to_thread(_copy_sqlite, source, copy)
        return parsed.set(database=str(copy)).render_as_string(hide_password=False)
    copy = f"{parsed.database}_{name}"
    await _postgres_admin(
        url, f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)', f'CREATE DATABASE "{copy}" TEMPLATE "{parsed.database}"'
    )
    return parsed.set(database=copy).render_as_string(hide_password=False)


async def settle_disk(url: str) -> None:
    """Write what setting up wrote (the seed, a copy: hundreds of MB) to disk before a bot is measured. Otherwise
    the kernel writes it back half a minute later, in the middle of a phase, and PostgreSQL's commits, which wait
    for their WAL to reach the disk, stall for 100-300 ms together."""
    if make_url(url).get_backend_name() == "postgresql":
        await _postgres_admin(url, "CHECKPOINT")
    await asyncio.to_thread(os.sync)


def _copy_sqlite(source: Path, copy: Path) -> None:
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{copy}{suffix}")


async def at_schema_of(url: str, checkout: Path) -> None:
    """Bring a copy down to the newest migration that checkout knows: a `--compare` checkout may be older than
    the migrations this one seeded with (ours know how to go back)."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    theirs = Config()
    theirs.set_main_option("script_location", str(checkout / "storage" / "migrations"))
    head = ScriptDirectory.from_config(theirs).get_current_head()
    if head is None:
        raise RuntimeError(f"{checkout} has no migrations")

    def downgrade(connection) -> None:
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, head)

    await db.open_database(url)
    try:
        async with db.get_engine().begin() as connection:
            await connection.run_sync(downgrade)
    finally:
        await db.close_database()


async def drop_copy_of_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        await _postgres_admin(url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


async def _postgres_admin(url: str, *statements: str) -> None:
    import asyncpg

    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def recreate_postgres(url: str) -> None:
    name = make_url(url).database
    await _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


# ------------------------------------------------------------------------------------------------ the peer


class LoadPeer(OneBotPeer):
    """The OneBot peer, with replies routed to whoever waits for that chat, and nothing kept for later."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: dict[tuple[str, int], asyncio.Future[float]] = {}
        self.last_reply = ""

    def _store(self, *args: Any, **kwargs: Any) -> None:  # get_msg is never needed here
        pass

    def _record_send(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        result = super()._record_send(action, params)
        sent = self.sent.pop()
        key = ("group", sent.group_id) if sent.message_type == "group" else ("private", sent.user_id)
        future = self.waiting.pop(key, None)  # type: ignore[arg-type]
        if future is not None and not future.done():
            future.set_result(time.perf_counter())
            self.last_reply = sent.text
        return result

    def forget(self) -> None:
        self.calls.clear()
        self.events.clear()

    async def command(
        self, group: int | None, user: int, message: str, timeout: float = 30, trace: dict | None = None
    ) -> float:
        """Send one command (in a group, or in private with group None); the time its reply arrived. With `trace`,
        the message's id and when it was handed to the socket are put in it."""
        key = ("group", group) if group is not None else ("private", user)
        if key in self.waiting:
            raise RuntimeError(f"two commands in flight in {key}")
        future = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        if trace is not None:
            trace["sending"] = time.perf_counter()
        if group is not None:
            message_id = await self.group_message(group, user, message)
        else:
            message_id = await self.private_message(user, message)
        if trace is not None:
            trace["id"], trace["sent"] = message_id, time.perf_counter()
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(key, None)


# ------------------------------------------------------------------------------------------------ phases


def _append_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    """--trace: one JSON object a line. Times are time.perf_counter(), CLOCK_MONOTONIC on Linux, so they compare with
    timestamps taken inside the bot process (a probe of one's own: event received, service, reply sent)."""
    with path.open("a") as file:
        file.writelines(json.dumps(row) + "\n" for row in rows)


@contextlib.contextmanager
def no_pauses_of_our_own():
    """Collect garbage now and not during the phase, so that none of the load generator's pauses is timed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Driver:
    def __init__(self, name: str, peer: LoadPeer, pid: int, city: City, arguments: argparse.Namespace) -> None:
        self.name = name
        self.peer = peer
        self.pid = pid
        self.city = city
        self.arguments = arguments
        self.counters: dict[str, int] = {}
        self.replies: list[str] = []
        self.phase = 0
        self.block = 0

    def next_caller(self, kind: str) -> tuple[int, int]:
        k = self.counters.get(kind)
        if k is None:
            k = int(self.arguments.offset)
        self.counters[kind] = k + 1
        return self.city.caller(k)

    def text_for(self, kind: str, team: int) -> str:
        if kind == "signup":
            return f"/报名 {self.city.signup_task(team)}"
        if kind == "checkin":
            return "/签到"
        if kind == "task":
            return f"/任务 {self.city.checkin_task(team)}"
        if kind in EVERYDAY:
            return EVERYDAY[kind][0]
        return "/ping"

    async def one(self, kind: str) -> float:
        team, member = self.next_caller(kind)
        sent = time.perf_counter()
        replied = await self.peer.command(self.city.group(team), self.city.qq(member), self.text_for(kind, team))
        return replied - sent

    async def start_profile(self, label: str) -> subprocess.Popen | None:
        """With --profile: py-spy samples our bot until stop_profile, into PROFILE-BOT-BLOCK-LABEL.txt (raw stacks)."""
        if not self.arguments.profile or self.arguments.bare:
            return None
        profiler = subprocess.Popen(  # noqa: ASYNC220 (returns at once)
            [str(Path(PYTHON).parent / "py-spy"), "record", "-p", str(self.pid), "-r", "200", "-f", "raw",
             "-o", f"{self.arguments.profile}-{self.name}-{self.block}-{label}.txt", "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        await asyncio.sleep(1)
        return profiler

    async def stop_profile(self, profiler: subprocess.Popen | None) -> None:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            await asyncio.to_thread(profiler.wait, 30)

    async def idle(self, seconds: float) -> float:
        """CPU milliseconds per second the bot spends with nothing sent to it (its clocks: outbox, reminders, …)."""
        before = cpu_seconds(self.pid)
        await asyncio.sleep(seconds)
        return 1000 * (cpu_seconds(self.pid) - before) / seconds

    async def settle(self, idle_ms_per_s: float) -> float:
        """Wait (at most SETTLE_MOST seconds) until the bot is about as idle as when nothing was sent to it: below
        three times its idle CPU and below 2 % of a core, over half a second. Returns the seconds waited.

        A phase used to start while the bot was still busy with what the phase before left it (the notices of
        600 sign-ups going out, the weekly board and the monthly honours for 15,000 teams a minute after start),
        and that work was counted as the next command's CPU and slowed its replies: /帮助 measured 225 replies/s
        after the sign-up and check-in phases and 513/s on its own. The bare bot has no such work."""
        limit = max(3 * idle_ms_per_s, 20.0)
        started = time.perf_counter()
        while time.perf_counter() - started < SETTLE_MOST:
            before = cpu_seconds(self.pid)
            await asyncio.sleep(0.5)
            if 1000 * (cpu_seconds(self.pid) - before) / 0.5 <= limit:
                break
        return time.perf_counter() - started

    async def chatter(self, messages: int, label: str = "chatter") -> dict:
        with no_pauses_of_our_own():
            return await self._chatter(messages, label)

    async def _chatter(self, messages: int, label: str) -> dict:
        profiler = await self.start_profile(label)
        before = cpu_seconds(self.pid)
        started = time.perf_counter()
        for index in range(messages):
            team = (index * 104729) % self.city.teams + 1
            member = self.city.member(team, 1 + index % 13)
            await self.peer.group_message(self.city.group(team), self.city.qq(member), f"今天巡逻辛苦了 {index}")
        await self.one("ping" if self.arguments.bare else "checkin")  # everything before it was read
        wall = time.perf_counter() - started
        await asyncio.sleep(0.5)
        cpu = cpu_seconds(self.pid) - before
        await self.stop_profile(profiler)
        self.peer.forget()
        return {"chatter_cpu_ms": 1000 * cpu / messages, "chatter_per_s": messages / wall}

    async def closed_loop(self, kind: str, count: int) -> dict:
        latencies: list[float] = []
        queue = iter(range(count))

        async def worker() -> None:
            for _ in queue:
                latencies.append(await self.one(kind))

        profiler = await self.start_profile(kind)
        before = cpu_seconds(self.pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(self.arguments.window)))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(self.pid) - before
        await self.stop_profile(profiler)
        self.peer.forget()
        return {"per_s": count / wall, "cpu_ms": 1000 * cpu / count}

    async def everyday(self, kind: str) -> dict:
        """One of the everyday commands (EVERYDAY) in a closed loop, its last reply checked: a refusal in its place
        (a member not found, a task not shown) would make the figure meaningless."""
        with no_pauses_of_our_own():
            figures = await self.closed_loop(kind, self.arguments.commands)
        expected = EVERYDAY[kind][1]
        if not self.peer.last_reply.startswith(expected):
            raise RuntimeError(f"{kind}: expected a reply starting {expected!r}, got {self.peer.last_reply[:80]!r}")
        return figures

    async def open_loop(self, kind: str, rate: float, seconds: float) -> dict:
        count = int(rate * seconds)
        latencies: list[float] = []
        traces: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()

        async def fire(due: float) -> None:
            team, member = self.next_caller(kind)
            trace: dict[str, Any] = {"due": due}
            replied = await self.peer.command(
                self.city.group(team), self.city.qq(member), self.text_for(kind, team), trace=trace
            )
            latencies.append(replied - due)
            trace["replied"] = replied
            traces.append(trace)

        profiler = await self.start_profile(f"open-{kind}")
        before = cpu_seconds(self.pid)
        start = time.perf_counter() + 0.05
        tasks = []
        for index in range(count):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(loop.create_task(fire(due)))
        await asyncio.gather(*tasks)
        cpu = cpu_seconds(self.pid) - before
        await self.stop_profile(profiler)
        self.peer.forget()
        if self.arguments.trace:
            self.phase += 1
            rows = [{"phase": self.phase, "kind": kind, **trace} for trace in traces]
            await asyncio.to_thread(_append_lines, Path(f"{self.arguments.trace}-{self.name}.jsonl"), rows)
        latencies.sort()
        return {
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[max(0, int(len(latencies) * 0.99) - 1)],
            "max_ms": 1000 * latencies[-1],
            "open_cpu_ms": 1000 * cpu / count,
        }

    async def commands(self, kind: str) -> dict:
        with no_pauses_of_our_own():
            figures = await self.closed_loop(kind, self.arguments.commands)
        with no_pauses_of_our_own():
            figures.update(await self.open_loop(kind, self.arguments.rate, self.arguments.seconds))
        return figures

    def dialogue_chats(self, count: int) -> list[tuple[int | None, int, str]]:
        """(group, or None in private; user; command): officers' /发布任务 in groups, members' /线索 in private."""
        officers = count // 2
        chats: list[tuple[int | None, int, str]] = [
            (self.city.group(team), self.city.qq(member), "/发布任务")
            for team, member in (self.city.officer(n) for n in range(officers))
        ]
        chats += [(None, self.city.qq(self.city.reporter(n, officers)), "/线索") for n in range(count - officers)]
        return chats

    async def open_dialogues(self, count: int) -> float:
        """Officers start /发布任务 step by step in their groups, members /线索 in private; all left waiting."""
        return await self._say_in_dialogues(count, None, ("1/6", "1/5"), "opened")

    async def close_dialogues(self, count: int) -> float:
        """Everyone who opened a dialogue answers 取消, so that the next block runs without them."""
        return await self._say_in_dialogues(count, "取消", ("已取消",), "closed")

    async def _say_in_dialogues(self, count: int, answer: str | None, expected: tuple[str, ...], done: str) -> float:
        queue = iter(self.dialogue_chats(count))
        replies: list[str] = []
        self.replies = replies

        async def worker() -> None:
            for group, user, command in queue:
                await self.peer.command(group, user, answer or command)
                replies.append(self.peer.last_reply)

        started = time.perf_counter()
        try:
            await asyncio.gather(*(worker() for _ in range(self.arguments.window)))
        except asyncio.TimeoutError:
            raise RuntimeError(
                f"{len(replies)} of {count} dialogues {done} in {time.perf_counter() - started:.0f} s, "
                "then a reply took longer than 30 s"
            ) from None
        answered = sum(1 for reply in replies if any(word in reply for word in expected))
        if answered != count:
            raise RuntimeError(f"only {answered} of {count} dialogues {done}; e.g. {replies[:3]!r}")
        self.peer.forget()
        return time.perf_counter() - started


async def measure_bot(name: str, process: BotProcess, port: int, city: City, arguments: argparse.Namespace) -> dict:
    process.start()
    try:
        return await _measure_bot(name, process, port, city, arguments)
    finally:
        await process.stop_async()


async def _measure_bot(name: str, process: BotProcess, port: int, city: City, arguments: argparse.Namespace) -> dict:
    await process.wait_for_port(port, timeout=120)
    pid = process.pid
    if pid is None:
        raise RuntimeError(f"{name} did not start")
    figures: dict[str, Any] = {"name": name}
    async with LoadPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as peer:
        driver = Driver(name, peer, pid, city, arguments)
        kinds = ["ping"] if arguments.bare else arguments.kinds
        for _ in range(50):  # warm up (imports, first queries, connection pool)
            await driver.one("ping" if arguments.bare else "checkin")
            if "signup" in kinds:
                await driver.one("signup")
        for kind in kinds:
            if kind in EVERYDAY:
                for _ in range(20):
                    await driver.one(kind)
        figures["idle_cpu_ms_per_s"] = await driver.idle(3.0)
        blocks = [await measure_block(driver, kinds, dialogues=False, idle=figures["idle_cpu_ms_per_s"])]
        if arguments.dialogues and arguments.rounds and not arguments.bare:
            count = arguments.dialogues
            figures["dialogues_open_s"] = []
            try:
                for _ in range(arguments.rounds):
                    figures["dialogues_open_s"].append(await asyncio.wait_for(driver.open_dialogues(count), 90))
                    blocks.append(
                        await asyncio.wait_for(
                            measure_block(driver, kinds, dialogues=True, idle=figures["idle_cpu_ms_per_s"]), 240
                        )
                    )
                    rss, _ = memory_mb(pid)
                    figures["rss_with_dialogues_mb"] = max(rss, figures.get("rss_with_dialogues_mb", 0))
                    await asyncio.wait_for(driver.close_dialogues(count), 90)
                    blocks.append(
                        await measure_block(driver, kinds, dialogues=False, idle=figures["idle_cpu_ms_per_s"])
                    )
            except (RuntimeError, asyncio.TimeoutError) as error:
                figures["dialogues_failed"] = (
                    f"{error or 'timed out'} ({len(driver.replies)} dialogues answered; blocks measured: {len(blocks)})"
                )
        figures["blocks"] = blocks
        figures.update({key: value for key, value in blocks[0].items() if key != "dialogues"})
        with_dialogues = [block for block in blocks if block["dialogues"]]
        if with_dialogues:
            figures.update({f"dialogue_{key}": value for key, value in with_dialogues[0].items() if key != "dialogues"})
            figures["dialogue_change"] = dialogue_change(blocks)
        figures["rss_mb"], figures["peak_rss_mb"] = memory_mb(pid)
    return figures


async def measure_block(driver: Driver, kinds: list[str], dialogues: bool, idle: float) -> dict:
    """Chatter, then each command in a closed and an open loop (the everyday ones in a closed loop only), each
    phase once the bot has settled (Driver.settle; `idle`: its idle CPU, ms per second); `dialogues` says whether
    wizards are open meanwhile."""
    label = "dialogue_" if dialogues else ""
    driver.block += 1
    block: dict[str, Any] = {"dialogues": dialogues}
    settled = await driver.settle(idle)
    block["chatter"] = await driver.chatter(driver.arguments.messages, f"{label}chatter")
    block["chatter"]["settled_s"] = settled
    for kind in kinds:
        settled = await driver.settle(idle)
        block[kind] = await (driver.everyday(kind) if kind in EVERYDAY else driver.commands(kind))
        block[kind]["reply"] = driver.peer.last_reply.splitlines()[0][:40]
        block[kind]["settled_s"] = settled
    return block


CHANGE_FIGURES = {
    "chatter msg/s": ("chatter", "chatter_per_s"),
    "chatter CPU": ("chatter", "chatter_cpu_ms"),
    **{
        f"{kind} {label}": (kind, key)
        for kind in ("signup", "checkin")
        for label, key in (("replies/s", "per_s"), ("CPU", "cpu_ms"), ("p50", "p50_ms"), ("p99", "p99_ms"))
    },
    **{
        f"{kind} {label}": (kind, key)
        for kind in EVERYDAY
        for label, key in (("replies/s", "per_s"), ("CPU", "cpu_ms"))
    },
}


def dialogue_change(blocks: list[dict]) -> dict[str, dict]:
    """How much each figure moved with the dialogues open, against the blocks without them just before and after.

    Blocks alternate without and with dialogues, so each block with them is compared with the mean of its two
    neighbours: a drift of the machine that goes one way over the three blocks cancels out, which comparing one
    block with one other block (as this benchmark did until the fourth round) cannot tell from the dialogues' cost.
    """
    changes: dict[str, dict] = {}
    for label, (phase, key) in CHANGE_FIGURES.items():
        rounds = []
        for index, block in enumerate(blocks):
            if not block["dialogues"] or phase not in block:
                continue
            around = [blocks[i][phase][key] for i in (index - 1, index + 1) if 0 <= i < len(blocks)]
            rounds.append(block[phase][key] / statistics.mean(around) - 1)
        if rounds:
            changes[label] = {"rounds": rounds, "median": statistics.median(rounds)}
    return changes


def describe(figures: dict) -> list[str]:
    lines = []
    name = figures["name"]
    for key in ("chatter", "dialogue_chatter"):
        if key in figures:
            c = figures[key]
            lines.append(f"{name} {key}: {c['chatter_cpu_ms']:.3f} ms CPU/message, {c['chatter_per_s']:.0f} msg/s")
    for key, value in figures.items():
        if isinstance(value, dict) and "per_s" in value:
            open_loop = (
                f"open loop p50 {value['p50_ms']:.1f} ms, p99 {value['p99_ms']:.1f} ms, max {value['max_ms']:.0f} ms, "
                f"{value['open_cpu_ms']:.2f} ms CPU each; "
                if "p50_ms" in value
                else ""
            )
            settled = f" (after {value['settled_s']:.1f} s settling)" if value.get("settled_s", 0) >= 1 else ""
            lines.append(
                f"{name} {key}: closed loop {value['per_s']:.0f}/s, {value['cpu_ms']:.2f} ms CPU each; "
                f"{open_loop}reply: {value.get('reply', '')!r}{settled}"
            )
    if figures.get("dialogues_open_s"):
        opened = ", ".join(f"{seconds:.1f}" for seconds in figures["dialogues_open_s"])
        lines.append(f"{name}: dialogues opened in {opened} s")
    for label, change in figures.get("dialogue_change", {}).items():
        rounds = ", ".join(f"{value:+.0%}" for value in change["rounds"])
        lines.append(f"{name} with dialogues, against the blocks around: {label} {change['median']:+.0%} [{rounds}]")
    if "dialogues_failed" in figures:
        lines.append(f"{name}: FAILED {figures['dialogues_failed']}")
    lines.append(f"{name}: idle {figures['idle_cpu_ms_per_s']:.1f} ms CPU per second")
    with_dialogues = (
        f", {figures['rss_with_dialogues_mb']:.0f} MB with dialogues open" if "rss_with_dialogues_mb" in figures else ""
    )
    lines.append(f"{name}: RSS {figures['rss_mb']:.0f} MB (peak {figures['peak_rss_mb']:.0f} MB{with_dialogues})")
    return lines


def bare_mean(before: dict, after: dict) -> dict:
    """The bare bot's figures, the mean of its run before ours and its run after: this machine drifts by 20-40 %
    within minutes (the bare /ping's closed loop ran at 360 to 524 replies/s in five runs of one hour, while ours
    moved half as much), and a ratio against one run of the bare bot minutes away took that drift for ours."""
    return {
        phase: {key: (before[phase][key] + after[phase][key]) / 2 for key in ("per_s", "cpu_ms", "chatter_cpu_ms")
                if key in before[phase]}
        for phase in ("chatter", "ping")
    }  # fmt: skip


def ratios(bare: dict, ours: dict) -> dict:
    result = {"chatter_cpu": bare["chatter"]["chatter_cpu_ms"] / ours["chatter"]["chatter_cpu_ms"]}
    for prefix in ("", "dialogue_"):
        if f"{prefix}chatter" in ours and prefix:
            result[f"{prefix}chatter_cpu"] = (
                bare["chatter"]["chatter_cpu_ms"] / ours[f"{prefix}chatter"]["chatter_cpu_ms"]
            )
        for kind in ("signup", "checkin", *EVERYDAY):
            key = f"{prefix}{kind}"
            if key in ours:
                result[f"{key}_per_s"] = ours[key]["per_s"] / bare["ping"]["per_s"]
                result[f"{key}_cpu"] = bare["ping"]["cpu_ms"] / ours[key]["cpu_ms"]
    return result


async def main(arguments: argparse.Namespace) -> None:
    city = City(arguments.teams, arguments.members)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        url = arguments.database or f"sqlite+aiosqlite:///{directory / 'load.db'}"
        if make_url(url).get_backend_name() == "postgresql":
            await recreate_postgres(url)
        seconds = await seed(url, city, arguments.dialogues // 2)
        await settle_disk(url)
        gc.collect()
        gc.freeze()  # what seeding left (models, drivers) is never garbage: no later collection walks it
        print(f"seeded {city.teams:,} teams and groups, {city.members:,} members in {seconds:.1f} s", flush=True)
        ours = [("ours", ROOT)] + ([("before", Path(arguments.compare))] if arguments.compare else [])
        bares = [] if arguments.only_ours else [("bare", None)]
        results: dict[str, dict] = {}
        offset = 0
        step = min(20_000, city.members // 5)  # a small city (--members) still has members enough for each bot
        for name, root in bares + ours + [(f"{name}_after", None) for name, _ in bares]:
            offset += step  # every bot gets members of its own: each command is a first sign-up or check-in
            options = argparse.Namespace(**{**vars(arguments), "bare": root is None, "offset": offset})
            bot_url = None
            if root is None:
                port = free_port()
                process = BotProcess(
                    [PYTHON, str(ROOT / "bench" / "bare_bot.py"), str(port), TOKEN],
                    cwd=ROOT,
                    log_path=directory / f"{name}.log",
                )
            else:
                port = free_port()
                bot_url = await copy_of_database(url, name)
                if root != ROOT:
                    await at_schema_of(bot_url, root)
                await settle_disk(bot_url)
                config = write_bot_config(directory, port, bot_url, TOKEN, '[bot]\nlog_level = "WARNING"\n')
                process = BotProcess(
                    [PYTHON, "-m", "bot", "--config", str(config)], cwd=root, log_path=directory / f"{name}.log"
                )
            try:
                results[name] = await measure_bot(name, process, port, city, options)
            except BaseException:
                print(process.log_tail(40))
                raise
            finally:
                if bot_url:
                    await drop_copy_of_database(bot_url)
            print("\n".join(describe(results[name])), flush=True)
    summary: dict[str, Any] = {"results": results}
    if "bare" in results:
        bare = bare_mean(results["bare"], results["bare_after"])
        summary["bare_mean"] = bare
        for name, _ in ours:
            summary[f"ratios_{name}"] = ratios(bare, results[name])
            print(
                f"ratios ({name} / bare): "
                + ", ".join(f"{key} {value:.2f}" for key, value in summary[f"ratios_{name}"].items())
            )
    print("JSON " + json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="database URL for 义警助手 (default: SQLite in a temporary folder)")
    parser.add_argument("--teams", type=int, default=15_000, help="teams, each bound to one group")
    parser.add_argument("--members", type=int, default=215_000)
    parser.add_argument("--messages", type=int, default=3000, help="chatter messages per chatter phase")
    parser.add_argument("--commands", type=int, default=600, help="commands per closed-loop phase")
    parser.add_argument("--window", type=int, default=8, help="commands in flight in the closed loop")
    parser.add_argument("--rate", type=float, default=100, help="commands per second in the open loop")
    parser.add_argument("--seconds", type=float, default=10, help="length of each open-loop phase")
    parser.add_argument("--dialogues", type=int, default=1000, help="wizards left open (0: skip those blocks)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="blocks with the dialogues open, each between two blocks without"
    )
    parser.add_argument(
        "--compare", metavar="DIR", help="also run the bot from another checkout (e.g. the commit before a change)"
    )
    parser.add_argument("--only-ours", action="store_true", help="skip the bare bot (for profiling)")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help=f"our commands to measure, comma-separated, of {','.join(KINDS)} (default: all; the everyday ones, "
        "after /报名 and /签到, in a closed loop only)",
    )
    parser.add_argument(
        "--trace", metavar="PREFIX", help="each open-loop command's id, due, sent and reply times to PREFIX-BOT.jsonl"
    )
    parser.add_argument(
        "--profile",
        help="py-spy our bot in each chatter, closed and open loop, to PROFILE-BOT-BLOCK-PHASE.txt (raw stacks)",
    )
    options = parser.parse_args()
    options.kinds = [kind.strip() for kind in options.kinds.split(",") if kind.strip()]
    if unknown := [kind for kind in options.kinds if kind not in KINDS]:
        parser.error(f"--kinds: no such command {', '.join(unknown)} (choose from {','.join(KINDS)})")
    if options.compare:
        options.compare = str(Path(options.compare).resolve())
    asyncio.run(main(options))
