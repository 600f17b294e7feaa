"""`/console/ws` tells open pages that something changed, and nothing more."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login

from gateway.keys import HUB


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
