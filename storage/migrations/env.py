"""Alembic environment for the SQLModel metadata.

At start-up `storage.db.migrate` hands over a live connection in `config.attributes["connection"]`.
From the command line (`python -m bot db ...`), the URL comes from YIJING_DATABASE__URL.
"""

import asyncio
import os

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


async def _run_from_environment() -> None:
    from storage.db import create_engine

    engine = create_engine(os.environ.get("YIJING_DATABASE__URL", "sqlite+aiosqlite:///data/yijing.db"))
    async with engine.begin() as async_connection:
        await async_connection.run_sync(_run)
    await engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_from_environment())
