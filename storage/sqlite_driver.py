"""SQLite through aiosqlite, with each statement one trip to the connection's thread instead of four.

aiosqlite runs the sqlite3 connection in a thread of its own; every call (make a cursor, execute, fetch the rows,
close the cursor) is a trip there and back: a future, a queue, a wake-up of the event loop and a hand-over of the
GIL each way. SQLAlchemy makes those four calls for every statement, so a /报名 (begin, four statements, commit)
made twenty trips, which cost more CPU than SQLite's own work (`bench/command_load.py`). Here the cursor runs the
statement and fetches all its rows in one trip, which is what SQLAlchemy's asyncio adapter does with the rows anyway
(it reads every row of a statement into a list before handing any of them on). A transaction's BEGIN goes in the
trip of its first statement, and the rollback SQLAlchemy's pool sends when it takes a connection back after a
commit takes no trip.

The connection is aiosqlite's own (same thread, same queue, commit and rollback unchanged); only `cursor()` is
replaced. `db.create_engine` uses it for SQLite files.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, Self

import aiosqlite


class OneTripCursor:
    """An aiosqlite cursor whose `execute` also fetches the rows, in the same trip to the connection's thread."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None
        self._rows: deque[Any] = deque()
        self.arraysize = 1

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> OneTripCursor:
        self._cursor, rows = await self._connection._execute(self._run, sql, () if parameters is None else parameters)
        self._rows = deque(rows)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        self._cursor = await self._connection._execute(self._run_many, sql, parameters)
        self._rows = deque()
        return self

    def _run(self, sql: str, parameters: Any) -> tuple[sqlite3.Cursor, list[Any]]:
        # in the connection's thread
        self._connection._begin_if_asked()
        cursor = self._connection._conn.cursor()
        cursor.arraysize = self.arraysize
        cursor.execute(sql, parameters)
        return cursor, cursor.fetchall() if cursor.description else []

    def _run_many(self, sql: str, parameters: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        self._connection._begin_if_asked()
        cursor = self._connection._conn.cursor()
        cursor.executemany(sql, parameters)
        return cursor

    async def fetchone(self) -> Any | None:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        # All rows were fetched in the thread: the sqlite3 cursor holds no statement open, nothing to close there.
        self._rows = deque()

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor is not None else None

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._cursor is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid if self._cursor is not None else None


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection, with cursors that take one trip per statement, a transaction's BEGIN sent in the
    trip of its first statement, and no trip for a rollback when no transaction is open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._begin_statement: str | None = None

    # Not aiosqlite's cursor(), on purpose: SQLAlchemy's adapter calls cursor() and enters it with `async with`
    # (its AsyncIODBAPIConnection), which this cursor does without aiosqlite's Result wrapper and its coroutine.
    def cursor(self) -> OneTripCursor:  # pyright: ignore[reportIncompatibleMethodOverride]
        return OneTripCursor(self)

    def begin_with_next_statement(self, statement: str = "BEGIN") -> None:
        """Open a transaction with `statement` (e.g. BEGIN IMMEDIATE) just before the next statement runs, in the
        same trip: the transaction's first statement then waits for SQLite's lock, or fails, as the BEGIN would."""
        self._begin_statement = statement

    def _begin_if_asked(self) -> None:
        # in the connection's thread
        statement, self._begin_statement = self._begin_statement, None
        if statement is not None:
            self._conn.execute(statement)

    async def commit(self) -> None:
        if self._begin_statement is not None:  # a transaction that ran no statement: nothing to commit
            self._begin_statement = None
            return
        await super().commit()

    async def rollback(self) -> None:
        # SQLAlchemy's pool rolls back every connection it takes back, after a commit too; with no transaction open
        # there is nothing to roll back. (Nothing else runs on a connection while it is being given back.)
        self._begin_statement = None
        if self._connection is not None and not self._connection.in_transaction:
            return
        await super().rollback()


async def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """Open `database` (a file) the way SQLAlchemy's aiosqlite dialect does, with one-trip cursors."""
    connection = OneTripConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: a forgotten connection never holds exit
    await connection  # starts its thread and opens the database
    return connection
