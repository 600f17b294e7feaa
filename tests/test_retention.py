"""Retention through the running gateway: with `[retention]` set, old conversations lose
what was said in them, customers with nothing recent are erased, open work and recent
conversations are kept, and old quarantined mail goes."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from connectors.email.state import QUARANTINE_INDEX, QUARANTINE_RAW
from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.models import utcnow
from gateway.store import codec


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(retention={"conversations_days": 365, "quarantine_days": 30,
                                    "check_interval": 0.1})


async def _write(client: TestClient, headers: dict[str, str], who: str,
                 text: str) -> dict[str, Any]:
    """A new API conversation of customer `who`."""
    answer = await client.post("/api/v1/messages", headers=headers, json={
        "customer": {"id": who, "name": who.title(), "email": f"{who}@example.be"},
        "text": text})
    assert answer.status == 201, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


async def _age(client: TestClient, conversation_id: int, days: int) -> None:
    """Make a conversation, its ticket and its customer look `days` old."""
    store, then = client.app[STORE], codec.ts(utcnow() - timedelta(days=days))
    conversation = await store.get_conversation(conversation_id)
    assert conversation is not None
    await store.db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", then,
                           conversation_id)
    await store.db.execute("UPDATE tickets SET updated_at = ? WHERE conversation_id = ?", then,
                           conversation_id)
    await store.db.execute("UPDATE customers SET created_at = ? WHERE id = ?", then,
                           conversation.customer_id)


async def _close(client: TestClient, ticket_id: int) -> None:
    await client.app[STORE].update_ticket(ticket_id, "gina", "ticket.closed", status="closed")


async def test_old_personal_data_is_purged_and_the_rest_kept(
        client: TestClient, api_headers: dict[str, str]) -> None:
    store = client.app[STORE]
    gone = await _write(client, api_headers, "olga", "I want to talk to a human about my bike")
    await _close(client, gone["ticket_id"])
    old = await _write(client, api_headers, "ben", "I want to talk to a human, old story")
    await _close(client, old["ticket_id"])
    recent = await _write(client, api_headers, "ben", "Hello, how long does delivery take?")
    waiting = await _write(client, api_headers, "cleo", "I want to talk to a human today")
    for conversation in (gone, old, waiting):
        await _age(client, conversation["conversation_id"], days=400)
    index = []
    for entry_id, days in (("INBOX/1/1", 40), ("INBOX/1/2", 1)):
        await store.set_state(QUARANTINE_RAW + entry_id,
                              {"raw": base64.b64encode(b"From: x@y.be").decode()})
        index.append({"id": entry_id, "error": "x",
                      "at": (utcnow() - timedelta(days=days)).isoformat()})
    await store.set_state(QUARANTINE_INDEX, index)

    async def texts(conversation: dict[str, Any]) -> set[str]:
        return {m.text for m in await store.messages(conversation["conversation_id"])}

    for _ in range(100):  # the purge runs every 0.1 s in the background
        if await texts(gone) == {"[erased]"} and await texts(old) == {"[erased]"}:
            break
        await asyncio.sleep(0.1)
    assert await texts(gone) == {"[erased]"} and await texts(old) == {"[erased]"}

    olga = await store.get_customer((await store.get_conversation(
        gone["conversation_id"]) or pytest.fail("gone")).customer_id)
    assert olga is not None and (olga.name, olga.email) == ("[erased]", None)
    ben = await store.get_customer((await store.get_conversation(
        recent["conversation_id"]) or pytest.fail("gone")).customer_id)
    assert ben is not None and ben.email == "ben@example.be"  # active: kept
    assert "Hello, how long does delivery take?" in await texts(recent)
    assert "I want to talk to a human today" in await texts(waiting)  # ticket still open
    ticket = await store.get_ticket(int(old["ticket_id"]))
    assert ticket is not None and ticket.subject == "[erased]" and ticket.status == "closed"
    assert [e["id"] for e in await store.get_state(QUARANTINE_INDEX)] == ["INBOX/1/2"]
    assert await store.get_state(QUARANTINE_RAW + "INBOX/1/1") is None
