"""Campaigns: one template to an audience, at a rate, through the outbox, stoppable.

Each round spends the campaign's sending budget (`rate_per_minute` since `budget_at`,
taken by one replica with a conditional UPDATE) on its next pending recipients: opted-out
ones (the template's category, or `all`) are skipped, the others get one message on their
own channel (`channel_choice`), stored under `campaign:<id>:<recipient>` so that a pause,
a resume or a crash never sends a customer a second copy. Every message carries its
unsubscribe link (on e-mail also RFC 8058 `List-Unsubscribe` + `List-Unsubscribe-Post`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from gateway import signed_links
from gateway.background import background
from gateway.channels import Connector, ConversationKey
from gateway.config.settings import Settings
from gateway.errors import StoreError
from gateway.models import utcnow
from gateway.outreach.channel_choice import NoRoute, choose
from gateway.outreach.templates import Templates
from gateway.store import Store, codec

log = structlog.get_logger(__name__)

PURPOSE = "unsubscribe"
#: At most this many recipients a campaign a round, whatever the rate.
BATCH = 100
LINK_DAYS = 365


class CampaignRunner:
    def __init__(self, store: Store, connectors: Mapping[str, Connector], templates: Templates,
                 settings: Settings, wake: Callable[[], None], interval: float = 1.0) -> None:
        self.store = store
        self.connectors = connectors
        self.templates = templates
        self.settings = settings
        self.wake = wake
        self.interval = interval

    async def unsubscribe_url(self, recipient_id: int) -> str:
        secret = await self.store.link_secret()
        token = signed_links.sign(secret, PURPOSE, recipient_id,
                                  utcnow() + timedelta(days=LINK_DAYS))
        return f"{self.settings.server.public_url.rstrip('/')}/unsubscribe/{token}"

    async def unsubscribe(self, recipient_id: int) -> str | None:
        """Opt the recipient's customer out of the campaign template's category; the
        category, or None for an unknown recipient. Twice is the same as once."""
        recipient = await self.store.recipient(recipient_id)
        campaign = recipient and await self.store.campaign(recipient["campaign_id"])
        if recipient is None or campaign is None:
            return None
        template = self.templates.get(campaign["template_id"])
        category = template.category if template else "all"
        await self.store.set_opt_out(recipient["customer_id"], category, True)
        await self.store.mark_unsubscribed(recipient_id)
        log.info("campaign.unsubscribed", campaign_id=campaign["id"], category=category)
        return category

    async def run_once(self, now: datetime | None = None) -> int:
        """One round over the running campaigns; return how many recipients were taken."""
        now = now or utcnow()
        taken = 0
        for campaign in await self.store.running_campaigns(now):
            taken += await self._round(campaign, now)
        return taken

    async def _round(self, campaign: dict[str, Any], now: datetime) -> int:
        per_second = float(campaign["rate_per_minute"]) / 60
        since = max(codec.parse_ts(campaign["budget_at"]), now - timedelta(
            seconds=BATCH / per_second))  # an idle budget does not pile up past one batch
        allowed = min(BATCH, int((now - since).total_seconds() * per_second))
        if allowed < 1:
            return 0
        spent = since + timedelta(seconds=allowed / per_second)
        if not await self.store.take_budget(campaign["id"], campaign["budget_at"], spent):
            return 0  # another replica took this round
        recipients = await self.store.pending_recipients(campaign["id"], allowed)
        template = self.templates.get(campaign["template_id"])
        for recipient in recipients:
            await self._send(campaign, recipient, template)
        if recipients:
            self.wake()
        await self.store.finish_if_done(campaign["id"])
        return len(recipients)

    async def _send(self, campaign: dict[str, Any], recipient: dict[str, Any],
                    template: Any) -> None:
        store, rid = self.store, recipient["id"]
        customer = await store.get_customer(recipient["customer_id"])
        if template is None or customer is None:
            await store.mark_recipient(rid, "skipped", reason="no_template"
                                       if template is None else "erased")
            return
        if await store.opted_out(customer.id, template.category):
            await store.mark_recipient(rid, "skipped", reason="opted_out")
            return
        route = await choose(store, self.connectors, customer, "campaign", None)
        if isinstance(route, NoRoute):
            await store.mark_recipient(rid, "skipped", reason=route.reason)
            return
        company = self.settings.company
        rendered = template.render(customer.language, self.settings.languages.default, {
            "customer": {"name": customer.name}, "fields": {},
            "company": {"name": company.name, "email": company.email, "phone": company.phone}})
        url = await self.unsubscribe_url(rid)
        token = f"campaign-{campaign['id']}-{rid}"
        conversation = await store.conversation_for(
            ConversationKey(route.channel, route.connector.first_address(route.identity, token)),
            customer.id, rendered.language)
        message, _ = await store.add_reply(
            conversation, author="system", kind="notification",
            text=f"{rendered.body}\n\n{_UNSUBSCRIBE.get(rendered.language, 'Unsubscribe')}:"
                 f" {url}",
            meta={"subject": rendered.subject, "campaign_id": campaign["id"],
                  "language": rendered.language, "list_unsubscribe": url},
            reply_key=f"campaign:{campaign['id']}:{rid}")
        await store.mark_recipient(rid, "queued", conversation_id=conversation.id,
                                   message_id=message.id)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except StoreError as exc:
                log.error("campaigns.store_unavailable", error=str(exc))
            await asyncio.sleep(self.interval)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CampaignRunner]:
        async with background(self._loop, "campaigns"):
            yield self


_UNSUBSCRIBE = {"en": "Unsubscribe", "fr": "Se désabonner", "nl": "Uitschrijven",
                "de": "Abmelden"}
