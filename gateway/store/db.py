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
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import asyncpg

from gateway.errors import StoreError, StoreUnavailable

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

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Connection]: ...


class SqliteDatabase:
    """One aiosqlite connection in WAL mode; a lock serialises transactions on it."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

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

    async def _run(self, sql: str, args: Sequence[Any]) -> aiosqlite.Cursor:
        try:
            return await self.conn.execute(sql, tuple(args))
        except sqlite3.IntegrityError:
            raise
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite {self.path}: {exc}") from exc

    async def _execute(self, sql: str, args: Sequence[Any]) -> int:
        cursor = await self._run(sql, args)
        return cursor.rowcount

    async def _fetchall(self, sql: str, args: Sequence[Any]) -> list[Row]:
        cursor = await self._run(sql, args)
        return [dict(row) for row in await cursor.fetchall()]

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._lock:
            return await self._execute(sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._lock:
            return await self._fetchall(sql, args)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._lock:
            await self._execute("BEGIN IMMEDIATE", ())
            try:
                yield _SqliteTx(self)
            except BaseException:
                await self._execute("ROLLBACK", ())
                raise
            await self._execute("COMMIT", ())


class _SqliteTx:
    """The connection as seen inside a transaction (the lock is already held)."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def execute(self, sql: str, *args: Any) -> int:
        return await self._db._execute(sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        return await self._db._fetchall(sql, args)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self._db._fetchall(sql, args)
        return rows[0] if rows else None


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


class PostgresDatabase:
    """An asyncpg pool; several gateway processes may share one database."""

    dialect = "postgresql"

    def __init__(self, dsn: str, min_size: int = 1, max_size: int = 10) -> None:
        self.dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._sizes = (min_size, max_size)

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=self._sizes[0], max_size=self._sizes[1], timeout=10
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
        try:
            conn = await self.pool.acquire(timeout=10)
        except (*_UNAVAILABLE, asyncpg.PostgresError) as exc:
            # Whatever stops us from getting a connection means: the database is unavailable.
            raise StoreUnavailable(f"PostgreSQL is unreachable: {exc}") from exc
        try:
            yield conn
        except _UNAVAILABLE as exc:
            with contextlib.suppress(asyncpg.InterfaceError):  # already given back
                conn.terminate()  # never hand a half-dead connection back to the pool
            raise StoreUnavailable(f"PostgreSQL connection lost: {exc}") from exc
        finally:
            with contextlib.suppress(*_UNAVAILABLE):
                await self.pool.release(conn)

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._connection() as conn:
            return _rowcount(await conn.execute(to_postgres(sql), *args))

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._connection() as conn:
            return [dict(row) for row in await conn.fetch(to_postgres(sql), *args)]

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._connection() as conn, conn.transaction():
            yield _PostgresTx(conn)


class _PostgresTx:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        return _rowcount(await self._conn.execute(to_postgres(sql), *args))

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        return [dict(row) for row in await self._conn.fetch(to_postgres(sql), *args)]

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        row = await self._conn.fetchrow(to_postgres(sql), *args)
        return dict(row) if row is not None else None


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
