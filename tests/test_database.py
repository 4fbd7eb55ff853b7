"""The database connection itself: SQLite's trips to its thread, and PostgreSQL connections the server ended."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import db
from storage.services import organisation
from tests.places import in_group


@pytest.mark.postgres
async def test_commands_still_work_after_the_server_ended_every_connection(postgres_url: str) -> None:
    await db.open_database(postgres_url)
    try:
        # several connections in the pool, as after a busy minute
        async def busy() -> None:
            async with db.session() as session:
                await session.exec(text("SELECT pg_sleep(0.05)"))

        await asyncio.gather(*(busy() for _ in range(4)))
        database = db.get_engine().url.database
        admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            ended = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :database AND pid <> pg_backend_pid()"
                ),
                {"database": database},
            )
        await admin.dispose()
        assert ended >= 4
        await asyncio.sleep(0.2)  # the closed sockets reach the bot's event loop

        # every pooled connection was ended: each must be replaced, not handed out to a command
        found = await asyncio.gather(*(organisation.get_team_at(in_group("40001")) for _ in range(6)))
        assert found == [None] * 6
        for _ in range(6):
            assert await organisation.get_team_at(in_group("40001")) is None
    finally:
        await db.close_database()


def count_trips(driver) -> list[object]:
    """The trips to aiosqlite's thread the driver connection makes from now on (one entry each)."""
    trips: list[object] = []
    original = driver._execute

    async def counted(function, *args, **kwargs):
        trips.append(function)
        return await original(function, *args, **kwargs)

    driver._execute = counted
    return trips


async def test_sqlite_statements_take_one_trip_to_the_connection_thread(tmp_path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    try:
        async with engine.connect() as connection:
            trips = count_trips((await connection.get_raw_connection()).driver_connection)
            await connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
            trips.clear()
            inserted = await connection.execute(text("INSERT INTO note (body) VALUES ('一'), ('二'), ('三')"))
            assert inserted.rowcount == 3
            assert len(trips) == 1
            trips.clear()
            rows = (await connection.execute(text("SELECT id, body FROM note ORDER BY id"))).all()
            assert [tuple(row) for row in rows] == [(1, "一"), (2, "二"), (3, "三")]
            assert len(trips) == 1
            later = text("SELECT body FROM note WHERE id > :id ORDER BY id")
            first = (await connection.execute(later, {"id": 1})).first()
            assert first == ("二",)
            assert (await connection.execute(text("SELECT body FROM note WHERE id > 9"))).first() is None
    finally:
        await engine.dispose()


async def test_a_sqlite_transaction_takes_the_write_lock_with_its_first_statement_in_the_same_trip(tmp_path) -> None:
    path = tmp_path / "begin.db"
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
            trips = count_trips((await connection.get_raw_connection()).driver_connection)
        trips.clear()
        async with engine.begin() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM note"))).scalar_one() == 0
            # the transaction holds SQLite's write lock from its first statement on (BEGIN IMMEDIATE)
            other = sqlite3.connect(path, timeout=0.05)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
            await connection.execute(text("INSERT INTO note (body) VALUES ('一')"))
        # begin with the SELECT, the INSERT, the commit; giving the connection back to the pool takes none
        assert len(trips) == 3

        async def fail_half_way() -> None:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO note (body) VALUES ('二')"))
                raise RuntimeError("a command failed half way")

        with pytest.raises(RuntimeError):
            await fail_half_way()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT body FROM note"))).scalars().all() == ["一"]
    finally:
        await engine.dispose()


async def test_what_waits_for_the_database_starts_once_it_is_open(tmp_path) -> None:
    await db.close_database()
    waiting = asyncio.create_task(db.wait_until_open())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # e.g. the outbox dispatcher, started by its plugin before the bot opens the database
    await db.open_database(f"sqlite+aiosqlite:///{tmp_path / 'late.db'}")
    try:
        await asyncio.wait_for(waiting, timeout=5)
        assert db.is_open()
    finally:
        await db.close_database()
    assert not db.is_open()
