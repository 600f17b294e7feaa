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

from gateway.console import queries
from gateway.console.guard import PREFIX
from gateway.console.pages import SESSION
from gateway.ids import parse_id
from gateway.keys import HUB, STORE, TICKETS
from gateway.models import Operator
from gateway.notify import Hub
from gateway.store import Store

#: The client sends nothing but pings; anything bigger is not ours.
MAX_FRAME_BYTES = 1024


def _same_origin(request: web.Request) -> bool:
    """Browsers always send Origin on WebSockets; refuse other sites (cross-site hijacking)."""
    origin = request.headers.get("Origin")
    return origin is None or origin.split("://", 1)[-1] == request.host


async def _relevant(store: Store, operator: Operator, topic: str, payload: dict[str, Any],
                    ticket_id: int | None) -> bool:
    """Whether a change concerns the page (a signal carries no data, so an unneeded refresh
    costs nothing but a request; a missed one would leave the page stale).

    - a ticket page hears of its own ticket on `tickets` (a customer reopening it);
    - on the list, an agent hears of tickets in their queues, and of a ticket that has just
      been transferred out of one (so it leaves their list);
    - SLA alarms (`notifications`) reach those who see the ticket's queue.
    """
    if topic == "tickets" and ticket_id is not None:
        return payload.get("ticket_id") == ticket_id
    if topic not in ("tickets", "notifications") or operator.role in ("supervisor", "admin"):
        return True
    queue = payload.get("queue")
    if queue is None or queue in operator.queues:
        return True
    changed = payload.get("ticket_id")
    if topic == "tickets" and isinstance(changed, int):
        event = await queries.last_event(store, changed)
        moved = event.data.get("queue") if event is not None else None
        return isinstance(moved, dict) and moved.get("from") in operator.queues
    return False


async def _topics(request: web.Request) -> tuple[list[str], int | None]:
    """The list page follows all tickets; a ticket page its ticket and its conversation
    (and its ticket on `tickets`); both the SLA alarms."""
    raw = request.query.get("ticket")
    if raw is None:
        return ["tickets", "notifications"], None
    ticket_id = parse_id(raw)
    if ticket_id is None:
        raise web.HTTPBadRequest(text="ticket must be a ticket number")
    ticket = await request.app[TICKETS].get(request[SESSION].operator, ticket_id)
    return [f"ticket:{ticket.id}", f"conversation:{ticket.conversation_id}", "tickets",
            "notifications"], ticket.id


async def _pump(ws: web.WebSocketResponse, store: Store, operator: Operator, topic: str,
                queue: asyncio.Queue[dict[str, Any]], ticket_id: int | None) -> None:
    with contextlib.suppress(ConnectionError):  # the page went away mid-send
        while True:
            payload = await queue.get()
            try:
                relevant = await _relevant(store, operator, topic, payload, ticket_id)
            except Exception:  # e.g. the database is away: when unsure, let the page look
                relevant = True
            if relevant:
                await ws.send_json({"type": "changed", "topic": topic.split(":")[0]})


async def live_socket(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="origin not allowed")
    topics, ticket_id = await _topics(request)
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30)
    hub: Hub = request.app[HUB]
    # Subscribe before the handshake: the page refreshes once the socket is open, so
    # nothing that changes from then on is missed.
    queues = {topic: hub.subscribe(topic) for topic in topics}
    operator = request[SESSION].operator
    pumps: list[asyncio.Task[None]] = []
    try:
        await ws.prepare(request)
        pumps += [asyncio.create_task(_pump(ws, request.app[STORE], operator, t, q, ticket_id))
                  for t, q in queues.items()]
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
