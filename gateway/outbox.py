"""Durable delivery: every reply is in the outbox before it is sent, and sent by this worker.

A send that fails temporarily is retried with exponential backoff (or the channel's own
`Retry-After`); a permanent failure is recorded and visible; an ambiguous one (the channel
may have received it) is marked `uncertain` and never resent blindly. Entries are leased in
the database, so two gateway processes never send the same entry at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

import structlog

from connectors.base import Connector, ConversationKey, Outbound
from gateway.background import background
from gateway.errors import DeliveryError, DeliveryRetryLater, DeliveryUncertain, StoreError
from gateway.models import OutboxEntry, utcnow
from gateway.notify import Hub
from gateway.settings import OutboxSettings
from gateway.store import Store

log = structlog.get_logger(__name__)


class OutboxWorker:
    def __init__(self, store: Store, connectors: Mapping[str, Connector], settings: OutboxSettings,
                 hub: Hub) -> None:
        self.store = store
        self.connectors = connectors
        self.settings = settings
        self.hub = hub
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Send now instead of at the next poll (called right after a reply is persisted)."""
        self._wake.set()

    async def run_once(self) -> int:
        """Send every due entry once; return how many were attempted."""
        entries = await self.store.claim_outbox(
            self.owner, timedelta(seconds=self.settings.lease_seconds)
        )
        for entry in entries:
            await self._deliver(entry)
        return len(entries)

    async def _deliver(self, entry: OutboxEntry) -> None:
        connector = self.connectors.get(entry.channel)
        bound = log.bind(outbox_id=entry.id, conversation_id=entry.conversation_id,
                         channel=entry.channel, attempt=entry.attempts)
        if connector is None:
            await self._retry_or_fail(entry, f"no connector for channel {entry.channel!r}", None)
            bound.warning("outbox.no_connector")
            return
        outbound = Outbound(
            outbox_id=entry.id, message_id=entry.message_id,
            conversation_id=entry.conversation_id,
            key=ConversationKey(entry.channel, entry.address),
            text=entry.payload.get("text", ""), author=entry.payload.get("author", "bot"),
            kind=entry.payload.get("kind", ""), meta=entry.payload,
        )
        try:
            result = await connector.send(outbound)
        except DeliveryUncertain as exc:
            await self._give_up(entry, "uncertain", str(exc))
            bound.error("outbox.uncertain", error=str(exc))
            return
        except DeliveryRetryLater as exc:
            await self._retry_or_fail(entry, str(exc), exc.retry_after)
            bound.warning("outbox.retry", error=str(exc), retry_after=exc.retry_after)
            return
        except DeliveryError as exc:
            await self._give_up(entry, "failed", str(exc))
            bound.error("outbox.failed", error=str(exc))
            return
        except Exception as exc:  # an unexpected connector bug: keep the reply, try again later
            await self._retry_or_fail(entry, f"{type(exc).__name__}: {exc}", None)
            bound.exception("outbox.crashed")
            return
        await self.store.outbox_done(entry.id, result)
        if result and result.get("channel_message_id"):
            await self.store.set_message_channel_id(entry.message_id,
                                                    str(result["channel_message_id"]))
        bound.info("outbox.sent")

    async def _give_up(self, entry: OutboxEntry, status: str, error: str) -> None:
        """Stop trying (`failed` or `uncertain`) and say so on the conversation's record."""
        await self.store.outbox_give_up(entry.id, status, error)
        await self.store.add_event("system", f"delivery.{status}",
                                   conversation_id=entry.conversation_id,
                                   data={"outbox_id": entry.id, "error": error})

    async def _retry_or_fail(self, entry: OutboxEntry, error: str,
                             retry_after: float | None) -> None:
        # A channel that says when to come back (HTTP 429 Retry-After) is slowing us down, not
        # failing: such retries never exhaust the attempts, so a reply is never dropped.
        if retry_after is None and entry.attempts >= self.settings.max_attempts:
            await self._give_up(entry, "failed", error)
            return
        delay = min(self.settings.backoff * 2 ** (entry.attempts - 1), self.settings.max_backoff)
        if retry_after is not None:
            delay = max(delay, retry_after)
        await self.store.outbox_retry(entry.id, error, utcnow() + timedelta(seconds=delay))

    async def drain(self, grace: float) -> None:
        """At shutdown: send what is due now, within `grace` seconds."""
        with contextlib.suppress(TimeoutError, StoreError):
            async with asyncio.timeout(grace):
                while await self.run_once():
                    pass

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except StoreError as exc:  # database down: keep the loop, retry at the next tick
                log.error("outbox.store_unavailable", error=str(exc))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    @contextlib.asynccontextmanager
    async def running(self, grace: float) -> AsyncIterator[OutboxWorker]:
        try:
            async with background(self._loop(), "outbox"):
                yield self
        finally:
            await self.drain(grace)
