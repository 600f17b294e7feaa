"""What the bot can do with a turn: answer, ask which article, verify, hand off, report.

The decision rules (`gateway/bot/rules.py`) choose; these carry a choice out, each storing
its reply once (`reply_key`), so deciding a message again after a crash never sends the
customer a second copy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from gateway.bot import lookups
from gateway.bot.handoff_context import last_answer, subject_text
from gateway.bot.kb_service import KBSnapshot, KnowledgeService
from gateway.bot.turn import Turn
from gateway.calendar import moment_phrase, out_of_hours_notice
from gateway.config.settings import Settings
from gateway.delivery.notify import Hub
from gateway.directory import Directory
from gateway.integrations.client import Integrations
from gateway.models import Customer, Message, Ticket, utcnow
from gateway.store import Store
from gateway.texts import Texts
from gateway.tickets import notices
from gateway.tickets.handoff import open_or_reopen_ticket, subject_from
from gateway.tickets.priority import assess
from gateway.tickets.routing import Queue, auto_assign
from knowledge_base.decide import Decision
from knowledge_base.index import Match
from knowledge_base.render import render_answer
from knowledge_base.signals import MAX_SIGNAL_CHARS, frustration

#: An operator who wrote this recently is taken to be at work, whatever the office hours.
OPERATOR_AROUND = timedelta(hours=1)
#: From this frustration on (an angry word such as "furious" or "ridiculous", or shouting
#: with "!!"; not "!!" alone) an ordinary hand-off is worded without "Thank you". The
#: angrier ones (rules.FRUSTRATED) are handed off urgently before the KB is asked.
DISPLEASED = 0.4


class Bot:
    def __init__(self, store: Store, kb: KnowledgeService, settings: Settings, hub: Hub,
                 directory: Directory | None = None,
                 integrations: Integrations | None = None) -> None:
        self.store = store
        self.kb = kb
        self.settings = settings
        self.hub = hub
        #: The customer directory the bot verifies identities against (None: people do).
        self.directory = directory
        #: The back offices that articles' actions call (None: such articles hand off).
        self.integrations = integrations
        self.texts = Texts(settings.texts)

    async def reply(self, turn: Turn, *, text: str, kind: str,
                    meta: dict[str, Any] | None = None) -> None:
        """Store a bot reply to the message being handled, once: deciding the message again
        (a crash before it was marked handled) finds the reply instead of sending it twice."""
        outcome = turn.outcome
        reply, entry = await self.store.add_reply(
            turn.conversation, author="bot", text=text, kind=kind, meta=meta,
            reply_key=f"{outcome.message_id}:{len(outcome.replies)}")
        outcome.replies.append(reply)
        outcome.outbox.append(entry)

    async def say(self, turn: Turn, decision: str, text_id: str, kind: str = "smalltalk") -> bool:
        """One of the bot's own sentences (gateway/texts.py) as the whole decision."""
        await self.reply(turn, kind=kind, text=self.texts(text_id, turn.language))
        turn.outcome.decision = decision
        return True

    async def serve(self, turn: Turn, article_id: str, confidence: float,
                    attempts: Sequence[dict[str, Any]] = (),
                    slots: dict[str, str] | None = None) -> None:
        """The article the customer asked about, under its rules: an account-specific one
        only once their identity is verified (the bot asks for it when it has the customer
        directory, an operator does otherwise); a `handoff` one also goes to people; one
        with an `action` looks the answer up (`slots`: values kept from the question while
        the bot verified the customer)."""
        article = turn.kb.articles[article_id]
        unverified = article.requires_verification and not turn.conversation.verified_number
        if unverified and self.directory is not None:
            await self.reply(turn, kind="verify", text=self.texts("verify_ask", turn.language),
                             meta={"article_id": article.id, "failures": 0,
                                   "slots": lookups.prefill(article, turn.text)})
            turn.outcome.decision = "verify"
            return
        if article.handoff or unverified:
            if article.handoff and not unverified:
                await self.answer(turn, article.id, confidence, record=False)
            reason = "identity must be verified" if unverified else \
                "article requires an operator"
            await self.handoff(turn, reason, "handoff", attempts, article_id=article.id)
            return
        if article.action is not None:
            await lookups.start(self, turn, article, slots or {},
                                turn.text if slots is None else None)
            return
        await self.answer(turn, article.id, confidence)

    async def verify(self, turn: Turn, asked: Message, typed: tuple[str, str]) -> None:
        """The customer's answer to "your customer number and postal code, please"."""
        assert self.directory is not None
        article_id = str(asked.meta.get("article_id", ""))
        conversation = turn.conversation
        entry = self.directory.verify(*typed)
        if entry is None:
            failures = int(asked.meta.get("failures", 0)) + 1
            await self.store.add_event("bot", "verification.failed",
                                       conversation_id=conversation.id,
                                       data={"attempt": failures})
            if failures >= self.settings.customers.verification_attempts:
                await self.handoff(turn, "identity could not be verified", "handoff",
                                   article_id=article_id or None)
                return
            await self.reply(turn, kind="verify", text=self.texts("verify_retry", turn.language),
                             meta={"article_id": article_id, "failures": failures})
            turn.outcome.decision = "verify"
            return
        await self.store.update_conversation(conversation.id, verified_number=entry.number)
        await self.store.update_customer(turn.customer.id, number=entry.number)
        await self.store.add_event("bot", "verification.succeeded",
                                   conversation_id=conversation.id,
                                   data={"number": entry.number})
        turn.conversation = dataclasses.replace(conversation, verified_number=entry.number)
        turn.customer = dataclasses.replace(turn.customer, number=entry.number)
        await self.reply(turn, kind="verified", text=self.texts("verify_ok", turn.language))
        if article_id in turn.kb.articles:
            await self.serve(turn, article_id, 1.0, slots=dict(asked.meta.get("slots") or {}))
        else:
            turn.outcome.decision = "verified"

    async def acknowledge_out_of_hours(self, turn: Turn, ticket: Ticket) -> None:
        """While the desk is closed, tell a customer writing to people that their message is
        on the ticket and when the desk opens: once until it opens (the reply records that
        opening; later messages of the same night go on the ticket in silence), and not
        while an operator is talking with them anyway (one wrote in the last hour)."""
        calendar = self.settings.calendar.for_queue(ticket.queue)
        now = utcnow()
        opens = calendar.next_open(now)
        if opens <= now:
            return
        told = opens.isoformat()
        messages = await turn.history(self.store)
        if any((m.kind == "after_hours" and m.meta.get("opens") == told) or
               (m.author == "operator" and now - m.created_at < OPERATOR_AROUND)
               for m in messages):
            return
        language = turn.conversation.language
        await self.reply(turn, kind="after_hours", meta={"ticket_id": ticket.id, "opens": told},
                         text=self.texts("after_hours_ack", language, ticket=ticket.id,
                                         when=moment_phrase(calendar, opens, language)))

    async def report_status(self, turn: Turn, ticket: Ticket) -> None:
        """ "Any news?" while people own the conversation: where the ticket stands, at once,
        rather than silence until an operator gets to it (the message is on the ticket)."""
        language = turn.conversation.language
        operator = await self.store.get_operator(ticket.assignee_id) \
            if ticket.assignee_id else None
        status = self.texts("status_handled", language, operator=operator.display_name) \
            if operator else self.texts("status_waiting", language)
        await self.reply(turn, kind="status",
                         text=self.texts("status_report", language, ticket=ticket.id,
                                         status=status),
                         meta={"ticket_id": ticket.id})

    async def answer(self, turn: Turn, article_id: str, confidence: float,
                     record: bool = True) -> None:
        article = turn.kb.articles[article_id]
        used_language, translation = article.translation(turn.language)
        body = render_answer(translation.answer, self._render_context(turn.customer))
        await self.reply(
            turn, text=body, kind="answer",
            meta={"article_id": article_id, "confidence": round(confidence, 3),
                  "language": used_language, "title": translation.title},
        )
        turn.outcome.decision = "answer"
        if record:
            await self.store.update_conversation(turn.conversation.id,
                                                 last_article_id=article_id,
                                                 category=article.category)

    async def clarify(self, turn: Turn, decision: Decision) -> None:
        language, articles = turn.language, turn.kb.articles
        choices = [c for c in decision.choices if c in articles]
        titles = [articles[c].translation(language)[1].title for c in choices]
        lines = [self.texts("clarify", language)]
        lines += [f"{n}. {title}" for n, title in enumerate(titles, start=1)]
        lines.append(f"{len(titles) + 1}. {self.texts('none_of_these', language)}")
        lines.append(self.texts("clarify_hint", language))
        await self.reply(
            turn, text="\n".join(lines), kind="clarify",
            meta={"choices": choices, "titles": titles,
                  "none_label": self.texts("none_of_these", language)},
        )
        turn.outcome.decision = "clarify"

    async def handoff(self, turn: Turn, reason: str, template: str,
                      attempts: Sequence[dict[str, Any]] = (), urgent: bool = False,
                      article_id: str | None = None,
                      values: dict[str, object] | None = None) -> Ticket:
        conversation, outcome = turn.conversation, turn.outcome
        messages = await turn.history(self.store)
        latest = next((m.text[:MAX_SIGNAL_CHARS] for m in reversed(messages)
                       if m.direction == "inbound"), "")
        queue = self.queue_for(article_id, conversation.category)
        customer = turn.customer if turn.customer.id == conversation.customer_id \
            else await self.store.get_customer(conversation.customer_id)
        assessment = assess(latest, customer.segment if customer else None,
                            self.settings.priority, urgent=urgent)
        article = self.kb.snapshot.articles.get(article_id or conversation.last_article_id or "")
        title = article.translation(conversation.language or self.settings.languages.default)[
            1].title if article is not None else None
        answered = last_answer(messages)
        ticket = await open_or_reopen_ticket(
            self.store, self.hub, conversation, reason=reason, queue=queue,
            attempts=[{"reason": reason, "priority_reasons": list(assessment.reasons)},
                      *([answered] if answered else []), *attempts],
            subject=subject_from(subject_text(messages, title) or reason.capitalize()),
            priority=assessment.priority, take_over=False, first_contact=turn.first_contact,
        )
        if template == "handoff" and frustration(latest) >= DISPLEASED:
            template = "handoff_displeased"  # "I am furious": not "Thank you."
        text = self.texts(template, conversation.language, ticket=ticket.id,
                          **(values or {}))
        notice = out_of_hours_notice(self.settings.calendar.for_queue(ticket.queue), utcnow(),
                                     conversation.language)
        if notice:
            text = f"{text}\n\n{notice}"
        await self.reply(
            turn, kind="handoff", text=text,
            meta={"ticket_id": ticket.id, "reason": reason, "out_of_hours": bool(notice)},
        )
        # Only now do people own it (see `open_or_reopen_ticket`'s take_over).
        if conversation.owner == "bot":
            await self.store.update_conversation(conversation.id, owner="queue")
        if ticket.status == "new" and ticket.assignee_id is None:
            ticket = await self._auto_assign(ticket)
        outcome.ticket_id = ticket.id
        outcome.decision = "handoff"
        return ticket

    def queue_for(self, article_id: str | None, category: str | None) -> str:
        """The article's own queue, else its purpose category's queue, else the default."""
        article = self.kb.snapshot.articles.get(article_id) if article_id else None
        queues = {q.name for q in self.settings.queues}
        if article is not None and article.queue in queues:
            return article.queue
        purpose = article.category if article is not None else category
        return self.settings.category_queues.get(purpose or "", self.settings.default_queue)

    async def _auto_assign(self, ticket: Ticket) -> Ticket:
        """The least-loaded available operator who fits takes it; otherwise it stays queued."""
        queue = next((q for q in self.settings.queues if q.name == ticket.queue), None)
        assigned = await auto_assign(
            self.store, ticket, self.settings.calendar.calendar,
            queue=Queue(queue.name, frozenset(queue.languages), frozenset(queue.skills))
            if queue else None,
        )
        if assigned.assignee_id is not None:
            await self.store.update_conversation(ticket.conversation_id, owner="operator")
            await notices.notify(self.store, self.hub, assigned.assignee_id, "assigned",
                                 assigned, "routing", f"#{assigned.id} {assigned.subject}")
        return assigned

    def _render_context(self, customer: Customer) -> dict[str, dict[str, object]]:
        company = self.settings.company
        return {
            "customer": {"name": customer.name, "email": customer.email or "",
                         "number": customer.number or ""},
            "company": {"name": company.name, "email": company.email, "phone": company.phone},
        }


def attempts(match: Match, decision: Decision, kb: KBSnapshot) -> list[dict[str, Any]]:
    """What the bot tried, for the operator: the decision and the ranked candidates."""
    return [{
        "decision": decision.kind,
        "confidence": round(decision.confidence, 3),
        "language": match.language,
        "candidates": [
            {"article_id": c.article_id, "confidence": round(c.confidence, 3),
             "title": kb.articles[c.article_id].translation(match.language)[1].title
             if c.article_id in kb.articles else c.article_id}
            for c in match.candidates
        ],
    }]

