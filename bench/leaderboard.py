"""Leaderboards at city scale: 215,000 members and 5,000,000 ledger entries in PostgreSQL.

Generates the data in a fresh database (dropped at the end unless --keep), then times, over the same data and in
the same run, each board read from the running totals (the bot's own services) beside the naive query that sums
the raw ledger per request:

  - a team's board for this month (top ten of one team, ~14 members)
  - the city's board for this month (top ten of everyone)
  - one member's rank in the city this month

and prints the median and p99 of each, and the ratio naive / kept. Also checks that the two agree.

    .venv/bin/python bench/leaderboard.py [--members 215000] [--entries 5000000] [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg
from sqlalchemy import text

from storage import db
from storage.models import Member, Team, utcnow
from storage.services import standings
from storage.services.actors import ChatAccount
from storage.services.totals import period_of
from storage.settings import configure

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TEAMS = 15_000
STATIONS_PER_BRANCH, BRANCHES = 10, 10


def generate(members: int, entries: int) -> list[str]:
    """SQL that fills the database: units, teams, members with an account each, memberships, the ledger, and the
    running totals computed from the ledger the way the bot keeps them (periods in Asia/Shanghai)."""
    local = "(created_at AT TIME ZONE 'Asia/Shanghai')"
    return [
        "INSERT INTO unit (id, name, path, parent_id, created_at) VALUES (1, '市局', '市局', NULL, now())",
        f"""INSERT INTO unit (id, name, path, parent_id, created_at)
            SELECT 1 + b, '分局' || b, '市局/分局' || b, 1, now() FROM generate_series(1, {BRANCHES}) AS b""",
        f"""INSERT INTO unit (id, name, path, parent_id, created_at)
            SELECT 100 + s, '派出所' || s, '市局/分局' || (1 + (s - 1) / {STATIONS_PER_BRANCH}) || '/派出所' || s,
                   2 + (s - 1) / {STATIONS_PER_BRANCH}, now()
            FROM generate_series(1, {BRANCHES * STATIONS_PER_BRANCH}) AS s""",
        f"""INSERT INTO team (id, name, unit_id, created_at)
            SELECT t, '队伍' || t, 101 + (t % {BRANCHES * STATIONS_PER_BRANCH}), now()
            FROM generate_series(1, {TEAMS}) AS t""",
        f"""INSERT INTO member (id, name, phone, tags, status, created_at)
            SELECT m, '队员' || m, NULL, '[]', 'active', now() FROM generate_series(1, {members}) AS m""",
        f"""INSERT INTO platformidentity (platform, user_id, member_id, created_at)
            SELECT 'onebot', (100000 + m)::text, m, now() FROM generate_series(1, {members}) AS m""",
        f"""INSERT INTO teammembership (team_id, member_id, status, applied_at, decided_at)
            SELECT 1 + (m % {TEAMS}), m, 'active', now(), now() FROM generate_series(1, {members}) AS m""",
        f"""INSERT INTO pointentry (member_id, amount, reason, ref_type, ref_id, note, created_at)
            SELECT 1 + (hashint4(e) & 2147483647) % {members},
                   CASE WHEN e % 20 = 0 THEN -5 ELSE 1 + e % 17 END,
                   'attendance', 'bench', e, '',
                   now() - ((hashint4(e * 7) & 2147483647) % (365 * 24 * 3600)) * interval '1 second'
            FROM generate_series(1, {entries}) AS e""",
        f"""INSERT INTO membertotal (member_id, period, points, minutes, tips, points_at)
            SELECT member_id, period, sum(amount), 0, 0, max(created_at) FROM (
                SELECT member_id, amount, created_at, 'all' AS period FROM pointentry
                UNION ALL SELECT member_id, amount, created_at, 'y' || to_char({local}, 'YYYY') FROM pointentry
                UNION ALL SELECT member_id, amount, created_at, 'm' || to_char({local}, 'YYYY-MM') FROM pointentry
                UNION ALL SELECT member_id, amount, created_at, 'w' || to_char({local}, 'IYYY-IW') FROM pointentry
            ) AS entries GROUP BY member_id, period""",
        "SELECT setval('unit_id_seq', 1000)",
        f"SELECT setval('member_id_seq', {members})",
        f"SELECT setval('team_id_seq', {TEAMS})",
    ]


NAIVE_TEAM = """
    SELECT p.member_id, m.name, sum(p.amount) AS points FROM pointentry p JOIN member m ON m.id = p.member_id
    WHERE p.member_id IN (SELECT member_id FROM teammembership WHERE team_id = :team AND status = 'active')
      AND p.created_at >= :start AND p.created_at < :end
    GROUP BY p.member_id, m.name HAVING sum(p.amount) > 0 ORDER BY points DESC, p.member_id LIMIT 10"""
NAIVE_CITY = """
    SELECT p.member_id, m.name, sum(p.amount) AS points FROM pointentry p JOIN member m ON m.id = p.member_id
    WHERE p.created_at >= :start AND p.created_at < :end
    GROUP BY p.member_id, m.name HAVING sum(p.amount) > 0 ORDER BY points DESC, p.member_id LIMIT 10"""
NAIVE_RANK = """
    WITH sums AS (SELECT member_id, sum(amount) AS points FROM pointentry
                  WHERE created_at >= :start AND created_at < :end GROUP BY member_id)
    SELECT 1 + count(*) FROM sums WHERE points > (SELECT points FROM sums WHERE member_id = :member)"""


async def timed(work, runs: int) -> tuple[list[float], object]:
    result = None
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await work()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, result


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


async def main(arguments: argparse.Namespace) -> None:
    name = arguments.reuse or f"yijing_bench_{os.getpid()}"
    server = await asyncpg.connect(SERVER)
    if not arguments.reuse:
        await server.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        configure(timezone="Asia/Shanghai")
        await db.open_database(url)
        started = time.perf_counter()
        if not arguments.reuse:
            async with db.get_engine().begin() as connection:
                for statement in generate(arguments.members, arguments.entries):
                    await connection.execute(text(statement))
            vacuum = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
            await vacuum.execute("VACUUM ANALYZE")  # what autovacuum does for a live database
            await vacuum.close()
        print(f"generated {arguments.members:,} members and {arguments.entries:,} ledger entries "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
        async with db.get_engine().connect() as connection:
            kept_rows = (await connection.execute(text("SELECT count(*) FROM membertotal"))).scalar_one()
        print(f"running totals: {kept_rows:,} rows")
        month = period_of("month", utcnow())
        async with db.get_engine().connect() as connection:  # someone in the middle of this month's board
            member = (
                await connection.execute(
                    text(
                        "SELECT member_id FROM membertotal WHERE period = :key AND points > 0 "
                        "ORDER BY points, member_id "
                        "OFFSET (SELECT count(*) / 2 FROM membertotal WHERE period = :key AND points > 0) LIMIT 1"
                    ),
                    {"key": month.key},
                )
            ).scalar_one()
        caller = ChatAccount("onebot", str(100000 + member))
        team = 1 + member % TEAMS
        params = {"start": month.start, "end": month.end, "team": team, "member": member}

        async def naive(sql: str):
            async with db.get_engine().connect() as connection:
                return (await connection.execute(text(sql), params)).all()

        async with db.session() as session:
            the_team, person = await session.get(Team, team), await session.get(Member, member)
        team_members = standings._members_of(standings._Scope("team", the_team.name, team=the_team))

        async def kept_team():
            async with db.session() as session:
                return await standings._rank_rows(session, month.key, "points", team_members, standings.BOARD_SIZE)

        async def whole_command():
            return await standings.leaderboard(caller, None, "month", "team", "points")

        async def kept_city():
            async with db.session() as session:
                return await standings._rank_rows(session, month.key, "points", None, standings.BOARD_SIZE)

        async def kept_rank():
            async with db.session() as session:
                return await standings._own_standing(session, month.key, "points", None, person)

        cases = [
            ("team board (this month)", kept_team, lambda: naive(NAIVE_TEAM)),
            ("city board (this month)", kept_city, lambda: naive(NAIVE_CITY)),
            ("one member's city rank", kept_rank, lambda: naive(NAIVE_RANK)),
        ]
        print(f"{'query':28} {'kept p50':>9} {'kept p99':>9} {'naive p50':>10} {'naive p99':>10} {'ratio p50':>9}")
        for label, kept, slow in cases:
            await kept()
            await slow()  # warm both
            kept_samples, kept_result = await timed(kept, arguments.runs)
            naive_samples, naive_result = await timed(slow, arguments.naive_runs)
            kept_p50, kept_p99 = summary(kept_samples)
            naive_p50, naive_p99 = summary(naive_samples)
            print(f"{label:28} {kept_p50:8.2f}ms {kept_p99:8.2f}ms {naive_p50:9.1f}ms {naive_p99:9.1f}ms "
                  f"{naive_p50 / kept_p50:8.1f}x")  # fmt: skip
            check(label, kept_result, naive_result)
        samples, _ = await timed(whole_command, arguments.runs)
        whole_p50, whole_p99 = summary(samples)
        print(f"the whole /排行榜 service call (rights, the caller's team, top ten, own place): "
              f"p50 {whole_p50:.2f} ms, p99 {whole_p99:.2f} ms")  # fmt: skip
    finally:
        await db.close_database()
        if arguments.keep or arguments.reuse:
            print(f"kept the database {name}: --reuse {name} runs again without generating; drop it when done")
        else:
            await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


def check(label: str, kept, naive) -> None:
    """The kept figures and the ledger's own sums name the same leaders with the same points."""
    if label.startswith(("team", "city")):
        kept_values = [(row.member_id, row.value) for row in kept]
    else:
        assert kept.rank == naive[0][0], (kept.rank, naive)
        return
    naive_values = [(row[0], int(row[2])) for row in naive]
    assert [v for _, v in kept_values] == [v for _, v in naive_values], (kept_values, naive_values)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=215_000)
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each kept query")
    parser.add_argument("--naive-runs", type=int, default=20, help="timed runs of each naive query")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--reuse", metavar="NAME", help="time the queries on a database kept by an earlier --keep run")
    asyncio.run(main(parser.parse_args()))
