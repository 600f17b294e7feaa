"""The thin driver layer under the store: SQLite (aiosqlite, WAL) or PostgreSQL (asyncpg).

The store writes its SQL once, with `?` placeholders; each driver adapts placeholders,
transactions and connection errors. A database that cannot be reached raises
`StoreUnavailable` with the reason, never a driver-specific exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import asyncpg

from gateway.errors import StoreError, StoreUnavailable
from gateway.store.sqlite_db import SqliteDatabase
from gateway.store.unit import Pending, Unit, after_commit, plain_read, running, unit_var

Row = dict[str, Any]


class Connection(Protocol):
    """What the store needs from a database connection (inside or outside a transaction)."""

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def fetchall(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchone(self, sql: str, *args: Any) -> Row | None: ...


class Database(Connection, Protocol):
    dialect: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def transaction(self, *, lazy: bool = False
                    ) -> contextlib.AbstractAsyncContextManager[Connection]: ...

    def unit(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def pending(self) -> Pending | None: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...


_PLACEHOLDER = re.compile(r"\?")


def to_postgres(sql: str) -> str:
    """`?` placeholders become `$1, $2, ...` (the store never puts `?` in string literals)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


#: Errors meaning "the server went away" rather than "the statement is wrong".
_UNAVAILABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError,
                asyncpg.exceptions.CannotConnectNowError, asyncpg.InterfaceError,
                asyncpg.exceptions.OperatorInterventionError,
                # a connection the server killed mid-protocol reports a confused state
                asyncpg.exceptions.InternalClientError)


#: The same, for other code talking to PostgreSQL directly (the hub relay).
DISCONNECTS = _UNAVAILABLE

#: A statement outside a transaction that asyncpg refused to start is tried once more.
_ATTEMPTS = (1, 2)


def never_sent(exc: BaseException | None) -> bool:
    """asyncpg refused to start the statement, so nothing reached the server.

    A killed backend (`pg_terminate_backend`, a restart) sends a FATAL ErrorResponse and
    then closes the socket. asyncpg reads the ErrorResponse of an idle connection as a
    protocol error (its state becomes ERROR_CONSUME, waiting for a ReadyForQuery that
    never comes) and only learns the connection is gone at the EOF, a read later. A
    statement started in between fails in asyncpg's state machine before anything is
    written: `InternalClientError: cannot switch to state 12; another operation (2) is
    in progress` (12: bind-and-execute, 2: ERROR_CONSUME). It looks like two coroutines
    on one connection and is not (the fault runs saw it 11 times among 247 killed
    backends; tests/test_store_dead_connection.py reproduces it).
    """
    return (isinstance(exc, asyncpg.exceptions.InternalClientError)
            and "cannot switch to state" in str(exc))


def _retry_or_raise(exc: StoreUnavailable, attempt: int) -> None:
    """A statement outside a transaction that never reached the server is run again, on
    another connection (`_guard` has terminated this one and closed the unit for it);
    anything else, or a second failure, is the caller's."""
    if attempt == _ATTEMPTS[-1] or not never_sent(exc.__cause__):
        raise exc


class PostgresDatabase:
    """An asyncpg pool; several gateway processes may share one database."""

    dialect = "postgresql"

    def __init__(self, dsn: str, min_size: int = 1, max_size: int = 10) -> None:
        self.dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._sizes = (min_size, max_size)
        self._unit = unit_var(f"postgres-unit-{id(self)}")

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=self._sizes[0], max_size=self._sizes[1], timeout=10,
                reset=_keep_session,
            )
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL: {exc}") from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"PostgreSQL refused the connection: {exc}") from exc

    async def close(self, grace: float = 10.0) -> None:
        """Close gracefully; a connection still busy after `grace` seconds (a server that
        went away mid-query) is cut, so shutdown never hangs."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), grace)
            except (TimeoutError, *_UNAVAILABLE):
                pool.terminate()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("the PostgreSQL pool is not open")
        return self._pool

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The unit's connection when this task holds one, else one from the pool."""
        unit = self._unit.get()
        if unit is not None and unit.conn is not None and unit.usable():
            async with unit.lock, self._guard(unit.conn, unit):
                yield unit.conn
            return
        conn = await self._acquire()
        try:
            async with self._guard(conn):
                yield conn
        finally:
            await self._release(conn)

    async def _acquire(self) -> asyncpg.Connection:
        try:
            return await self.pool.acquire(timeout=10)
        except (*_UNAVAILABLE, asyncpg.PostgresError) as exc:
            # Whatever stops us from getting a connection means: the database is unavailable.
            raise StoreUnavailable(f"PostgreSQL is unreachable: {exc}") from exc

    async def _release(self, conn: asyncpg.Connection) -> None:
        with contextlib.suppress(*_UNAVAILABLE):
            await self.pool.release(conn)

    @staticmethod
    @contextlib.asynccontextmanager
    async def _guard(conn: asyncpg.Connection, unit: Unit | None = None) -> AsyncIterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            with contextlib.suppress(asyncpg.InterfaceError):  # already given back
                conn.terminate()  # never hand a half-dead connection back to the pool
            if unit is not None:
                unit.open = False  # the rest of the unit takes pooled connections
            raise StoreUnavailable(f"PostgreSQL connection lost: {exc}") from exc

    async def execute(self, sql: str, *args: Any) -> int:
        if (tx := self._tx()) is not None:  # this task's transaction: join it
            return await tx.execute(sql, *args)
        for attempt in _ATTEMPTS:
            try:
                async with self._connection() as conn:
                    return _rowcount(await conn.execute(to_postgres(sql), *args))
            except StoreUnavailable as exc:
                _retry_or_raise(exc, attempt)
        raise AssertionError("unreachable")

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        if (tx := self._tx()) is not None:
            return await tx.fetchall(sql, *args)
        for attempt in _ATTEMPTS:
            try:
                async with self._connection() as conn:
                    return [dict(row) for row in await conn.fetch(to_postgres(sql), *args)]
            except StoreUnavailable as exc:
                _retry_or_raise(exc, attempt)
        raise AssertionError("unreachable")

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    def _tx(self) -> _PostgresTx | None:
        unit = self._unit.get()
        return unit.tx if unit is not None and unit.in_transaction() else None

    def pending(self) -> Pending | None:
        unit = self._unit.get()
        return unit.pending if unit is not None and unit.in_transaction() else None

    def after_commit(self, callback: Callable[[], None]) -> None:
        after_commit(self._unit.get(), callback)

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        """Hold one pooled connection for everything this task (and the tasks it starts)
        does until the block ends: one acquire and one release instead of one per
        statement. Inside a unit already, the outer one holds."""
        if (current := self._unit.get()) is not None and current.open:
            yield
            return
        conn = await self._acquire()
        unit = Unit(conn)
        token = self._unit.set(unit)
        try:
            yield
        finally:
            unit.open = False
            self._unit.reset(token)
            # A task started in the unit may still be running a statement on the
            # connection (one that outlived the block, or was cancelled and not awaited):
            # it goes back to the pool only after that statement, never under it (the
            # next holder's statement would collide with it and both connections' work
            # fail). Shielded: a cancellation here must not leak the connection.
            await asyncio.shield(asyncio.ensure_future(self._release_when_free(unit)))

    async def _release_when_free(self, unit: Unit) -> None:
        async with unit.lock:
            await self._release(unit.conn)

    @contextlib.asynccontextmanager
    async def transaction(self, *, lazy: bool = False) -> AsyncIterator[Connection]:
        """A transaction on the unit's connection (or a pooled one); one begun inside this
        task's transaction joins it (all or nothing together). `lazy`: BEGIN only at the
        first write (see `unit.py`)."""
        unit = self._unit.get()
        if unit is not None and unit.in_transaction():
            await unit.tx.begin()  # an inner block is isolated from its first statement
            yield unit.tx
            return
        if unit is not None and unit.conn is not None and unit.usable():
            async with unit.lock, self._guard(unit.conn, unit):
                async with running(unit, _PostgresTx(unit.conn, unit), lazy=lazy) as tx:
                    yield tx
            return
        async with self._connection() as conn:
            unit = Unit(conn)
            token = self._unit.set(unit)
            try:
                async with running(unit, _PostgresTx(conn, unit), lazy=lazy) as tx:
                    yield tx
            finally:
                unit.open = False
                self._unit.reset(token)

class _PostgresTx:
    """A connection inside a transaction: reads see the transaction's pending writes.
    Plain reads before a lazy transaction's first write run outside it."""

    def __init__(self, conn: asyncpg.Connection, unit: Unit) -> None:
        self._conn = conn
        self._unit = unit
        self.raw = _PostgresRaw(conn)
        self._tx: Any = None

    @property
    def begun(self) -> bool:
        return self._tx is not None

    async def begin(self) -> None:
        if self._tx is None:
            tx = self._conn.transaction()
            await tx.start()
            self._tx = tx

    async def commit(self) -> None:
        pending = self._unit.pending
        if self._tx is None:
            if not pending:
                return
            if pending.statements(self.raw.combines) == 1:  # atomic on its own
                await pending.flush(self.raw)
                return
            await self.begin()
        await pending.flush(self.raw)
        tx, self._tx = self._tx, None
        try:
            await tx.commit()
        except BaseException:
            self._tx = tx  # still open: the caller rolls it back
            raise

    async def rollback(self) -> None:
        tx, self._tx = self._tx, None
        if tx is not None:
            with contextlib.suppress(*_UNAVAILABLE, asyncpg.PostgresError):
                await tx.rollback()

    async def _prepare(self, sql: str) -> None:
        pending = self._unit.pending
        if self._tx is None and (pending.needed_by(sql) or not plain_read(sql)):
            await self.begin()
        if pending.needed_by(sql):
            await pending.flush(self.raw)

    async def execute(self, sql: str, *args: Any) -> int:
        await self._prepare(sql)
        return await self.raw.execute(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        await self._prepare(sql)
        return [dict(row) for row in await self._conn.fetch(to_postgres(sql), *args)]

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        await self._prepare(sql)
        row = await self._conn.fetchrow(to_postgres(sql), *args)
        return dict(row) if row is not None else None


class _PostgresRaw:
    combines = True  # data-modifying WITH: `Pending.flush` sends its writes at once

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        return _rowcount(await self._conn.execute(to_postgres(sql), *args))


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own rollback of an open
    transaction. The store keeps no session state on pooled connections (no LISTEN, no
    SET, no session advisory lock; the relay has a connection of its own), so asyncpg's
    default `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` would be one
    more round trip per release for nothing."""


def _rowcount(status: str) -> int:
    """asyncpg returns a status tag like 'UPDATE 3'; the last word is the row count."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def is_unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError | asyncpg.UniqueViolationError)


def open_database(url: str) -> Database:
    """Pick the driver from the URL: `sqlite:PATH` or `postgresql://...`."""
    if url.startswith("sqlite:"):
        return SqliteDatabase(url.removeprefix("sqlite:"))
    return PostgresDatabase(url)
