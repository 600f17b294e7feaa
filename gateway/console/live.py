"""`/console/ws`: tells an open console page that what it shows has changed.

The socket carries no ticket data, only "changed": the page then re-fetches itself over
HTTP, through the same access checks as any request. So a socket can never leak more than
the page could, and a page that missed a signal catches up on its next refresh.

A ticket page sends `{"type": "typing"}` while the operator writes a reply: the customer's
open chat shows "<operator> is typing…" (at most one signal every `TYPING_EVERY` seconds),
and the colleagues who have the ticket open see them replying. The socket also tells the page
who else has the ticket open and who is replying (`gateway.console.viewers`), and that the
operator has a new notification (`{"type": "notify"}`: the page then asks for it over HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from gateway.console import queries, viewers
from gateway.console.guard import PREFIX
from gateway.console.pages import SESSION
from gateway.delivery.notify import Hub, live_topic
from gateway.errors import AccessDenied, StoreError
from gateway.ids import parse_id
from gateway.keys import HUB, STORE, TICKETS
from gateway.models import Operator
from gateway.store import Store
from gateway.tickets import notices

#: The client sends nothing but pings and typing signals; anything bigger is not ours.
MAX_FRAME_BYTES = 1024
#: Seconds between two typing signals passed on for one page (the page sends one every 3 s).
TYPING_EVERY = 2.0


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
    own = notices.topic(request[SESSION].operator.id)  # the operator's own notifications
    if raw is None:
        return ["tickets", "notifications", own], None
    ticket_id = parse_id(raw)
    if ticket_id is None:
        raise web.HTTPBadRequest(text="ticket must be a ticket number")
    ticket = await request.app[TICKETS].get(request[SESSION].operator, ticket_id)
    return [f"ticket:{ticket.id}", f"conversation:{ticket.conversation_id}", "tickets",
            "notifications", own], ticket.id


async def _pump(ws: web.WebSocketResponse, store: Store, operator: Operator, topic: str,
                queue: asyncio.Queue[dict[str, Any]], ticket_id: int | None) -> None:
    with contextlib.suppress(ConnectionError):  # the page went away mid-send
        while True:
            payload = await queue.get()
            if topic.startswith("operator:"):  # news for this operator: the page asks for it
                await ws.send_json({"type": "notify"})
                continue
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
        typed = 0.0
        async with contextlib.AsyncExitStack() as stack:
            viewer = None if ticket_id is None else await stack.enter_async_context(
                viewers.present(hub, ws, ticket_id, operator))
            async for frame in ws:
                if frame.type == WSMsgType.ERROR:
                    break
                if viewer is None or frame.type != WSMsgType.TEXT or not _is_typing(frame.data):
                    continue
                viewer.typed()
                if time.monotonic() - typed >= TYPING_EVERY:
                    typed = time.monotonic()
                    await _typing(request, operator, viewer.ticket_id)
    finally:
        # Unsubscribe first: awaiting below may itself be cancelled (client gone).
        for topic, queue in queues.items():
            hub.unsubscribe(topic, queue)
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
    return ws


def _is_typing(raw: str) -> bool:
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") == "typing"


async def _typing(request: web.Request, operator: Operator, ticket_id: int) -> None:
    """Tell the customer's open chat that this operator is writing to them (the ticket is
    looked up again: access to it may have changed since the page was opened)."""
    try:
        ticket = await request.app[TICKETS].get(operator, ticket_id)
        conversation = await request.app[STORE].get_conversation(ticket.conversation_id)
    except (LookupError, AccessDenied, StoreError):
        return  # nothing to tell: a signal is best-effort, the reply itself is what counts
    if conversation is not None and ticket.status != "closed":
        request.app[HUB].publish(live_topic(conversation.channel, conversation.address),
                                 {"type": "typing", "operator": operator.display_name})


def setup(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/ws", live_socket)
