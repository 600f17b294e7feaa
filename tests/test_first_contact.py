"""A new customer's first messages arriving at once (two replicas, a client retrying, an
app sending in parallel): one customer, no error, and a retry finds its first attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.channels import ConversationKey, Identity
from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.store import store_for


async def _gateway(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
                   database_url: str) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(
        make_settings(database={"url": database_url})))
    return client


async def test_concurrent_first_messages_of_one_new_customer_all_succeed(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client = await _gateway(aiohttp_client, make_settings, database_url)

    async def first(n: int) -> tuple[int, dict[str, Any]]:
        response = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": "new-1", "name": "Ann", "email": "Ann@Example.be"},
            "text": f"How long does delivery take? ({n})", "message_id": f"first-{n}"})
        return response.status, await response.json()

    results = await asyncio.gather(*(first(n) for n in range(8)))
    assert [status for status, _ in results] == [201] * 8, results
    store = client.app[STORE]
    customers = await store.db.fetchall("SELECT id, email FROM customers")
    assert [c["email"] for c in customers] == ["ann@example.be"]
    owners = {(await store.get_conversation(body["conversation_id"])).customer_id  # type: ignore[union-attr]
              for _, body in results}
    assert owners == {customers[0]["id"]}


async def test_two_stores_resolving_one_new_customer_at_once_agree(database_url: str) -> None:
    # Two replicas: separate stores (connections) on one database, racing on the same
    # new identities, with and without an e-mail address.
    stores = [store_for(database_url) for _ in range(2)]
    for store in stores:
        await store.open()
    try:
        for identity in (Identity("email", "bo@example.be", "Bo", email="bo@example.be"),
                         Identity("slack", "U123", "Cy")):
            found = await asyncio.gather(*(s.resolve_customer(identity)
                                           for s in stores for _ in range(4)))
            assert len({c.id for c in found}) == 1, found
        rows = await stores[0].db.fetchall("SELECT COUNT(*) AS n FROM customers")
        assert rows[0]["n"] == 2  # no orphan left by the loser of a race
    finally:
        for store in stores:
            await store.close()


async def test_a_retry_of_a_first_message_returns_the_first_attempts_conversation(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client = await _gateway(aiohttp_client, make_settings, database_url)
    body = {"customer": {"id": "cust-9", "name": "Dirk"}, "text": "How long does delivery take?",
            "message_id": "app-77"}
    first = await client.post("/api/v1/messages", headers=api_headers, json=body)
    assert first.status == 201
    original = await first.json()
    retry = await client.post("/api/v1/messages", headers=api_headers, json=body)
    assert retry.status == 200
    again = await retry.json()
    assert again["duplicate"] is True
    assert again["conversation_id"] == original["conversation_id"]
    assert again["message_id"] == original["message_id"]
    assert [r["id"] for r in again["replies"]] == [r["id"] for r in original["replies"]] != []
    conversations = await client.app[STORE].db.fetchall(
        "SELECT id FROM conversations WHERE channel = 'api'")
    assert len(conversations) == 1


async def test_ten_first_messages_on_two_gateways_sharing_one_database(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    # Two gateway processes' worth of stores on one database, a customer without an e-mail
    # address (so nothing but the identity links the messages) and one with one.
    clients = [await _gateway(aiohttp_client, make_settings, database_url) for _ in range(2)]

    async def first(n: int, customer: dict[str, str]) -> tuple[int, dict[str, Any]]:
        response = await clients[n % 2].post("/api/v1/messages", headers=api_headers, json={
            "customer": customer, "text": f"How long does delivery take? ({n})",
            "message_id": f"{customer['id']}-{n}"})
        return response.status, await response.json()

    for customer in ({"id": "new-2", "name": "Bo"},
                     {"id": "new-3", "name": "Cy", "email": "cy@example.be"}):
        results = await asyncio.gather(*(first(n, customer) for n in range(10)))
        assert [status for status, _ in results] == [201] * 10, results
    store = clients[0].app[STORE]
    customers = await store.db.fetchall("SELECT id FROM customers ORDER BY id")
    assert len(customers) == 2
    identities = await store.db.fetchall("SELECT customer_id FROM identities")
    assert len(identities) == 2


async def test_two_stores_opening_one_conversation_and_storing_one_message_at_once_agree(
        database_url: str) -> None:
    stores = [store_for(database_url) for _ in range(2)]
    for store in stores:
        await store.open()
    try:
        identity = Identity("webchat", "visitor-1", "Di")
        customer = await stores[0].resolve_customer(identity)
        key = ConversationKey("webchat", "visitor-1")
        conversations = await asyncio.gather(*(s.conversation_for(key, customer.id, "en")
                                               for s in stores for _ in range(5)))
        assert len({c.id for c in conversations}) == 1
        stored = await asyncio.gather(*(s.add_inbound(conversations[0], "hello", "m-1")
                                        for s in stores for _ in range(5)))
        assert len({m.id for m, _ in stored}) == 1
        assert sorted(new for _, new in stored) == [False] * 9 + [True]
    finally:
        for store in stores:
            await store.close()
