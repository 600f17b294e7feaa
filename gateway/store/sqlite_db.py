"""The SQLite driver under the store: one aiosqlite connection in WAL mode.

Beside `gateway/store/db.py` (the protocol and the PostgreSQL driver) so each reads on its
own; `open_database` picks one by the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from gateway.errors import StoreUnavailable
from gateway.store.unit import Pending, Unit, after_commit, plain_read, running, unit_var

T = TypeVar("T")

Row = dict[str, Any]


class SqliteDatabase:
    """One aiosqlite connection in WAL mode; a lock serialises transactions on it."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._unit = unit_var(f"sqlite-unit-{id(self)}")

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: durable across process crashes; only an OS crash or power loss can
        # undo the last commits. FULL costs an fsync per statement (see docs/operations.md).
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreUnavailable("the SQLite database is not open")
        return self._conn

    async def _run(self, step: Awaitable[T]) -> T:
        try:
            return await step
        except sqlite3.IntegrityError:
            raise
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite {self.path}: {exc}") from exc

    async def _execute(self, sql: str, args: Sequence[Any]) -> int:
        cursor = await self._run(self.conn.execute(sql, tuple(args)))
        return cursor.rowcount

    async def _fetchall(self, sql: str, args: Sequence[Any]) -> list[Row]:
        # One trip to aiosqlite's thread, not two (execute, then fetchall): a message's
        # reads wait on that thread, so the hops are most of SQLite's cost (issue 21).
        rows = await self._run(self.conn.execute_fetchall(sql, tuple(args)))
        return [dict(row) for row in rows]

    def _tx(self) -> _SqliteTx | None:
        unit = self._unit.get()
        return unit.tx if unit is not None and unit.in_transaction() else None

    async def execute(self, sql: str, *args: Any) -> int:
        if (tx := self._tx()) is not None:  # this task's transaction: join it
            return await tx.execute(sql, *args)
        async with self._lock:
            return await self._execute(sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        if (tx := self._tx()) is not None:
            return await tx.fetchall(sql, *args)
        async with self._lock:
            return await self._fetchall(sql, args)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    def pending(self) -> Pending | None:
        unit = self._unit.get()
        return unit.pending if unit is not None and unit.in_transaction() else None

    def after_commit(self, callback: Callable[[], None]) -> None:
        after_commit(self._unit.get(), callback)

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        """One connection serves everybody on SQLite: the unit only carries the task's
        transaction state (so `transaction()` inside it behaves as on PostgreSQL)."""
        if (current := self._unit.get()) is not None and current.open:
            yield
            return
        unit = Unit()
        token = self._unit.set(unit)
        try:
            yield
        finally:
            unit.open = False
            self._unit.reset(token)

    @contextlib.asynccontextmanager
    async def transaction(self, *, lazy: bool = False) -> AsyncIterator[_SqliteTx]:
        """A transaction; one begun inside this task's transaction joins it (all or
        nothing together). `lazy`: BEGIN only at the first write (see `unit.py`)."""
        unit = self._unit.get()
        if unit is not None and unit.in_transaction():
            await unit.tx.begin()  # an inner block is isolated from its first statement
            yield unit.tx
            return
        token = None
        if unit is None or not unit.usable():
            unit = Unit()
            token = self._unit.set(unit)
        try:
            async with running(unit, _SqliteTx(self, unit), lazy=lazy) as tx:
                yield tx
        finally:
            if token is not None:
                unit.open = False
                self._unit.reset(token)


class _SqliteTx:
    """The connection as seen inside a transaction: it holds the lock from BEGIN to the
    end; reads see the transaction's pending writes first. Plain reads before a lazy
    transaction's first write run outside it, as any other read."""

    def __init__(self, db: SqliteDatabase, unit: Unit) -> None:
        self._db = db
        self._unit = unit
        self.raw = _SqliteRaw(db)
        self.begun = False

    async def begin(self) -> None:
        if self.begun:
            return
        await self._db._lock.acquire()
        try:
            await self._db._execute("BEGIN IMMEDIATE", ())
        except BaseException:
            self._db._lock.release()
            raise
        self.begun = True

    async def commit(self) -> None:
        pending = self._unit.pending
        if not self.begun:
            if not pending:
                return
            if pending.statements(self.raw.combines) == 1:  # atomic on its own
                async with self._db._lock:
                    await pending.flush(self.raw)
                return
            await self.begin()
        await pending.flush(self.raw)
        await self._db._execute("COMMIT", ())
        self.begun = False
        self._db._lock.release()

    async def rollback(self) -> None:
        if self.begun:
            self.begun = False
            try:
                await self._db._execute("ROLLBACK", ())
            finally:
                self._db._lock.release()

    async def _prepare(self, sql: str) -> None:
        pending = self._unit.pending
        if not self.begun and (pending.needed_by(sql) or not plain_read(sql)):
            await self.begin()
        if pending.needed_by(sql):
            await pending.flush(self.raw)

    async def execute(self, sql: str, *args: Any) -> int:
        await self._prepare(sql)
        if not self.begun:
            async with self._db._lock:
                return await self._db._execute(sql, args)
        return await self._db._execute(sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        await self._prepare(sql)
        if not self.begun:
            async with self._db._lock:
                return await self._db._fetchall(sql, args)
        return await self._db._fetchall(sql, args)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None


class _SqliteRaw:
    """Statements straight on the connection, inside a transaction already begun."""

    combines = False  # SQLite's WITH takes no INSERT/UPDATE: one statement per write

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def execute(self, sql: str, *args: Any) -> int:
        return await self._db._execute(sql, args)
