"""Two gateway replicas on one PostgreSQL database: what happens on one shows live on the
other (the hub's relay over LISTEN/NOTIFY), for the console and for the customer's chat."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.keys import HUB
from gateway.settings import Settings
from tests.conftest import ADMIN_PASSWORD, API_KEY
from tests.test_webchat import hello, receive_until

pytestmark = pytest.mark.postgres
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _replica(aiohttp_client: Callable[..., Any], settings: Settings) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(settings))
    relay_ready = asyncio.get_running_loop().time() + 10
    while not client.app[HUB].relayed:  # the relay attaches when the app has started
        assert asyncio.get_running_loop().time() < relay_ready
        await asyncio.sleep(0.05)
    return client


async def _login(client: TestClient) -> str:
    form = await (await client.get("/console/login")).text()
    done = await client.post("/console/login", data={
        "csrf": CSRF.search(form).group(1),  # type: ignore[union-attr]
        "username": "admin", "password": ADMIN_PASSWORD})
    found = CSRF.search(await done.text())
    assert done.status == 200 and found is not None
    return found.group(1)


async def test_changes_on_one_replica_reach_clients_of_the_other(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        pg_url: str) -> None:
    # Replica A's outbox only polls once a minute: B's sends everything, so the customer's
    # chat on A can only hear of the operator's reply through the relay.
    a = await _replica(aiohttp_client, make_settings(
        database={"url": pg_url}, outbox={"poll_interval": 60}))
    b = await _replica(aiohttp_client, make_settings(database={"url": pg_url}))
    await asyncio.sleep(0.3)  # both listening

    await _login(a)
    async with a.ws_connect("/console/ws") as console, a.ws_connect("/chat/ws") as chat:
        await hello(chat)
        await asyncio.sleep(0.2)  # the socket's subscriptions are in place
        # a new ticket through replica B's API: A's open console page is told
        made = await b.post("/api/v1/messages", headers={"Authorization": f"Bearer {API_KEY}"},
                            json={"customer": {"id": "r1"}, "text": "I want a human"})
        assert made.status == 201
        changed = await console.receive_json(timeout=10)
        assert changed == {"type": "changed", "topic": "tickets"}

        # the chat customer on A hands off, an operator on B replies: it arrives live on A
        await chat.send_json({"type": "message", "client_id": "q", "text": "I want a human"})
        handoff = await receive_until(chat, "message", kind="handoff")
        ticket = re.search(r"#(\d+)", handoff["text"])
        assert ticket is not None
        csrf = await _login(b)
        replied = await b.post(f"/console/tickets/{ticket.group(1)}/reply",
                               data={"csrf": csrf, "text": "Hello from replica B"})
        assert replied.status == 200
        reply = await receive_until(chat, "message", author="operator")
        assert reply["text"] == "Hello from replica B"


async def test_a_replica_without_postgresql_has_no_relay(client: TestClient) -> None:
    assert not client.app[HUB].relayed  # SQLite: one process, nothing to relay
