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
connection is down (it reconnects with backoff, whatever the disconnect: a killed backend,
a confused protocol state, a server restart; its state is in /readyz); clients catch up
from the store.
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
from gateway.delivery.notify import Hub, Payload
from gateway.store.db import DISCONNECTS

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
        self._connected = self._was_up = False
        self._reconnects = 0
        self._last_error: str | None = None

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

    def health(self) -> dict[str, Any]:
        """For /readyz: is this replica hearing the others, and what went wrong last."""
        return {"ok": self._connected, "connected": self._connected,
                "reconnects": self._reconnects, "last_error": self._last_error}

    async def _run(self) -> None:
        """Forever: listen, and reconnect with backoff whatever cut the connection."""
        failures = 0
        while True:
            try:
                await self._session()
            except (*DISCONNECTS, asyncpg.PostgresError, ConnectionError) as exc:
                self._last_error = f"{type(exc).__name__}: {exc}"[:300]
            self._connected = False
            delay = _BACKOFF[min(failures, len(_BACKOFF) - 1)]
            failures = 0 if self._was_up else failures + 1
            self._reconnects += 1
            log.warning("relay.disconnected", error=self._last_error, retry_in=delay)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        """One listening connection, until it is lost. asyncpg reports a connection the
        server killed only when it is next used, so its termination is watched as well:
        an idle relay must notice at once, not at the next local publication."""
        self._was_up = False
        conn = await asyncpg.connect(self.dsn, timeout=10)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(CHANNEL, self._heard)
            self._connected = self._was_up = True
            log.info("relay.listening")
            gone = asyncio.ensure_future(lost.wait())
            try:
                while True:
                    take = asyncio.ensure_future(self._outgoing.get())
                    await asyncio.wait({take, gone}, return_when=asyncio.FIRST_COMPLETED)
                    if not take.done():
                        take.cancel()
                        raise ConnectionError("the listening connection was closed")
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, take.result())
            finally:
                gone.cancel()
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[PgRelay]:
        self.hub.relay_to(self.send)
        try:
            async with background(self._run, "hub-relay"):
                yield self
        finally:
            self.hub.relay_to(None)
