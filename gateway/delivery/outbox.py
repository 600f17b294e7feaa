"""Durable delivery: every reply is in the outbox before it is sent, and sent by this worker.

A send that fails temporarily is retried with capped exponential backoff (or the channel's
own `Retry-After`) for `retry_for_seconds` (24 h), then marked `failed` with an alert; a
permanent failure is `failed` at once. An ambiguous one (the channel may have received it)
is resent once where receivers drop copies (e-mail, same Message-ID), else `uncertain`.
Failed and uncertain entries are re-driven by an operator (ticket page, CLI). Entries are
leased in the database, so two gateway processes never send the same entry at once (the
lease is renewed while a send runs, however long it takes), and marked sent the moment the
channel accepted them, so a crash after that never resends (a database lost at that moment
is retried, the lease held meanwhile).

Conversations are sent in parallel, up to `max_parallel` at once, each by its own task in
the order of its entries: a slow channel or a customer's mail server that takes 20 s to
answer holds back that conversation only. A conversation being sent is not leased again
until its entry is settled (`claim_outbox`), so its replies never overtake each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog

from gateway.background import background
from gateway.channels import Connector, ConversationKey, Outbound
from gateway.config.settings import OutboxSettings
from gateway.delivery.notify import Hub
from gateway.errors import (
    DeliveryError,
    DeliveryRetryLater,
    DeliveryUncertain,
    StoreError,
    StoreUnavailable,
)
from gateway.models import OutboxEntry, utcnow
from gateway.store import Store
from gateway.telemetry import Telemetry

log = structlog.get_logger(__name__)


async def redrive(store: Store, entry_ids: list[int], actor: str) -> list[OutboxEntry]:
    """Put failed or uncertain entries back in line with a new retry period (an operator's
    or the CLI's call; a running worker takes them at its next poll), recorded on their
    conversations. An uncertain one may then arrive twice: that is the operator's call."""
    redriven = await store.outbox_redrive(entry_ids)
    for entry in redriven:
        await store.add_event(actor, "delivery.retried", conversation_id=entry.conversation_id,
                              data={"outbox_id": entry.id, "error": entry.last_error})
        log.info("outbox.redriven", outbox_id=entry.id, conversation_id=entry.conversation_id)
    return redriven


class OutboxWorker:
    def __init__(self, store: Store, connectors: Mapping[str, Connector], settings: OutboxSettings,
                 hub: Hub, telemetry: Telemetry | None = None) -> None:
        self.store = store
        self.telemetry = telemetry or Telemetry()
        self.connectors = connectors
        self.settings = settings
        self.hub = hub
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        #: The conversations this worker is sending, each by one task (its entries in order).
        self._sending: dict[int, asyncio.Task[None]] = {}
        #: The replies being pushed right after their commit (`deliver_now`).
        self._pushing: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Send now instead of at the next poll (called right after a reply is persisted)."""
        self._wake.set()

    def deliver_now(self, entries: Sequence[OutboxEntry]) -> None:
        """Right after the commit that stored `entries` (the pipeline's replies): send those
        of a channel that pushes after commit (`push_after_commit`: the web chat, a push to
        open sockets) at once, in a task of their own, instead of at the worker's next
        round; wake the worker for the others. Each is leased first by `claim_outbox`'s
        rule (`lease_outbox`), so exactly one worker of one replica sends it; one that
        cannot be leased (another worker has it, an older reply of its conversation
        waits), or anything going wrong, is left to the worker, woken. The task is not the
        caller's: the next message of the conversation, and its ack, do not wait for it."""
        push = sorted(e.id for e in entries
                      if getattr(self.connectors.get(e.channel), "push_after_commit", False))
        if len(push) < len(entries):
            self.wake()
        if not push:
            return
        # Still inside a transaction: not committed yet, so not before its commit.
        self.store.db.after_commit(functools.partial(self._push_soon, push))

    def _push_soon(self, entry_ids: list[int]) -> None:
        # A context of its own: not the caller's unit of work (its connection, its end).
        task = asyncio.create_task(self._push(entry_ids), name="outbox-push",
                                   context=contextvars.Context())
        self._pushing.add(task)
        task.add_done_callback(self._pushing.discard)

    async def _push(self, entry_ids: list[int]) -> None:
        try:
            async with self.store.unit():  # one connection for the lease and the marking
                leased = await self._lease_all(entry_ids)
                if not leased:  # the worker has one of them, or an older reply waits
                    self.wake()
                    return
                for entry in leased:
                    await self._deliver(entry)
        except Exception as exc:  # the database went away: the worker sends them later
            log.warning("outbox.push_failed", error=f"{type(exc).__name__}: {exc}",
                        outbox_ids=entry_ids)
            self.wake()

    async def pushed(self) -> None:
        """Wait for the pushes under way (`deliver_now`)."""
        while self._pushing:
            await asyncio.wait(list(self._pushing))

    async def _lease_all(self, entry_ids: list[int]) -> list[OutboxEntry]:
        """Lease all of `entry_ids` (one conversation's replies, in id order) or none.
        Last first: a `claim_outbox` racing this takes a first part of them (it leases
        in id order), never one in the middle, so their order holds whoever sends them;
        the leases already taken are given back when one fails."""
        lease = timedelta(seconds=self.settings.lease_seconds)
        leased: list[OutboxEntry] = []
        for entry_id in reversed(entry_ids):
            entry = await self.store.lease_outbox(entry_id, self.owner, lease, entry_ids)
            if entry is None:
                for taken in leased:
                    await self.store.release_outbox_lease(taken.id, self.owner)
                return []
            leased.append(entry)
        return leased[::-1]

    async def run_once(self) -> int:
        """Send every due entry once (conversations in parallel, each in order) and wait
        for those sends; return how many were attempted."""
        started = await self._start_due()
        if started:
            await asyncio.wait(started)
        return sum(len(entries) for entries in started.values())

    async def _start_due(self) -> dict[asyncio.Task[None], list[OutboxEntry]]:
        """Lease due entries for at most the free places of `max_parallel` and start one
        task per conversation that sends its entries in order; do not wait for them."""
        free = self.settings.max_parallel - len(self._sending)
        if free <= 0:
            return {}
        entries = await self.store.claim_outbox(
            self.owner, timedelta(seconds=self.settings.lease_seconds), limit=free)
        by_conversation: dict[int, list[OutboxEntry]] = {}
        for entry in entries:  # claimed in id order: each list is in its conversation's order
            by_conversation.setdefault(entry.conversation_id, []).append(entry)
        started: dict[asyncio.Task[None], list[OutboxEntry]] = {}
        for conversation_id, queued in by_conversation.items():
            before = self._sending.get(conversation_id)  # its last send just settled
            task = asyncio.create_task(self._send_in_order(queued, before),
                                       name=f"outbox-conversation-{conversation_id}")
            self._sending[conversation_id] = task
            task.add_done_callback(functools.partial(self._settled, conversation_id))
            started[task] = queued
        return started

    async def _send_in_order(self, entries: list[OutboxEntry],
                             before: asyncio.Task[None] | None) -> None:
        """Send one conversation's entries one after the other (after its previous task).
        The database down: the rest keep their lease and are sent again after it."""
        if before is not None:
            await asyncio.wait([before])
        for entry in entries:
            try:
                await self._deliver(entry)
            except StoreError as exc:
                log.error("outbox.store_unavailable", error=str(exc),
                          conversation_id=entry.conversation_id)
                return

    def _settled(self, conversation_id: int, task: asyncio.Task[None]) -> None:
        if self._sending.get(conversation_id) is task:
            del self._sending[conversation_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox.task_failed", conversation_id=conversation_id,
                      error=repr(task.exception()))
        self.wake()  # a place is free, and the conversation's next reply may be due

    async def _deliver(self, entry: OutboxEntry) -> None:
        connector = self.connectors.get(entry.channel)
        bound = log.bind(outbox_id=entry.id, conversation_id=entry.conversation_id,
                         channel=entry.channel, attempt=entry.attempts)
        if connector is None:
            await self._retry_or_fail(entry, f"no connector for channel {entry.channel!r}", None)
            bound.warning("outbox.no_connector")
            return
        sent = False

        async def accepted(result: dict[str, Any] | None) -> None:
            nonlocal sent
            if not sent:
                sent = True
                await self._mark_sent(entry, result,
                                      recorded=getattr(connector, "records_message_id", False))
                self._count(entry, "sent")

        progress = dict(entry.result)

        async def record(facts: dict[str, Any]) -> None:
            progress.update(facts)
            await self.store.outbox_progress(entry.id, progress)

        outbound = Outbound(
            outbox_id=entry.id, message_id=entry.message_id,
            conversation_id=entry.conversation_id,
            key=ConversationKey(entry.channel, entry.address),
            text=entry.payload.get("text", ""), author=entry.payload.get("author", "bot"),
            kind=entry.payload.get("kind", ""), meta=entry.payload, accepted=accepted,
            progress=dict(progress), record=record,
        )
        holding = asyncio.create_task(self._hold(entry))
        try:
            result = await connector.send(outbound)
            await accepted(result)  # held until written down, as a slow send is
        except Exception as exc:
            holding.cancel()  # before the entry is settled, so no renewal comes after
            if sent:  # delivered; what failed after it changes nothing
                bound.warning("outbox.after_send_failed", error=f"{type(exc).__name__}: {exc}")
                return
            await self._failed_attempt(entry, connector, exc, bound)
            return
        finally:
            holding.cancel()
        bound.info("outbox.sent")

    async def _hold(self, entry: OutboxEntry) -> None:
        """Renew the entry's lease every third of it while its send runs: a send that takes
        longer than the lease (a mail server slow after an outage) must not let another
        replica take the entry and send it too. A worker that dies stops renewing, so its
        entries are taken over one lease later, as before."""
        lease = timedelta(seconds=self.settings.lease_seconds)
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            try:
                if not await self.store.extend_outbox_lease(entry.id, self.owner, lease):
                    return  # settled meanwhile (accepted), or no longer ours
            except StoreError as exc:  # the database is away: the lease may lapse
                log.warning("outbox.lease_not_renewed", outbox_id=entry.id, error=str(exc))

    async def _failed_attempt(self, entry: OutboxEntry, connector: Connector, exc: Exception,
                              bound: Any) -> None:
        if isinstance(exc, DeliveryUncertain):
            await self._uncertain(entry, connector, str(exc), bound)
        elif isinstance(exc, DeliveryRetryLater):
            await self._retry_or_fail(entry, str(exc), exc.retry_after)
            bound.warning("outbox.retry", error=str(exc), retry_after=exc.retry_after)
        elif isinstance(exc, DeliveryError):
            await self._give_up(entry, "failed", str(exc))
        else:  # an unexpected connector bug: keep the reply, try again later
            await self._retry_or_fail(entry, f"{type(exc).__name__}: {exc}", None)
            bound.error("outbox.crashed", error=f"{type(exc).__name__}: {exc}")

    async def _mark_sent(self, entry: OutboxEntry, result: dict[str, Any] | None, *,
                         recorded: bool = False) -> None:
        """`recorded`: the connector wrote the message's channel id itself before the send
        (e-mail: its Message-ID), so it is not written a second time."""
        await self._record_sent(entry, result)
        if result and result.get("channel_message_id") and not recorded:
            await self.store.set_message_channel_id(entry.message_id,
                                                    str(result["channel_message_id"]))
        # A conversation the company started has its channel address only now (a Slack
        # thread is the ts of its first message): the customer's answers must find it.
        if result and result.get("address") and result["address"] != entry.address:
            await self.store.readdress_conversation(entry.conversation_id,
                                                    str(result["address"]))

    async def _record_sent(self, entry: OutboxEntry, result: dict[str, Any] | None) -> None:
        """The channel has the reply: write that down, whatever it takes. Until it is
        written the entry looks unsent and is sent again one lease later (issue 11's long
        run: a connection killed under this UPDATE sent two replies twice), so a lost
        database is retried for the retry period while `_hold` keeps the lease."""
        delay, waited = 0.1, 0.0
        while True:
            try:
                await self.store.outbox_done(entry.id, result)
                return
            except StoreUnavailable as exc:
                if waited >= self.settings.retry_for_seconds:
                    raise
                log.warning("outbox.mark_sent_retry", outbox_id=entry.id, error=str(exc))
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 1.0)

    async def _uncertain(self, entry: OutboxEntry, connector: Connector, error: str,
                         bound: Any) -> None:
        """Lost after the channel may have taken it. A channel whose receivers drop a copy
        (e-mail: the resend carries the same Message-ID) gets one resend; otherwise, or when
        the resend is uncertain too, people decide (the ticket shows it with a button)."""
        if getattr(connector, "resend_uncertain", False) and entry.resends == 0:
            await self.store.outbox_retry(entry.id, error, utcnow() + timedelta(
                seconds=self.settings.backoff), resend=True)
            self._count(entry, "resend")
            await self.store.add_event("system", "delivery.resending",
                                       conversation_id=entry.conversation_id,
                                       data={"outbox_id": entry.id, "error": error})
            bound.warning("outbox.uncertain_resend", error=error)
            return
        await self._give_up(entry, "uncertain", error)

    async def _give_up(self, entry: OutboxEntry, status: str, error: str) -> None:
        """Stop trying (`failed` or `uncertain`) and raise the alert: an error log event and
        an event on the conversation, which the ticket page shows with a resend button."""
        await self.store.outbox_give_up(entry.id, status, error)
        self._count(entry, status)
        await self.store.add_event("system", f"delivery.{status}",
                                   conversation_id=entry.conversation_id,
                                   data={"outbox_id": entry.id, "error": error})
        log.error(f"outbox.{status}", outbox_id=entry.id, conversation_id=entry.conversation_id,
                  channel=entry.channel, attempts=entry.attempts, error=error[:300])
        self.hub.publish(f"conversation:{entry.conversation_id}",
                         {"type": "delivery", "status": status, "outbox_id": entry.id})

    async def _retry_or_fail(self, entry: OutboxEntry, error: str,
                             retry_after: float | None) -> None:
        """Back off (doubling, capped; at least the channel's own `Retry-After`) until the
        retry period is over: an outage of hours loses no reply."""
        since = entry.retry_since or entry.created_at
        if utcnow() - since >= timedelta(seconds=self.settings.retry_for_seconds):
            await self._give_up(entry, "failed", f"retried for {self.settings.retry_for_seconds:g}"
                                f" s, last error: {error}")
            return
        exponent = min(max(entry.attempts - 1, 0), 30)  # 2**30 s is already past any cap
        delay = min(self.settings.backoff * 2 ** exponent, self.settings.max_backoff)
        if retry_after is not None:
            delay = max(delay, retry_after)
        await self.store.outbox_retry(entry.id, error, utcnow() + timedelta(seconds=delay))
        self._count(entry, "retry")

    def _count(self, entry: OutboxEntry, status: str) -> None:
        """`helpdesk_messages_out_total`: the channel is a configured connector's name or
        one unknown one (an entry left by a channel since disabled)."""
        channel = entry.channel if entry.channel in self.connectors else "unknown"
        self.telemetry.messages_out.labels(channel, status).inc()

    async def redrive(self, entry_ids: list[int], actor: str) -> list[OutboxEntry]:
        """`redrive`, then send at once."""
        redriven = await redrive(self.store, entry_ids, actor)
        if redriven:
            self.wake()
        return redriven

    async def drain(self, grace: float) -> None:
        """At shutdown: finish the sends under way and send what is due now, within `grace`
        seconds; a send still running then is cancelled (its lease lets another worker or
        the next start send it)."""
        with contextlib.suppress(TimeoutError, StoreError):
            async with asyncio.timeout(grace):
                await self.pushed()
                if self._sending:
                    await asyncio.wait(list(self._sending.values()))
                while await self.run_once():
                    pass
        sending = [*self._sending.values(), *self._pushing]
        for task in sending:
            task.cancel()
        await asyncio.gather(*sending, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self._start_due()
            except StoreError as exc:  # database down: keep the loop, retry at the next tick
                log.error("outbox.store_unavailable", error=str(exc))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    @contextlib.asynccontextmanager
    async def running(self, grace: float) -> AsyncIterator[OutboxWorker]:
        try:
            async with background(self._loop, "outbox"):
                yield self
        finally:
            await self.drain(grace)
