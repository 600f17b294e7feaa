"""`/console/ws`: tells an open console page that what it shows has changed.

The socket carries no ticket data, only "changed": the page then re-fetches itself over
HTTP, through the same access checks as any request. So a socket can never leak more than
the page could, and a page that missed a signal catches up on its next refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import WSMsgType, web

from gateway.console.guard import PREFIX
from gateway.console.pages import SESSION
from gateway.keys import HUB, TICKETS
from gateway.models import Operator
from gateway.notify import Hub

#: The client sends nothing but pings; anything bigger is not ours.
MAX_FRAME_BYTES = 1024


def _same_origin(request: web.Request) -> bool:
    """Browsers always send Origin on WebSockets; refuse other sites (cross-site hijacking)."""
    origin = request.headers.get("Origin")
    return origin is None or origin.split("://", 1)[-1] == request.host


def _relevant(operator: Operator, topic: str, payload: dict[str, Any]) -> bool:
    """On the list, an agent hears only of tickets in their queues (when the queue is known:
    a signal carries no data, so an unneeded refresh costs nothing but a request)."""
    if topic != "tickets" or operator.role in ("supervisor", "admin"):
        return True
    queue = payload.get("queue")
    return queue is None or queue in operator.queues


async def _topics(request: web.Request) -> list[str]:
    """The list page follows all tickets; a ticket page its ticket and its conversation."""
    raw = request.query.get("ticket")
    if raw is None:
        return ["tickets"]
    if not raw.isdigit():
        raise web.HTTPBadRequest(text="ticket must be a number")
    ticket = await request.app[TICKETS].get(request[SESSION].operator, int(raw))
    return [f"ticket:{ticket.id}", f"conversation:{ticket.conversation_id}"]


async def _pump(ws: web.WebSocketResponse, operator: Operator, topic: str,
                queue: asyncio.Queue[dict[str, Any]]) -> None:
    with contextlib.suppress(ConnectionError):  # the page went away mid-send
        while True:
            payload = await queue.get()
            if _relevant(operator, topic, payload):
                await ws.send_json({"type": "changed", "topic": topic.split(":")[0]})


async def live_socket(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="origin not allowed")
    topics = await _topics(request)
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30)
    hub: Hub = request.app[HUB]
    # Subscribe before the handshake: the page refreshes once the socket is open, so
    # nothing that changes from then on is missed.
    queues = {topic: hub.subscribe(topic) for topic in topics}
    operator = request[SESSION].operator
    pumps: list[asyncio.Task[None]] = []
    try:
        await ws.prepare(request)
        pumps += [asyncio.create_task(_pump(ws, operator, t, q)) for t, q in queues.items()]
        async for frame in ws:
            if frame.type == WSMsgType.ERROR:
                break
    finally:
        # Unsubscribe first: awaiting below may itself be cancelled (client gone).
        for topic, queue in queues.items():
            hub.unsubscribe(topic, queue)
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
    return ws


def setup(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/ws", live_socket)
