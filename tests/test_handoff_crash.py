"""A crash between opening the hand-off ticket and storing the hand-off reply: when the
message is decided again (the client's retry), the customer gets exactly one reply and one
ticket (the decision's writes are one transaction: the failed attempt leaves none)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.errors import StoreUnavailable
from gateway.keys import STORE
from gateway.models import utcnow
from gateway.store import Store, codec


async def test_a_crash_before_the_handoff_reply_is_stored_is_finished_on_retry(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = await aiohttp_client(create_app(make_settings(database={"url": database_url})))
    store: Store = client.app[STORE]
    real_add_reply = store.add_reply
    crashes: list[str] = []

    async def dies_once(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("kind") == "handoff" and not crashes:
            crashes.append("handoff")  # the ticket is open; the process dies right here
            raise StoreUnavailable("injected: killed before the hand-off reply was stored")
        return await real_add_reply(*args, **kwargs)

    monkeypatch.setattr(store, "add_reply", dies_once)
    body = {"customer": {"id": "hx-1", "name": "Eva"}, "text": "I want to talk to a human",
            "message_id": "hx-first"}
    first = await client.post("/api/v1/messages", headers=api_headers, json=body)
    assert first.status == 503 and crashes == ["handoff"]
    # The decision is one transaction: the ticket it opened went with it, the message stays.
    assert await store.tickets(["new", "open"]) == []

    # The first handling's claim has run out (as after a real crash); the client retries.
    await store.db.execute("UPDATE messages SET claimed_until = ? WHERE direction = 'inbound'",
                           codec.ts(utcnow() - timedelta(seconds=1)))
    retry = await client.post("/api/v1/messages", headers=api_headers, json=body)
    assert retry.status == 200, await retry.text()
    again = await retry.json()
    assert [r["kind"] for r in again["replies"]] == ["handoff"]
    (ticket,) = await store.tickets(["new", "open"])
    assert again["ticket_id"] == ticket.id and f"{ticket.id}" in again["replies"][0]["text"]
    replies = [m for m in await store.messages(again["conversation_id"])
               if m.direction == "outbound"]
    assert [m.kind for m in replies] == ["handoff"]
    assert len(await store.outbox_entries(conversation_id=again["conversation_id"])) == 1
    assert [t.id for t in await store.tickets(["new", "open"])] == [ticket.id]
    conversation = await store.get_conversation(again["conversation_id"])
    assert conversation is not None and conversation.owner in ("queue", "operator")
