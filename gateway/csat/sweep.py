"""The sweep that sends due surveys: bounded per round, leased in the database, and
through the outbox like every other message (stored first, delivered exactly once).

A survey is skipped, with the reason kept, when the ticket was reopened meanwhile, the
channel's surveys were turned off, the customer got one within `quiet_days`, or the
address is a machine's or refused (suppressed, bouncing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import structlog

from gateway.addresses import is_machine_address
from gateway.background import background
from gateway.channels import ChannelState, Suppressing
from gateway.csat.service import SCALE, Surveys
from gateway.errors import StoreError
from gateway.models import Conversation, Survey, utcnow

log = structlog.get_logger(__name__)

#: How long one sweep holds the surveys it took (a dead sweeper's come back after it).
LEASE = timedelta(minutes=5)


class SurveySweep:
    def __init__(self, surveys: Surveys, channel_states: Sequence[ChannelState] = ()) -> None:
        self.surveys = surveys
        self.store = surveys.store
        self.settings = surveys.settings
        self.texts = surveys.texts
        self.gates = [s for s in channel_states if isinstance(s, Suppressing)]

    async def run_once(self) -> int:
        """Send (or skip) at most `sweep_batch` due surveys; return how many were taken."""
        due = await self.store.claim_due_surveys(LEASE, self.settings.sweep_batch)
        for survey in due:
            conversation = await self.store.get_conversation(survey.conversation_id)
            reason = await self._skip_reason(survey, conversation)
            if reason is not None or conversation is None:
                await self.store.survey_skipped(survey.id, reason or "no conversation")
                log.info("csat.skipped", survey_id=survey.id, ticket_id=survey.ticket_id,
                         reason=reason)
                continue
            await self._send(survey, conversation)
        if due:
            self.surveys.wake_outbox()
        return len(due)

    async def _skip_reason(self, survey: Survey, conversation: Conversation | None) -> str | None:
        ticket = await self.store.get_ticket(survey.ticket_id)
        if ticket is None or conversation is None:
            return "the ticket or its conversation is gone"
        if ticket.status not in ("solved", "closed"):
            return f"the ticket is {ticket.status} again"
        if not self.settings.on(survey.channel):
            return f"surveys are off on {survey.channel}"
        since = utcnow() - timedelta(days=self.settings.quiet_days)
        if self.settings.quiet_days and await self.store.surveyed_since(survey.customer_id,
                                                                       since):
            return f"the customer had a survey within {self.settings.quiet_days:g} days"
        if not await self.store.has_human_message(conversation.id):
            return "only machines wrote in this conversation"
        customer = await self.store.get_customer(survey.customer_id)
        email = customer.email if customer else None
        if survey.channel == "email":
            if not email:
                return "the customer has no mail address"
            if is_machine_address(email):
                return "a machine's address"
            for gate in self.gates:
                refused = await gate.suppressed(self.store, email.lower())
                if refused:
                    return refused
        return None

    async def _send(self, survey: Survey, conversation: Conversation) -> None:
        token = await self.surveys.token(survey)
        language = survey.language
        message, entry = await self.store.add_reply(
            conversation, author="system", kind="survey",
            text=self.texts("csat_question", language, ticket=survey.ticket_id),
            meta={"ticket_id": survey.ticket_id, "survey": self._form(token, language)},
            reply_key=f"csat:{survey.id}",
        )
        await self.store.survey_sent(survey.id, message.id)
        await self.store.add_event("csat", "csat.sent", ticket_id=survey.ticket_id,
                                   conversation_id=conversation.id,
                                   data={"survey_id": survey.id, "outbox_id": entry.id})
        log.info("csat.sent", survey_id=survey.id, ticket_id=survey.ticket_id,
                 channel=survey.channel, outbox_id=entry.id)

    def _form(self, token: str, language: str | None) -> dict[str, Any]:
        """What a channel needs to show the question as buttons or links, in the
        customer's language, without reading any text table itself."""
        def text(name: str) -> str:
            return self.texts(name, language)

        return {"token": token, "url": self.surveys.url(token), "scale": SCALE,
                "low": text("csat_low"), "high": text("csat_high"),
                "comment": text("csat_comment"), "send": text("csat_send"),
                "thanks": text("csat_thanks"), "used": text("csat_used")}

    async def _loop(self) -> None:
        while True:
            try:
                while await self.run_once() >= self.settings.sweep_batch:
                    pass  # a backlog (after downtime): keep going, one bounded round at a time
            except StoreError as exc:  # database down: keep the loop, retry at the next tick
                log.error("csat.store_unavailable", error=str(exc))
            await asyncio.sleep(self.settings.sweep_interval)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SurveySweep]:
        if not self.settings.enabled:
            yield self
            return
        async with background(self._loop, "csat-sweep"):
            yield self
