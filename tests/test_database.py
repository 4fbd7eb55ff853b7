"""The database connection itself: what happens when the server ends the bot's connections."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import db
from storage.services import organisation


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
        found = await asyncio.gather(*(organisation.get_group_team("onebot", "40001") for _ in range(6)))
        assert found == [None] * 6
        for _ in range(6):
            assert await organisation.get_group_team("onebot", "40001") is None
    finally:
        await db.close_database()
