"""Who else has a ticket open, and who is writing a reply to it, live (collision detection).

Each ticket page's socket announces its operator on the hub topic `viewers:<ticket>` (on
PostgreSQL relayed to the other replicas like every publication): when it opens, every
`HEARTBEAT` seconds, when its operator types in the reply box (the page sends `typing`
every 3 s; the state is `replying` for `TYPING_HOLD` seconds after), and when it closes
(`left`).
A page's first announcement asks the others to announce themselves at once, so a newcomer
knows within a moment who is there. The browser forgets a viewer not heard of for a few
heartbeats: a replica that died says no goodbye.

Only the operator's display name and state travel, and only to sockets that passed the
ticket's access check: nothing a page of the ticket would not show.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gateway.delivery.notify import Hub
from gateway.models import Operator

#: Seconds between announcements of a page that is just open.
HEARTBEAT = 10.0
#: Seconds an operator counts as replying after they last typed.
TYPING_HOLD = 6.0
#: The fewest seconds between two `replying` announcements of one page.
TYPING_EVERY = 1.0


def topic(ticket_id: int) -> str:
    return f"viewers:{ticket_id}"


class Viewer:
    """One open ticket page: its operator, and when they last typed."""

    def __init__(self, hub: Hub, ticket_id: int, operator: Operator) -> None:
        self.hub, self.ticket_id, self.operator = hub, ticket_id, operator
        self.socket = uuid.uuid4().hex
        self._typed = self._told = float("-inf")

    @property
    def state(self) -> str:
        return "replying" if time.monotonic() - self._typed < TYPING_HOLD else "viewing"

    def announce(self, state: str | None = None, *, hello: bool = False) -> None:
        self.hub.publish(topic(self.ticket_id), {
            "type": "viewer", "socket": self.socket, "operator_id": self.operator.id,
            "name": self.operator.display_name, "state": state or self.state, "hello": hello})

    def typed(self) -> None:
        """The page said its operator is writing a reply: tell the colleagues (at most every
        `TYPING_EVERY` seconds)."""
        now = time.monotonic()
        self._typed = now
        if now - self._told >= TYPING_EVERY:
            self._told = now
            self.announce("replying")

    async def forward(self, ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]]
                      ) -> None:
        """The other operators' announcements, to this page."""
        with contextlib.suppress(ConnectionError):
            while True:
                payload = await queue.get()
                if payload.get("socket") == self.socket:
                    continue
                if payload.get("operator_id") == self.operator.id:
                    continue  # the same operator in another tab is no collision
                if payload.get("hello"):
                    self.announce()
                await ws.send_json({"type": "viewer", "id": payload.get("socket"),
                                    "name": payload.get("name"), "state": payload.get("state")})

    async def beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            self.announce()


@contextlib.asynccontextmanager
async def present(hub: Hub, ws: web.WebSocketResponse, ticket_id: int,
                  operator: Operator) -> AsyncIterator[Viewer]:
    """Announce the page while the socket is open; say goodbye when it closes."""
    viewer = Viewer(hub, ticket_id, operator)
    queue = hub.subscribe(topic(ticket_id))
    tasks = [asyncio.create_task(viewer.forward(ws, queue)), asyncio.create_task(viewer.beat())]
    viewer.announce("viewing", hello=True)
    try:
        yield viewer
    finally:
        hub.unsubscribe(topic(ticket_id), queue)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        viewer.announce("left")
