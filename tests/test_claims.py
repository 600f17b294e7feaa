"""Handling claims on inbound messages (gateway/bot/claims.py): a live handler keeps its
message however long the decision takes, a failed one lets a retry in at once, and a
handler whose claim was taken over stops before it decides anything more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from gateway.app import create_app
from gateway.bot.claims import ClaimLost, holding, new_owner
from gateway.channels import ConversationKey, Identity
from gateway.config.settings import Settings
from gateway.errors import StoreUnavailable
from gateway.keys import STORE
from gateway.models import Message, utcnow
from gateway.store import Store, codec, store_for

SHORT = timedelta(seconds=0.9)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = store_for(database_url)
    await store.open()
    yield store
    await store.close()


async def _stored(store: Store, name: str) -> Message:
    customer = await store.resolve_customer(Identity("api", name))
    conversation = await store.conversation_for(ConversationKey("api", f"{name}:1"),
                                                customer.id, "en")
    message, _ = await store.add_inbound(conversation, "hello", f"{name}-1", claim=SHORT)
    return message


async def test_a_decision_longer_than_the_claim_keeps_it(store: Store) -> None:
    message = await _stored(store, "slow")
    owner = new_owner()
    assert await store.reclaim_unhandled(message.id, SHORT, owner, fresh=True)
    rival: list[bool] = []

    async def slow_decision() -> str:
        for _ in range(4):  # 2 s: more than twice the claim
            await asyncio.sleep(0.5)
            rival.append(await store.reclaim_unhandled(message.id, SHORT, new_owner()))
        await store.mark_handled(message.id)
        return "decided"

    assert await holding(store, message.id, owner, slow_decision(), claim=SHORT) == "decided"
    assert rival == [False] * 4


async def test_a_taken_over_claim_stops_its_old_holder(store: Store) -> None:
    message = await _stored(store, "stalled")
    owner = new_owner()
    assert await store.reclaim_unhandled(message.id, SHORT, owner, fresh=True)
    # The holder stalled past its claim (as a frozen process would) and a sweep took over.
    await store.db.execute("UPDATE messages SET claimed_until = ? WHERE id = ?",
                           codec.ts(utcnow() - timedelta(seconds=1)), message.id)
    assert await store.reclaim_unhandled(message.id, timedelta(seconds=30), new_owner())
    steps: list[int] = []

    async def decision() -> None:
        for step in range(10):
            steps.append(step)
            await asyncio.sleep(0.2)

    with pytest.raises(ClaimLost):
        await holding(store, message.id, owner, decision(), claim=SHORT)
    assert len(steps) < 10  # stopped at its first renewal, not run to the end
    await asyncio.sleep(0.5)
    assert len(steps) < 10


async def test_a_retry_after_a_failed_handling_is_answered_at_once(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The database failed in the middle of the first attempt: the client's retry a
    moment later is decided and answered, not left waiting for the claim to run out."""
    client = await aiohttp_client(create_app(make_settings(database={"url": database_url})))
    store: Store = client.app[STORE]
    real_add_reply = store.add_reply
    failures: list[str] = []

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(kwargs["kind"])
            raise StoreUnavailable("injected: the connection died")
        return await real_add_reply(*args, **kwargs)

    monkeypatch.setattr(store, "add_reply", fails_once)
    body = {"customer": {"id": "cl-1", "name": "Eva"}, "text": "How long does delivery take?",
            "message_id": "cl-first"}
    first = await client.post("/api/v1/messages", headers=api_headers, json=body)
    assert first.status == 503 and failures == ["answer"]
    retry = await client.post("/api/v1/messages", headers=api_headers, json=body)
    assert retry.status == 200, await retry.text()
    assert [r["kind"] for r in (await retry.json())["replies"]] == ["answer"]
