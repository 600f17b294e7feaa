"""The survey's life: scheduled when a ticket is solved, answered once, a bad score acted on.

Sending is the sweep's job (`gateway.csat.sweep`); this module never sends anything itself
and is what every answering path calls (the e-mail page, the widget, Slack, the API).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import structlog

from gateway.config.csat import CsatSettings
from gateway.csat.tokens import SurveyClosed, SurveyError, sign, verify
from gateway.delivery.notify import Hub
from gateway.models import Survey, Ticket, utcnow
from gateway.storable import storable
from gateway.store import Store
from gateway.texts import Texts

log = structlog.get_logger(__name__)

#: Scores run 1 (very dissatisfied) to 5 (very satisfied).
SCALE = 5
#: An optional comment is a few lines at most.
MAX_COMMENT_CHARS = 2000


class Surveys:
    def __init__(self, store: Store, settings: CsatSettings, hub: Hub,
                 wake_outbox: Callable[[], None], public_url: str, texts: Texts) -> None:
        self.store = store
        self.texts = texts
        self.settings = settings
        self.hub = hub
        self.wake_outbox = wake_outbox
        self.public_url = public_url.rstrip("/")
        self._secret: str | None = None

    async def secret(self) -> str:
        """HELPDESK_CSAT__SECRET, or the random one this installation keeps in its database
        (drawn once: never empty, never a published demo value)."""
        if self._secret is None:
            configured = self.settings.secret
            self._secret = (configured.get_secret_value() if configured is not None else
                            await self.store.link_secret())
        return self._secret

    async def token(self, survey: Survey) -> str:
        expires = utcnow() + timedelta(days=self.settings.valid_days)
        return sign(await self.secret(), survey.id, expires)

    def url(self, token: str) -> str:
        return f"{self.public_url}/surveys/{token}"

    async def ticket_solved(self, ticket: Ticket) -> Survey | None:
        """Schedule the ticket's survey `delay_minutes` from now, when its channel gets
        surveys; the due time is stored, so a restart in between changes nothing."""
        conversation = await self.store.get_conversation(ticket.conversation_id)
        if conversation is None or not self.settings.on(conversation.channel):
            return None
        due = utcnow() + timedelta(minutes=self.settings.delay_minutes)
        scheduled = await self.store.schedule_survey(ticket, conversation.channel,
                                                     conversation.language or ticket.language,
                                                     due)
        if scheduled is not None:
            log.info("csat.scheduled", ticket_id=ticket.id, survey_id=scheduled.id,
                     channel=scheduled.channel)
        return scheduled

    async def survey_for(self, token: str) -> Survey:
        """The survey a genuine, unexpired token names (`SurveyError` otherwise)."""
        survey = await self.store.get_survey(verify(await self.secret(), token))
        if survey is None:
            raise SurveyClosed("no such survey")
        return survey

    async def answer(self, token: str, score: int, comment: str | None = None,
                     conversation_id: int | None = None) -> Survey:
        """Record the one answer of the survey `token` names. `conversation_id`, when the
        channel knows who answers (an API client), must be the survey's own."""
        survey = await self.survey_for(token)
        if conversation_id is not None and conversation_id != survey.conversation_id:
            raise SurveyClosed("this survey is not this conversation's")
        if not 1 <= score <= SCALE:
            raise SurveyError(f"a score is 1 to {SCALE}")
        comment = (comment or "").strip()[:MAX_COMMENT_CHARS] or None
        if comment is not None and not storable(comment):
            raise SurveyError("the comment holds characters that cannot be stored")
        answered = await self.store.answer_survey(survey.id, score, comment)
        if answered is None:
            raise SurveyClosed(f"survey {survey.id} is not waiting for an answer")
        await self._answered(answered)
        return answered

    async def _answered(self, survey: Survey) -> None:
        bad = survey.score is not None and survey.score <= self.settings.bad_score
        await self.store.add_event("customer", "csat.answered", ticket_id=survey.ticket_id,
                                   conversation_id=survey.conversation_id,
                                   data={"score": survey.score, "bad": bad})
        log.info("csat.answered", ticket_id=survey.ticket_id, survey_id=survey.id,
                 score=survey.score, bad=bad)
        if bad:
            await self._bad_score(survey)
        self.hub.publish(f"ticket:{survey.ticket_id}",
                         {"type": "ticket", "ticket_id": survey.ticket_id})

    async def _bad_score(self, survey: Survey) -> None:
        """Reopen the ticket and/or alert the supervisors, as `[csat]` says."""
        ticket = await self.store.get_ticket(survey.ticket_id)
        if ticket is None:
            return
        if self.settings.reopen_on_bad_score and ticket.status == "solved":
            ticket = await self.store.update_ticket(
                ticket.id, "csat", "ticket.open", {"reason": "bad satisfaction score",
                                                   "score": survey.score}, status="open")
        if self.settings.notify_on_bad_score:
            await self.store.add_event("csat", "csat.bad_score", ticket_id=ticket.id,
                                       conversation_id=ticket.conversation_id,
                                       data={"score": survey.score, "queue": ticket.queue})
            log.warning("csat.bad_score", ticket_id=ticket.id, queue=ticket.queue,
                        score=survey.score)
            # the SLA alarms' topic: open consoles refresh, the e-mail escalation and the
            # Slack operators' channel tell the supervisors
            self.hub.publish("notifications", {
                "type": "csat.bad_score", "ticket_id": ticket.id, "queue": ticket.queue,
                "score": survey.score, "comment": survey.comment or ""})
        self.hub.publish("tickets", {"type": "ticket", "ticket_id": ticket.id,
                                     "queue": ticket.queue})
