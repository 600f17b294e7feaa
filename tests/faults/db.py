"""The harness's own view of the gateway's database: what was ingested, when.

Read with plain SQL from outside the gateway process (sqlite3 for SQLite, asyncpg for
PostgreSQL), so the accounting does not depend on the code under test. The PostgreSQL
side also creates and drops the run's database and kills the gateway's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from tests.conftest import PG_ADMIN_DSN

INBOUND = ("SELECT channel_message_id, created_at FROM messages"
           " WHERE direction = 'inbound' AND channel = 'email'")
#: Customer mails stored whose handling has not finished (their claim is held).
UNHANDLED = ("SELECT COUNT(*) FROM messages WHERE direction = 'inbound' AND channel = 'email'"
             " AND handled = 0 AND channel_message_id LIKE '<fault.%'")
QUARANTINE = "SELECT value FROM connector_state WHERE key = 'email:quarantine'"


@dataclass(frozen=True)
class Ingested:
    message_id: str
    at: float  # epoch seconds of the row's created_at


def _epoch(text: str) -> float:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return moment.timestamp()


class Database:
    """One run's database: `sqlite` (a file in the work directory) or `postgresql`."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.path = workdir / "helpdesk.db"
        self.name = f"hgw_faults_{uuid.uuid4().hex[:12]}"
        self._pg: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one connection, used by the sampler and the injectors

    @property
    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:{self.path}"
        return f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{self.name}"

    async def create(self) -> None:
        if self.kind == "postgresql":
            admin = await asyncpg.connect(PG_ADMIN_DSN)
            try:
                await admin.execute(f'CREATE DATABASE "{self.name}"')
            finally:
                await admin.close()

    async def drop(self) -> None:
        if self._pg is not None:
            await self._pg.close()
            self._pg = None
        if self.kind == "postgresql":
            admin = await asyncpg.connect(PG_ADMIN_DSN)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                await admin.close()

    async def _connection(self) -> asyncpg.Connection:
        if self._pg is None or self._pg.is_closed():
            self._pg = await asyncpg.connect(self.url)
        return self._pg

    async def _rows(self, sql: str) -> list[tuple[object, ...]]:
        """Rows of `sql`, [] while the gateway has not created its tables yet."""
        if self.kind == "sqlite":
            if not self.path.exists():
                return []
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
            try:
                return [tuple(r) for r in db.execute(sql).fetchall()]
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise
            finally:
                db.close()
        try:
            async with self._lock:
                return [tuple(r) for r in await (await self._connection()).fetch(sql)]
        except asyncpg.UndefinedTableError:
            return []

    async def ingested(self) -> list[Ingested]:
        return [Ingested(str(mid), _epoch(str(at))) for mid, at in await self._rows(INBOUND)]

    async def unhandled(self) -> int:
        rows = await self._rows(UNHANDLED)
        return int(str(rows[0][0])) if rows else 0

    async def quarantined(self) -> int:
        rows = await self._rows(QUARANTINE)
        return len(json.loads(str(rows[0][0]))) if rows else 0

    @contextlib.asynccontextmanager
    async def outbox_held(self) -> AsyncIterator[None]:
        """On PostgreSQL, new outbox rows wait until the block ends (or its connection is
        killed): a decision then stays open with its message stored unhandled, a window a
        10 ms watch always sees (a decision is one short transaction since issue 21)."""
        if self.kind != "postgresql":
            yield
            return
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute("BEGIN")
            await conn.execute("LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE")
            yield
        finally:
            with contextlib.suppress(Exception):  # killed with the gateway's: fine
                await conn.close()

    async def waiting_on_outbox(self, statement: str, timeout: float) -> bool:
        """Until a gateway backend runs `statement` (its beginning) and waits for a lock
        (the one `outbox_held` takes); False after `timeout` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            async with self._lock:
                waiting = await (await self._connection()).fetchval(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1"
                    " AND wait_event_type = 'Lock' AND query LIKE $2",
                    self.name, statement + "%")
            if waiting:
                return True
            await asyncio.sleep(0.01)
        return False

    async def terminate_backends(self) -> int:
        """pg_terminate_backend on every connection of the gateway(s) to this database."""
        async with self._lock:
            rows = await (await self._connection()).fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()", self.name)
        return sum(1 for r in rows if r[0])
