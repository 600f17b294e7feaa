"""Retention: personal data is erased once it is older than the company keeps it.

GDPR's storage limitation, and what EU companies ask of a helpdesk before they adopt it
(lessons-from-peers §9). Every `check_interval`, with `[retention]` set:
- conversations whose last activity (and their ticket's) is older than
  `conversations_days`, and whose ticket is closed, lose what was said in them
  (`personal_data.erase_content`: the records' shape stays for statistics);
- a customer with no conversation newer than that is erased entirely
  (`personal_data.erase`, actor `retention`);
- quarantined raw mail older than `quarantine_days` is deleted;
- operators' notifications read and older than `notifications_read_days` are deleted, and
  each operator's unread ones beyond the newest `notifications_unread_max` (on by default:
  they quote notes and customers' messages, and nothing else ever removes them).

Each pass does at most `BATCH` conversations and customers, so a first run on a large old
database is spread over several short transactions. Erasure is idempotent, so replicas
purging at the same time do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from gateway.background import background
from gateway.channels import ChannelState
from gateway.config.settings import RetentionSettings
from gateway.errors import StoreError
from gateway.models import utcnow
from gateway.privacy import personal_data
from gateway.store import Store, codec

log = structlog.get_logger(__name__)

#: Conversations (and customers) erased per pass at most.
BATCH = 500
#: Notifications deleted per statement, and statements per pass at most.
NOTIFICATION_BATCH = 1000
NOTIFICATION_BATCHES = 20


@dataclass(frozen=True)
class Purge:
    conversations: int = 0
    customers: int = 0
    quarantined: int = 0
    notifications: int = 0


async def purge(store: Store, settings: RetentionSettings, channels: Sequence[ChannelState] = (),
                now: datetime | None = None) -> Purge:
    """One pass; returns what it erased."""
    now = now or utcnow()
    conversations = customers = quarantined = 0
    if settings.conversations_days:
        cutoff = codec.ts(now - timedelta(days=settings.conversations_days))
        async with store.db.transaction() as tx:
            ids = [int(r["id"]) for r in await tx.fetchall(
                "SELECT c.id FROM conversations c WHERE c.updated_at < ?"
                " AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = c.id"
                "   AND (t.status <> 'closed' OR t.updated_at >= ?))"
                " AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id"
                "   AND m.text <> ?) ORDER BY c.id LIMIT ?",
                cutoff, cutoff, personal_data.ERASED, BATCH)]
            if ids:
                await personal_data.erase_content(tx, ids)
            conversations = len(ids)
        for row in await store.db.fetchall(
                "SELECT cu.id FROM customers cu WHERE cu.created_at < ? AND cu.name <> ?"
                " AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.customer_id = cu.id"
                "   AND (c.updated_at >= ? OR EXISTS (SELECT 1 FROM tickets t WHERE"
                "     t.conversation_id = c.id AND (t.status <> 'closed' OR t.updated_at >= ?))))"
                " ORDER BY cu.id LIMIT ?",
                cutoff, personal_data.ERASED, cutoff, cutoff, BATCH):
            await personal_data.erase(store, int(row["id"]), channels, actor="retention")
            customers += 1
    if settings.quarantine_days:
        before = now - timedelta(days=settings.quarantine_days)
        quarantined = sum([await c.expire_quarantine(store, before) for c in channels])
    notifications = 0
    if settings.notifications_read_days or settings.notifications_unread_max:
        read_before = (now - timedelta(days=settings.notifications_read_days)
                       if settings.notifications_read_days else None)
        notifications = await store.purge_notifications(
            read_before, settings.notifications_unread_max, NOTIFICATION_BATCH,
            NOTIFICATION_BATCHES)
    result = Purge(conversations, customers, quarantined, notifications)
    if result != Purge():
        log.info("retention.purged", conversations=conversations, customers=customers,
                 quarantined=quarantined, notifications=notifications)
    return result


@contextlib.asynccontextmanager
async def running(store: Store, settings: RetentionSettings,
                  channels: Sequence[ChannelState]) -> AsyncIterator[None]:
    """Purge every `check_interval` while the gateway runs (nothing when all is kept)."""
    if not (settings.conversations_days or settings.quarantine_days
            or settings.notifications_read_days or settings.notifications_unread_max):
        yield
        return

    async def loop() -> None:
        while True:
            try:
                await purge(store, settings, channels)
            except StoreError as exc:  # database down: try again at the next tick
                log.error("retention.store_unavailable", error=str(exc))
            await asyncio.sleep(settings.check_interval)

    async with background(loop, "retention"):
        yield
