"""Call-backs and follow-ups in the SLA watcher's round: the assignee is reminded before a
call-back's window ends, and a ticket whose follow-up date has come goes back to its
assignee (a pending ticket is reopened, so it is in their work again).

Each sweep reads at most `batch` rows a round through its index, and every item is
claimed by one process with a conditional UPDATE: with several replicas, one reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog

from gateway.config.policy import SlaSettings
from gateway.delivery.notify import Hub
from gateway.models import Callback, utcnow
from gateway.store import Store, codec

log = structlog.get_logger(__name__)


class CallbackWatch:
    def __init__(self, store: Store, hub: Hub, settings: SlaSettings, batch: int = 100) -> None:
        self.store = store
        self.hub = hub
        self.settings = settings
        self.batch = batch

    async def run_once(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """One round; return the notifications published."""
        now = now or utcnow()
        ahead = timedelta(minutes=self.settings.callback_reminder_minutes)
        published = []
        for item in await self.store.claim_reminders(now + ahead, self.batch):
            published.append(await self._notify(item, "callback.reminder"))
        for item in await self.store.claim_follow_ups(now, self.batch):
            ticket = await self.store.get_ticket(item.ticket_id)
            if ticket is not None and ticket.status == "pending":
                await self.store.update_ticket(ticket.id, "sla", "ticket.reopened",
                                               {"reason": "follow-up date"}, status="open")
            published.append(await self._notify(item, "follow_up.due"))
        return published

    async def _notify(self, item: Callback, kind: str) -> dict[str, Any]:
        ticket = await self.store.get_ticket(item.ticket_id)
        assignee = await self.store.get_operator(ticket.assignee_id) \
            if ticket is not None and ticket.assignee_id else None
        data = {"callback_id": item.id, "until": codec.ts(item.window_end),
                "assignee": assignee.username if assignee else None}
        await self.store.add_event("sla", kind, ticket_id=item.ticket_id,
                                   conversation_id=ticket.conversation_id if ticket else None,
                                   data=data)
        note = {"type": kind, "ticket_id": item.ticket_id, **data}
        self.hub.publish("notifications", note)
        log.info(kind.replace(".", "_"), ticket_id=item.ticket_id, callback_id=item.id)
        return note
