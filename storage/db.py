"""The database: one async engine per process, sessions, and migrations applied at start-up."""

from __future__ import annotations

import asyncio
import errno
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_driver

P = ParamSpec("P")
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_engine: AsyncEngine | None = None
_sqlite_turn: asyncio.Lock | None = None
"""On SQLite: whose turn it is to run a transaction in this process (see session())."""
_migrated = False
"""Set once open_database has brought the schema up to date."""
_openings = 0
"""How many times this process has opened a database (see openings())."""
_open_waiters: list[asyncio.Future[None]] = []
_holds_sqlite_turn: ContextVar[bool] = ContextVar("holds_sqlite_turn", default=False)


def create_engine(url: str) -> AsyncEngine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys, and its folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = parsed.database if parsed.database and parsed.database != ":memory:" else None
        if file is not None:
            folder = Path(file).parent
            if folder.exists() and not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
            folder.mkdir(parents=True, exist_ok=True)
        if file is not None and not parsed.query:
            # each statement one trip to aiosqlite's thread (storage/sqlite_driver.py)
            connect = partial(sqlite_driver.connect, file, timeout=30, check_same_thread=False)
            engine = create_async_engine(url, async_creator=connect)
        else:
            engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: safe against the process dying
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # Let SQLAlchemy, not the driver, open transactions (the driver would run SELECTs outside any).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection) -> None:
            # IMMEDIATE: a transaction takes SQLite's single write lock when it starts, so one that reads and then
            # writes waits its turn (busy timeout) instead of failing when another wrote in between.
            driver_connection = connection.connection.driver_connection
            if isinstance(driver_connection, sqlite_driver.OneTripConnection):
                driver_connection.begin_with_next_statement("BEGIN IMMEDIATE")  # no trip of its own
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=20)

    @event.listens_for(engine.sync_engine, "checkout")
    def _drop_closed_connection(dbapi_connection, _record, _proxy) -> None:
        # A connection the server has closed (PostgreSQL restarted, or an administrator ended it) is replaced
        # before use. The driver knows it is closed without asking the server: pool_pre_ping's round trip on
        # every checkout had cost 0.6 ms of CPU per transaction, a tenth of a command.
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")

    return engine


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


@dataclass(frozen=True)
class Backup:
    """What a backup wrote."""

    path: Path
    size: int
    """Bytes."""
    revision: str | None
    """The copy's migration."""
    rows: dict[str, int]
    """Rows of each table in the copy."""


def backup_sqlite(source: Path, target: Path) -> Backup:
    """Copy the SQLite database `source` to `target` (replaced if it exists) with SQLite's online backup: a consistent
    copy even while the bot writes (WAL lets it go on). Written to a temporary file beside `target` and renamed at
    the end, so a backup cut short leaves no half file under the name an administrator would restore from."""
    partial_copy = target.with_name(f".{target.name}.partial")
    partial_copy.unlink(missing_ok=True)
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        writer = sqlite3.connect(partial_copy)
        try:
            reader.backup(writer)
            writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, without -wal or -shm
            tables = [
                name
                for (name,) in writer.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            rows = {name: writer.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
            revision = None
            if "alembic_version" in rows:
                found = writer.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = found[0] if found else None
        finally:
            writer.close()
    except BaseException:
        partial_copy.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    partial_copy.replace(target)
    return Backup(target, target.stat().st_size, revision, rows)


def describe_url(url: str) -> str:
    """The URL with any password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@dataclass(frozen=True)
class SchemaChange:
    """What bringing the schema up to date did."""

    before: str | None
    """The database's migration before (None: an empty database)."""
    after: str | None
    applied: int
    """How many migrations ran (0: the schema was already the newest)."""


def _upgrade(connection: Connection) -> SchemaChange:
    config = alembic_config()
    config.attributes["connection"] = connection
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(config, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    applied = 0
    if after != before:
        applied = sum(1 for _ in ScriptDirectory.from_config(config).iterate_revisions(after, before or "base"))
    return SchemaChange(before, after, applied)


async def migrate(engine: AsyncEngine) -> SchemaChange:
    """Bring the schema to the newest migration (idempotent)."""
    async with engine.begin() as connection:
        return await connection.run_sync(_upgrade)


class DatabaseUnusable(Exception):
    """The database could not be opened, migrated or written to."""

    def __init__(self, database: str, reason: str) -> None:
        super().__init__(f"{database}: {reason}")
        self.database = database
        """The URL with any password hidden."""
        self.reason = reason
        """The first line of what the driver or the system said."""


async def preflight(url: str) -> SchemaChange:
    """Before the bot starts: open the database at `url` on an engine of its own, bring the schema to the newest
    migration, prove that it takes writes (a write that changes nothing, rolled back), and close it again.

    A database that can be read but not written (a read-only SQLite file or folder, a PostgreSQL database or
    user that refuses writes) passes a migration that has nothing to do; only a write shows it. Raises
    DatabaseUnusable.
    """
    try:
        engine = create_engine(url)
        try:
            change = await migrate(engine)
            async with engine.connect() as connection:
                transaction = await connection.begin()
                await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
                await transaction.rollback()
        finally:
            await engine.dispose()
    except (SQLAlchemyError, OSError, CommandError) as error:
        raise DatabaseUnusable(describe_url(url), _reason(error)) from error
    return change


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands, as `python -m bot admin check` reports it."""

    current: str | None
    """The database's migration (None: an empty database)."""
    head: str | None
    """The newest migration this version of the bot has."""
    known: bool
    """Whether this version of the bot has the database's migration (False: a newer version wrote it)."""


async def probe(url: str) -> SchemaState:
    """Whether the database at `url` can be opened and written, and where its schema stands, changing nothing: a
    table created in a transaction that is rolled back proves a write (on SQLite the transaction takes the write
    lock as it begins). Raises DatabaseUnusable, as preflight does."""
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                current = await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
                await connection.execute(text("CREATE TABLE yijing_write_probe (x INTEGER)"))
                await connection.rollback()
        finally:
            await engine.dispose()
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseUnusable(describe_url(url), _reason(error)) from error
    known = current is None or any(revision.revision == current for revision in scripts.walk_revisions())
    return SchemaState(current, scripts.get_current_head(), known)


def _reason(error: BaseException) -> str:
    """What the driver said, without SQLAlchemy's statement and link (nor the driver's class name)."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    first = lines[0] if lines else type(cause).__name__
    return re.sub(r"^<class '[\w.]+'>: ", "", first)[:300]


async def generate_revision(url: str, message: str) -> None:
    """(Developers) write a new migration from the difference between the models and the database at `url`."""
    engine = create_engine(url)

    def _revision(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)

    async with engine.begin() as connection:
        await connection.run_sync(_revision)
    await engine.dispose()


async def open_database(url: str) -> AsyncEngine:
    """Create the process's engine and migrate the schema; called once at start-up."""
    global _engine, _sqlite_turn, _migrated, _openings
    _migrated = False
    _openings += 1
    if _engine is not None:
        await _engine.dispose()
    _engine = create_engine(url)
    _sqlite_turn = asyncio.Lock() if _engine.dialect.name == "sqlite" else None
    await migrate(_engine)
    _migrated = True
    while _open_waiters:
        waiter = _open_waiters.pop()
        if not waiter.done():
            waiter.set_result(None)
    return _engine


async def close_database() -> None:
    global _engine, _sqlite_turn, _migrated
    _migrated = False
    if _engine is not None:
        await _engine.dispose()
        _engine = None
    _sqlite_turn = None


def openings() -> int:
    """How many times this process has opened a database: what is kept in memory from one database's answers (the
    leaderboard cards of plugins/_images.py) is keyed by it, so that none of it is shown from another database
    opened after it (the tests open a fresh one for each test)."""
    return _openings


def is_open() -> bool:
    """Whether the database is open and migrated (start-up hooks of plugins may run before it is)."""
    return _migrated


async def wait_until_open() -> None:
    """Return once the database is open and migrated (a plugin's start-up hook may run before it is)."""
    if is_open():
        return
    waiter = asyncio.get_running_loop().create_future()
    _open_waiters.append(waiter)
    await waiter


def get_engine() -> AsyncEngine:
    if _engine is None:
        raise RuntimeError("the database is not open: call storage.db.open_database() first")
    return _engine


@asynccontextmanager
async def session() -> AsyncIterator[AsyncSession]:
    """A session whose work is one transaction: committed on success, rolled back on any error."""
    async with _turn(), _transaction(get_engine()) as db:
        yield db


@asynccontextmanager
async def reading() -> AsyncIterator[AsyncSession]:
    """A session for a service that only reads (/任务, /我的, /积分, /排行榜, /帮助): on PostgreSQL without a
    transaction, each statement on its own (autocommit), which spares the two round trips of BEGIN and COMMIT; a
    read of three statements waited for the server five times. Each statement sees what was committed when it
    ran, so two statements may see a change made in between: fine for what a reply shows, never for deciding a
    write (that is what session() is for). Writing in it is refused by nothing: do not. On SQLite (in the process,
    no round trips) it is session()."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        async with session() as db:
            yield db
        return
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(connection, expire_on_commit=False) as db:
            yield db


async def run_transaction(work: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `work`, plain synchronous SQLAlchemy Core on one connection, as one transaction: committed when it
    returns, rolled back when it raises.

    For the commands of the evening peak (/报名). Their statements then run one after another in one greenlet,
    without the ORM's session and unit of work and without a greenlet for each statement: /报名's service took
    2.2 ms of CPU this way against 3.8 ms through session() (bench/command_load.py has the whole command's figures).
    Takes its turn on SQLite like session().
    """
    async with _turn(), get_engine().begin() as connection:
        return await connection.run_sync(work, *args, **kwargs)


async def run_reading(work: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `work`, plain synchronous SQLAlchemy Core on one connection, for a service that only reads: what
    reading() is to session(), this is to run_transaction(). On PostgreSQL each statement on its own (autocommit,
    no BEGIN and COMMIT), on SQLite one transaction taking its turn. Rows, not ORM objects: /任务's service took
    4.1 ms of CPU through reading() and the ORM, and half of it was the session and the loading of Task objects
    (bench/service_cpu.py)."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        return await run_transaction(work, *args, **kwargs)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        return await connection.run_sync(work, *args, **kwargs)


@asynccontextmanager
async def _turn() -> AsyncIterator[None]:
    """On SQLite the transactions of this process take turns, in the order they asked (an asyncio lock).

    SQLite has one writer at a time and every transaction here takes the write lock up front, so they would wait
    their turn anyway, but in SQLite's busy handler, which polls with sleeps of up to 100 ms; under a burst of
    commands those sleeps were most of the slowest replies. Other processes on the same file still wait in the
    busy handler. A transaction opened inside another one (in the same task) does not wait for the turn its own
    caller holds.
    """
    if _sqlite_turn is None or _holds_sqlite_turn.get():
        yield
        return
    async with _sqlite_turn:
        token = _holds_sqlite_turn.set(True)
        try:
            yield
        finally:
            _holds_sqlite_turn.reset(token)


@asynccontextmanager
async def _transaction(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine, expire_on_commit=False) as db:
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
