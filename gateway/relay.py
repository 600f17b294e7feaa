"""Live changes across replicas, through PostgreSQL LISTEN/NOTIFY.

Several gateway processes may share one PostgreSQL database. Each keeps its own WebSockets,
so without a relay a change made on one replica (an operator's reply sent by its outbox, a
new ticket) would reach only the chat tabs and console pages connected to that replica; the
others would see it at their next reconnect. The relay sends every publication of the
local hub as one NOTIFY on `hgw_hub`, and delivers what the other replicas send to the
local subscribers. PostgreSQL is already there, so no broker is added; SQLite means one
process, so no relay.

Best-effort like the hub itself: a notification larger than PostgreSQL's limit (8,000
bytes; a very long chat message) is not relayed, and nothing is relayed while the listening
connection is down (it reconnects with backoff); clients catch up from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import structlog

from gateway.background import background
from gateway.notify import Hub, Payload

log = structlog.get_logger(__name__)

CHANNEL = "hgw_hub"
#: PostgreSQL refuses NOTIFY payloads of 8,000 bytes and more.
MAX_BYTES = 7900
_BACKLOG = 1000
_BACKOFF = (0.5, 1, 2, 5, 10)


class PgRelay:
    def __init__(self, dsn: str, hub: Hub) -> None:
        self.dsn = dsn
        self.hub = hub
        #: Tells this process's own notifications apart when they come back.
        self.origin = uuid.uuid4().hex
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(_BACKLOG)

    def send(self, topic: str, payload: Payload) -> None:
        message = json.dumps({"o": self.origin, "t": topic, "p": payload}, default=str)
        if len(message.encode()) > MAX_BYTES:
            log.warning("relay.too_large", topic=topic.split(":")[0], size=len(message))
            return
        with contextlib.suppress(asyncio.QueueFull):  # down for long: clients catch up
            self._outgoing.put_nowait(message)

    def _heard(self, _conn: Any, _pid: int, _channel: str, message: str) -> None:
        try:
            data = json.loads(message)
            if data["o"] != self.origin:
                self.hub.deliver(str(data["t"]), dict(data["p"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("relay.unreadable", error=str(exc))

    async def _run(self) -> None:
        failures = 0
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=10)
                await conn.add_listener(CHANNEL, self._heard)
                failures = 0
                log.info("relay.listening")
                while True:
                    message = await self._outgoing.get()
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, message)
            except (OSError, TimeoutError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:
                delay = _BACKOFF[min(failures, len(_BACKOFF) - 1)]
                failures += 1
                log.warning("relay.disconnected", error=str(exc)[:200], retry_in=delay)
                await asyncio.sleep(delay)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[PgRelay]:
        self.hub.relay_to(self.send)
        try:
            async with background(self._run(), "hub-relay"):
                yield self
        finally:
            self.hub.relay_to(None)
