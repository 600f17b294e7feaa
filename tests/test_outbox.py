"""The outbox: a reply survives failed sends, is retried, and is never sent twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.base import ConversationKey, Identity, Outbound
from gateway.errors import DeliveryError, DeliveryRetryLater, DeliveryUncertain
from gateway.notify import Hub
from gateway.outbox import OutboxWorker
from gateway.settings import OutboxSettings
from gateway.store import Store, store_for


class ScriptedChannel:
    """A channel whose sends fail as scripted, recording each delivery it accepted."""

    channel = "test"

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.delivered: list[Outbound] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(outbound)
        return {"channel_message_id": f"sent-{outbound.outbox_id}"}


async def setup(tmp_path: Path, channel: ScriptedChannel) -> tuple[Store, OutboxWorker]:
    store = store_for(f"sqlite:{tmp_path / 'o.db'}")
    await store.open()
    customer = await store.resolve_customer(Identity("test", "x"))
    conversation = await store.conversation_for(ConversationKey("test", "x"), customer.id, "en")
    await store.add_reply(conversation, author="bot", text="Your answer", kind="answer")
    settings = OutboxSettings(backoff=0.001, max_attempts=4, poll_interval=0.01)
    return store, OutboxWorker(store, {"test": channel}, settings, Hub())


async def send_until_settled(worker: OutboxWorker, rounds: int = 20) -> None:
    import asyncio

    for _ in range(rounds):
        await worker.run_once()
        await asyncio.sleep(0.01)


async def test_temporary_failures_are_retried_until_delivered_once(tmp_path: Path) -> None:
    channel = ScriptedChannel(DeliveryRetryLater("429"), ConnectionResetError("reset"))
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker)
        assert [o.text for o in channel.delivered] == ["Your answer"]
        (entry,) = await store.outbox_entries()
        assert entry.status == "sent" and entry.attempts == 3
        (message,) = await store.messages(entry.conversation_id)
        assert message.channel_message_id == f"sent-{entry.id}"
    finally:
        await store.close()


async def test_retry_after_from_the_channel_is_honoured(tmp_path: Path) -> None:
    channel = ScriptedChannel(DeliveryRetryLater("rate limited", retry_after=3600))
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker)
        assert channel.delivered == []
        (entry,) = await store.outbox_entries()
        assert entry.status == "pending" and entry.attempts == 1
    finally:
        await store.close()


async def test_uncertain_delivery_is_never_resent_blindly(tmp_path: Path) -> None:
    channel = ScriptedChannel(DeliveryUncertain("connection lost after DATA"))
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker)
        assert channel.delivered == []
        (entry,) = await store.outbox_entries()
        assert entry.status == "uncertain"
        events = await store.events(conversation_id=entry.conversation_id)
        assert [e.type for e in events] == ["delivery.uncertain"]
    finally:
        await store.close()


async def test_permanent_failure_is_recorded_not_retried(tmp_path: Path) -> None:
    channel = ScriptedChannel(DeliveryError("mailbox does not exist"))
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker)
        (entry,) = await store.outbox_entries()
        assert entry.status == "failed" and entry.last_error == "mailbox does not exist"
        assert entry.attempts == 1
    finally:
        await store.close()


async def test_rate_limits_never_exhaust_the_attempts(tmp_path: Path) -> None:
    channel = ScriptedChannel(*[DeliveryRetryLater("429", retry_after=0.001)] * 6)
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker, rounds=60)
        assert [o.text for o in channel.delivered] == ["Your answer"]
        (entry,) = await store.outbox_entries()
        assert entry.status == "sent" and entry.attempts == 7
    finally:
        await store.close()


async def test_gives_up_after_max_attempts(tmp_path: Path) -> None:
    channel = ScriptedChannel(*[DeliveryRetryLater("down")] * 10)
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker, rounds=60)
        (entry,) = await store.outbox_entries()
        assert entry.status == "failed" and entry.attempts == 4
    finally:
        await store.close()
