"""The store's unit of work (issue 21): one held connection per message, transactions that
join each other, updates merged and events batched until the commit, and nothing told
before it — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from benchmarks.sql_count import counting
from gateway.channels import ConversationKey, Identity
from gateway.delivery.notify import Hub
from gateway.models import Conversation
from gateway.store import Store, store_for


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = store_for(database_url)
    await store.open()
    yield store
    await store.close()


async def _conversation(store: Store, address: str = "v-1") -> Conversation:
    customer = await store.resolve_customer(Identity("webchat", address, "Ann"))
    return await store.conversation_for(ConversationKey("webchat", address), customer.id, "en")


async def test_updates_of_one_row_are_one_statement_and_events_one_insert(store: Store) -> None:
    conversation = await _conversation(store)
    message, _ = await store.add_inbound(conversation, "hello", "m-1")
    async with store.unit():
        with counting() as tally:
            async with store.db.transaction():
                await store.update_conversation(conversation.id, language="nl")
                await store.update_conversation(conversation.id, category="delivery")
                await store.add_event("bot", "one", conversation_id=conversation.id)
                await store.add_event("bot", "two", conversation_id=conversation.id)
                await store.mark_handled(message.id)
    if store.db.dialect == "postgresql":  # all three in one statement: WITH w0 AS (UPDATE …)
        assert tally.kinds["WITH"] == 1 and tally.total == 3, tally.kinds  # BEGIN, COMMIT
    else:
        assert tally.kinds["UPDATE conversations"] == 1, tally.kinds
        assert tally.kinds["UPDATE messages"] == 1 and tally.kinds["INSERT events"] == 1
    assert tally.kinds["pool reset"] == 0
    handled = await store.find_message("webchat", "m-1")
    assert handled is not None and handled.handled
    stored = await store.get_conversation(conversation.id)
    assert stored is not None and (stored.language, stored.category) == ("nl", "delivery")
    assert [e.type for e in await store.events(conversation_id=conversation.id)] == ["one", "two"]


async def test_a_transaction_reads_its_own_pending_writes(store: Store) -> None:
    conversation = await _conversation(store)
    async with store.db.transaction():
        await store.update_conversation(conversation.id, owner="queue")
        await store.add_event("bot", "seen", conversation_id=conversation.id)
        inside = await store.get_conversation(conversation.id)
        events = await store.events(conversation_id=conversation.id)
    assert inside is not None and inside.owner == "queue"
    assert [e.type for e in events] == ["seen"]


async def test_a_nested_transaction_joins_and_a_failure_undoes_both(store: Store) -> None:
    conversation = await _conversation(store)
    with pytest.raises(RuntimeError):
        async with store.unit(), store.db.transaction():
            await store.add_reply(conversation, author="bot", text="hi", kind="answer",
                                  reply_key="k:0")  # its own transaction joins this one
            await store.update_conversation(conversation.id, owner="queue")
            raise RuntimeError("the decision failed")
    assert [m for m in await store.messages(conversation.id)] == []
    assert await store.outbox_entries() == []
    after = await store.get_conversation(conversation.id)
    assert after is not None and after.owner == "bot"


async def test_after_commit_and_held_publications_wait_for_the_commit(store: Store) -> None:
    conversation = await _conversation(store)
    hub = Hub()
    queue = hub.subscribe("tickets")
    ran: list[str] = []
    with hub.held():
        async with store.db.transaction():
            hub.publish("tickets", {"n": 1})
            store.db.after_commit(lambda: ran.append("committed"))
            await store.update_conversation(conversation.id, owner="queue")
            assert queue.empty() and ran == []
        assert ran == ["committed"]
    assert queue.get_nowait() == {"n": 1}
    with pytest.raises(RuntimeError), hub.held():
        async with store.db.transaction():
            hub.publish("tickets", {"n": 2})
            store.db.after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("undone")
    assert queue.empty() and ran == ["committed"]


async def test_another_task_never_joins_the_units_open_transaction(store: Store) -> None:
    conversation = await _conversation(store)
    async with store.unit():
        async with store.db.transaction():
            await store.update_conversation(conversation.id, owner="queue")
            # A task started here (a claim renewal, a background job) works outside the
            # transaction: it does not see its uncommitted change, nor can it commit it.
            async def outside() -> str | None:
                row = await store.db.fetchone("SELECT owner FROM conversations WHERE id = ?",
                                              conversation.id)
                return row["owner"] if row else None

            if store.db.dialect == "postgresql":
                assert await asyncio.create_task(outside()) == "bot"
        # after the commit, on the unit's connection again
        assert await asyncio.create_task(outside()) == "queue"


async def test_one_unit_holds_one_connection_for_many_statements(store: Store) -> None:
    conversation = await _conversation(store)
    async with store.unit():
        with counting() as tally:
            for _ in range(5):
                await store.get_conversation(conversation.id)
    assert tally.total == 5  # no pool reset, no BEGIN/COMMIT around plain reads
