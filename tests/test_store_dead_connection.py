"""A killed PostgreSQL backend between two statements (issue 11: "cannot switch to state
12; another operation (2) is in progress", 11 times in a long fault run).

The server sends a FATAL ErrorResponse, then closes the socket. asyncpg takes the
ErrorResponse of an idle connection for a protocol error and learns that the connection
is gone only at the EOF; a statement started in between is refused by asyncpg's state
machine before anything is sent. Not two coroutines on one connection. A proxy in front
of the real PostgreSQL passes the ErrorResponse at once and the EOF a second later, so
the window is there every time. Outside a transaction the store runs the statement again
on another connection; inside one it cannot (the transaction died with the connection)
and says the database is unavailable, as for any lost connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest

from gateway.errors import StoreUnavailable
from gateway.store.db import PostgresDatabase, never_sent
from tests.conftest import PG_ADMIN_DSN


class _LateEof:
    """Forwards to PostgreSQL; the server's close reaches the client `delay` s late."""

    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> _LateEof:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, client_r: asyncio.StreamReader,
                     client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", 5432)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                       late: float) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            await asyncio.sleep(late)
            dst.close()

        tasks = [asyncio.ensure_future(pipe(client_r, server_w, 0.0)),
                 asyncio.ensure_future(pipe(server_r, client_w, self.delay))]
        self._tasks.update(tasks)
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for writer in (client_w, server_w):
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def proxied(pg_url: str) -> AsyncIterator[str]:
    proxy = await _LateEof().start()
    yield pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    await proxy.stop()


async def _kill(pid: int) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.3)  # the FATAL ErrorResponse is in, the EOF is not


async def test_asyncpg_refuses_a_statement_between_the_fatal_error_and_the_eof(
        proxied: str) -> None:
    """The mechanism, on asyncpg alone: the fault runs' exact message."""
    conn = await asyncpg.connect(proxied)
    try:
        await conn.fetch("SELECT $1::int", 1)  # prepared: the next one binds at once
        await _kill(conn.get_server_pid())
        with pytest.raises(asyncpg.exceptions.InternalClientError) as refused:
            await conn.fetch("SELECT $1::int", 1)
        assert "cannot switch to state 12; another operation (2) is in progress" \
            in str(refused.value)
        assert never_sent(refused.value)
    finally:
        conn.terminate()


async def test_a_statement_outside_a_transaction_is_run_again_on_another_connection(
        proxied: str) -> None:
    db = PostgresDatabase(proxied, min_size=1, max_size=1)  # one connection: that one
    await db.open()
    try:
        pid = (await db.fetchone("SELECT pg_backend_pid() AS pid, ?::int AS n", 1))["pid"]
        await _kill(pid)
        row = await db.fetchone("SELECT pg_backend_pid() AS pid, ?::int AS n", 2)
        assert row is not None and row["n"] == 2 and row["pid"] != pid
        await _kill(row["pid"])
        assert await db.execute("SELECT ?::int", 3) == 1  # execute too
    finally:
        await db.close()


async def test_in_a_unit_the_retry_takes_a_pooled_connection(proxied: str) -> None:
    db = PostgresDatabase(proxied, min_size=1, max_size=2)
    await db.open()
    try:
        async with db.unit():
            pid = (await db.fetchone("SELECT pg_backend_pid() AS pid, ?::int AS n", 1))["pid"]
            await _kill(pid)
            row = await db.fetchone("SELECT pg_backend_pid() AS pid, ?::int AS n", 2)
            assert row is not None and row["pid"] != pid
    finally:
        await db.close()


async def test_inside_a_transaction_the_lost_connection_is_the_callers(proxied: str) -> None:
    db = PostgresDatabase(proxied, min_size=1, max_size=1)
    await db.open()
    try:
        with pytest.raises(StoreUnavailable):
            async with db.transaction() as tx:
                pid = (await tx.fetchone("SELECT pg_backend_pid() AS pid, ?::int AS n",
                                         1) or {})["pid"]
                await _kill(pid)
                await tx.fetchone("SELECT pg_backend_pid() AS pid, ?::int AS n", 2)
        assert await db.fetchone("SELECT ?::int AS n", 3) == {"n": 3}  # the pool heals
    finally:
        await db.close()


async def test_a_unit_gives_its_connection_back_only_after_a_statement_still_running(
        pg_url: str) -> None:
    """A task started in a unit that outlives it: its statement on the unit's connection
    finishes before the pool hands the connection to anyone else. (Before: the next
    holder's statement failed with "another operation is in progress" and the running
    one with "connection was closed in the middle of operation".)"""
    db = PostgresDatabase(pg_url, min_size=1, max_size=1)  # the next holder gets that one
    await db.open()
    try:
        async with db.unit():
            await db.fetchone("SELECT 1 AS n")
            late = asyncio.ensure_future(db.fetchone("SELECT pg_sleep(0.5), 2 AS n"))
            await asyncio.sleep(0.1)  # under way on the unit's connection
        assert await db.fetchone("SELECT 3 AS n") == {"n": 3}
        assert (await late or {})["n"] == 2
    finally:
        await db.close()
