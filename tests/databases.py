"""PostgreSQL databases of a test run's own: created on the server named by YIJING_TEST_POSTGRES, dropped after.

Shared by the in-process tests (tests/conftest.py) and the end-to-end tests (tests/e2e/conftest.py). Where the
server cannot be reached the PostgreSQL cases are skipped, unless CI or YIJING_REQUIRE_POSTGRES is set, where that
is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage import db

POSTGRES_ADMIN_URL = os.environ.get("YIJING_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = bool(os.environ.get("CI") or os.environ.get("YIJING_REQUIRE_POSTGRES"))


def run_in_thread(coroutine):
    """Run a coroutine on a loop of its own (set-up that must not touch the tests' loop)."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def database_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def _create(name: str, migrate: bool) -> None:
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    if migrate:
        engine = db.create_engine(database_url(name))
        await db.migrate(engine)
        await engine.dispose()


async def _drop(name: str) -> None:
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def create_database(prefix: str, *, migrate: bool) -> str:
    """A new database (migrated to the newest schema, or empty); its name. Skips or fails the test when the server
    cannot be reached, as described above."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        run_in_thread(_create(name, migrate))
    except Exception as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at {db.describe_url(POSTGRES_ADMIN_URL)} is required here: {error!r}")
        pytest.skip(f"PostgreSQL not reachable ({error!r}); set YIJING_TEST_POSTGRES to run these")
    return name


def drop_database(name: str) -> None:
    run_in_thread(_drop(name))
