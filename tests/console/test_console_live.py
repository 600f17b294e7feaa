"""`/console/ws` tells open pages that something changed, and nothing more."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.keys import HUB, TICKETS


async def _changed(ws: object) -> dict[str, object]:
    async with asyncio.timeout(5):
        frame: dict[str, object] = await ws.receive_json()  # type: ignore[attr-defined]
    return frame


async def test_list_socket_signals_new_tickets(client: TestClient, login: Login,
                                               handoff: Handoff) -> None:
    await login()
    async with client.ws_connect("/console/ws") as ws:
        await handoff()
        assert await _changed(ws) == {"type": "changed", "topic": "tickets"}


async def test_ticket_socket_signals_new_messages(client: TestClient, login: Login,
                                                  handoff: Handoff) -> None:
    started = await handoff()
    await login()
    async with client.ws_connect(f"/console/ws?ticket={started['ticket_id']}") as ws:
        await handoff(text="Are you there?", conversation_id=started["conversation_id"])
        assert await _changed(ws) == {"type": "changed", "topic": "conversation"}
    hub = client.app[HUB]
    async with asyncio.timeout(5):  # the server unsubscribes once the page is gone
        while hub.listeners(f"conversation:{started['conversation_id']}"):
            await asyncio.sleep(0.01)


async def test_socket_refuses_other_origins(client: TestClient, login: Login) -> None:
    await login()
    response = await client.get("/console/ws", headers={"Origin": "https://evil.example"})
    assert response.status == 403


async def _until_topic(ws: object, topic: str) -> None:
    async with asyncio.timeout(5):
        while (await ws.receive_json())["topic"] != topic:  # type: ignore[attr-defined]
            pass


async def test_agent_list_hears_of_a_ticket_transferred_out_of_their_queue(
    client: TestClient, login: Login, handoff: Handoff, make_operator: Any
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await make_operator("gina", queues=["general"])
    sue = await make_operator("sue", role="supervisor")
    await login("gina", AGENT_PASSWORD)
    async with client.ws_connect("/console/ws") as ws:
        await client.app[TICKETS].transfer(sue, ticket_id, reason="sales", queue="sales")
        assert await _changed(ws) == {"type": "changed", "topic": "tickets"}


async def test_ticket_page_hears_of_reopening_and_sla_alarms(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    started = await handoff()
    csrf = await login()
    await client.post(f"/console/tickets/{started['ticket_id']}/status",
                      data={"csrf": csrf, "status": "pending"})
    async with client.ws_connect(f"/console/ws?ticket={started['ticket_id']}") as ws:
        await handoff(text="Still there?", conversation_id=started["conversation_id"])
        await _until_topic(ws, "tickets")  # the status change, not only the new message
        client.app[HUB].publish("notifications", {"type": "sla.breached",
                                                  "ticket_id": 99, "queue": "general"})
        await _until_topic(ws, "notifications")
