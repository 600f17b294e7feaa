"""The outbox: a reply survives failed sends, is retried, and is never sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway.channels import ConversationKey, Identity, Outbound
from gateway.config.settings import OutboxSettings
from gateway.delivery.notify import Hub
from gateway.delivery.outbox import OutboxWorker
from gateway.errors import DeliveryError, DeliveryRetryLater, DeliveryUncertain
from gateway.models import utcnow
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


async def setup(tmp_path: Path, channel: ScriptedChannel,
                retry_for: float = 3600.0) -> tuple[Store, OutboxWorker]:
    store = store_for(f"sqlite:{tmp_path / 'o.db'}")
    await store.open()
    customer = await store.resolve_customer(Identity("test", "x"))
    conversation = await store.conversation_for(ConversationKey("test", "x"), customer.id, "en")
    await store.add_reply(conversation, author="bot", text="Your answer", kind="answer")
    settings = OutboxSettings(backoff=0.001, max_backoff=0.002, retry_for_seconds=retry_for,
                              poll_interval=0.01)
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


async def test_an_outage_longer_than_eight_attempts_still_delivers(tmp_path: Path) -> None:
    # Eight attempts used to be the end: an SMTP outage of 5 minutes lost every reply.
    channel = ScriptedChannel(*[DeliveryRetryLater("down")] * 12,
                              *[DeliveryRetryLater("429", retry_after=0.001)] * 3)
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker, rounds=80)
        assert [o.text for o in channel.delivered] == ["Your answer"]
        (entry,) = await store.outbox_entries()
        assert entry.status == "sent" and entry.attempts == 16
    finally:
        await store.close()


async def test_fails_with_an_alert_after_the_retry_period_and_can_be_redriven(
        tmp_path: Path) -> None:
    channel = ScriptedChannel(*[DeliveryRetryLater("down")] * 3)
    store, worker = await setup(tmp_path, channel, retry_for=0.0001)
    try:
        await send_until_settled(worker)
        (entry,) = await store.outbox_entries()
        assert entry.status == "failed" and "down" in (entry.last_error or "")
        events = await store.events(conversation_id=entry.conversation_id)
        assert [e.type for e in events] == ["delivery.failed"]
        worker.settings = worker.settings.model_copy(update={"retry_for_seconds": 3600.0})
        assert [e.id for e in await worker.redrive([entry.id], "operator:1")] == [entry.id]
        await send_until_settled(worker)
        assert [o.text for o in channel.delivered] == ["Your answer"]
        assert (await store.outbox_entry(entry.id)).status == "sent"  # type: ignore[union-attr]
        assert await worker.redrive([entry.id], "operator:1") == []  # sent: left alone
    finally:
        await store.close()


class ResendingChannel(ScriptedChannel):
    """A channel whose receivers drop a resent copy (e-mail: the same Message-ID)."""

    resend_uncertain = True


async def test_an_uncertain_send_is_resent_once_where_copies_are_dropped(
        tmp_path: Path) -> None:
    channel = ResendingChannel(DeliveryUncertain("cut after DATA"))
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker)
        assert [o.outbox_id for o in channel.delivered] == [1]
        (entry,) = await store.outbox_entries()
        assert entry.status == "sent" and entry.resends == 1
    finally:
        await store.close()


async def test_an_uncertain_resend_is_not_resent_again(tmp_path: Path) -> None:
    channel = ResendingChannel(DeliveryUncertain("cut"), DeliveryUncertain("cut again"))
    store, worker = await setup(tmp_path, channel)
    try:
        await send_until_settled(worker)
        assert channel.delivered == []
        (entry,) = await store.outbox_entries()
        assert entry.status == "uncertain" and entry.attempts == 2
        events = await store.events(conversation_id=entry.conversation_id)
        assert [e.type for e in events] == ["delivery.resending", "delivery.uncertain"]
    finally:
        await store.close()


class HeldChannel(ScriptedChannel):
    """A channel whose sends to the addresses in `held` wait until `release` is set (a mail
    server taking its time), recording the sends started and how many ran at once."""

    def __init__(self, *held: str) -> None:
        super().__init__()
        self.held = set(held)
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.running = self.most_at_once = 0

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        self.started.append(outbound.text)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            if outbound.key.address in self.held:
                await self.release.wait()
            return await super().send(outbound)
        finally:
            self.running -= 1


async def until(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.01)
    assert check(), what


async def reply(store: Store, address: str, text: str) -> None:
    customer = await store.resolve_customer(Identity("test", address))
    conversation = await store.conversation_for(ConversationKey("test", address), customer.id,
                                                "en")
    await store.add_reply(conversation, author="bot", text=text, kind="answer")


async def test_a_slow_conversation_holds_back_no_other_and_keeps_its_own_order(
        tmp_path: Path) -> None:
    store = store_for(f"sqlite:{tmp_path / 'o.db'}")
    await store.open()
    channel, other_replica_channel = HeldChannel("slow"), ScriptedChannel()
    # Woken only: no poll comes between a reply stored and the other replica's round.
    settings = OutboxSettings(poll_interval=60)
    worker = OutboxWorker(store, {"test": channel}, settings, Hub())
    other_replica = OutboxWorker(store, {"test": other_replica_channel}, settings, Hub())
    try:
        await reply(store, "slow", "slow 1")
        await reply(store, "fast", "fast 1")
        async with worker.running(grace=5):
            worker.wake()
            await until(lambda: [o.text for o in channel.delivered] == ["fast 1"],
                        "the fast conversation's reply is sent while the slow one waits")
            assert channel.started[0] == "slow 1"
            # "slow 2" waits for "slow 1", on another replica of the same database too
            await reply(store, "slow", "slow 2")
            assert await other_replica.run_once() == 0
            await reply(store, "fast", "fast 2")
            worker.wake()
            await until(lambda: len(channel.delivered) == 2, "a later reply is not held either")
            assert [o.text for o in channel.delivered] == ["fast 1", "fast 2"]
            worker.wake()
            await asyncio.sleep(0.2)
            assert "slow 2" not in channel.started and other_replica_channel.delivered == []
            channel.release.set()
            await until(lambda: len(channel.delivered) == 4, "the slow conversation goes on")
        assert [o.text for o in channel.delivered][2:] == ["slow 1", "slow 2"]
        entries = await store.outbox_entries()
        assert [(e.status, e.attempts) for e in entries] == [("sent", 1)] * 4
    finally:
        await store.close()


async def test_at_most_max_parallel_conversations_are_sent_at_once(tmp_path: Path) -> None:
    store = store_for(f"sqlite:{tmp_path / 'o.db'}")
    await store.open()
    channel = HeldChannel(*(f"c{n}" for n in range(5)))
    worker = OutboxWorker(store, {"test": channel}, OutboxSettings(poll_interval=0.02,
                                                                   max_parallel=2), Hub())
    try:
        for n in range(5):
            await reply(store, f"c{n}", f"reply {n}")
        async with worker.running(grace=5):
            worker.wake()
            await until(lambda: len(channel.started) == 2, "two sends under way")
            await asyncio.sleep(0.2)  # several polls: no third one starts
            assert channel.started == ["reply 0", "reply 1"]
            channel.release.set()
            await until(lambda: len(channel.delivered) == 5, "all sent")
        assert channel.most_at_once == 2
    finally:
        await store.close()


async def test_a_send_longer_than_the_lease_is_not_sent_again_by_another_replica(
        tmp_path: Path) -> None:
    # The long fault run sent 2 replies twice: a send after an SMTP outage outlasted the
    # lease, and the other replica took the entry and sent it too. The lease is renewed
    # while a send runs, so only a dead worker's entry is ever taken over.
    store = store_for(f"sqlite:{tmp_path / 'o.db'}")
    await store.open()
    channel, other_replica_channel = HeldChannel("slow"), ScriptedChannel()
    settings = OutboxSettings(poll_interval=60, lease_seconds=0.3)
    worker = OutboxWorker(store, {"test": channel}, settings, Hub())
    other_replica = OutboxWorker(store, {"test": other_replica_channel}, settings, Hub())
    try:
        await reply(store, "slow", "slow 1")
        async with worker.running(grace=5):
            worker.wake()
            await until(lambda: channel.started == ["slow 1"], "the send has begun")
            for _ in range(5):  # more than three leases go by while the send runs
                await asyncio.sleep(0.25)
                assert await other_replica.run_once() == 0
            channel.release.set()
            await until(lambda: len(channel.delivered) == 1, "the slow send completes")
        assert other_replica_channel.delivered == []
        assert [(e.status, e.attempts) for e in await store.outbox_entries()] == [("sent", 1)]
    finally:
        await store.close()


class PushChannel(ScriptedChannel):
    """A channel that wants its replies sent right after their commit (as the web chat),
    recording into a list it may share with another replica's copy."""

    push_after_commit = True

    def __init__(self, delivered: list[Outbound]) -> None:
        super().__init__()
        self.delivered = delivered


async def test_pushed_replies_race_the_worker_of_another_replica_and_go_once_in_order(
        database_url: str) -> None:
    # `deliver_now` (the pipeline, right after a decision commits) against a replica's
    # worker claiming the same entries at the same moment: each reply is sent once, by
    # one of them, and a conversation's replies keep their order whoever sends them.
    store = store_for(database_url)
    await store.open()
    delivered: list[Outbound] = []
    settings = OutboxSettings(poll_interval=60)
    pusher = OutboxWorker(store, {"test": PushChannel(delivered)}, settings, Hub())
    other_replica = OutboxWorker(store, {"test": PushChannel(delivered)}, settings, Hub())
    try:
        customer = await store.resolve_customer(Identity("test", "race"))
        conversation = await store.conversation_for(ConversationKey("test", "race"),
                                                    customer.id, "en")
        texts: list[str] = []
        for n in range(15):
            entries = []
            for part in ("a", "b")[: 1 + n % 2]:  # one reply, or two of one decision
                texts.append(f"{n}{part}")
                entries.append((await store.add_reply(conversation, author="bot",
                                                      text=texts[-1], kind="answer"))[1])
            pusher.deliver_now(entries)
            await asyncio.gather(pusher.pushed(), other_replica.run_once())
        while await other_replica.run_once():  # what a race left to the worker
            pass
        assert [o.text for o in delivered] == texts
        entries = await store.outbox_entries()
        assert [(e.status, e.attempts) for e in entries] == [("sent", 1)] * len(texts)
    finally:
        await store.close()


async def test_a_reply_that_cannot_be_pushed_wakes_the_worker(tmp_path: Path) -> None:
    store = store_for(f"sqlite:{tmp_path / 'o.db'}")
    await store.open()
    delivered: list[Outbound] = []
    worker = OutboxWorker(store, {"test": PushChannel(delivered)},
                          OutboxSettings(poll_interval=60), Hub())
    try:
        customer = await store.resolve_customer(Identity("test", "x"))
        conversation = await store.conversation_for(ConversationKey("test", "x"),
                                                    customer.id, "en")
        async with worker.running(grace=5):
            await asyncio.sleep(0.1)  # the worker's first round is over: only a wake helps
            _, older = await store.add_reply(conversation, author="bot", text="older",
                                             kind="answer")
            await store.outbox_retry(older.id, "429", utcnow() + timedelta(hours=1))
            _, newer = await store.add_reply(conversation, author="bot", text="newer",
                                             kind="answer")
            worker.deliver_now([newer])  # not past the older one: the worker decides
            await worker.pushed()
            await until(lambda: [o.text for o in delivered] == ["newer"],
                        "the woken worker sends it (the older one is not due)")
    finally:
        await store.close()
