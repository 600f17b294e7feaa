"""The inbound pipeline: one customer message in, the bot's decision and replies out.

persist (idempotent) → customer and conversation → language → people own it? →
clarification choice / negative feedback / asks for a human → KB match → answer, clarify or
hand off → replies persisted in the outbox. `handle` needs no HTTP: every connector and
every test drives the same entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from connectors.base import ConversationKey, Identity, Inbound
from gateway.background import background
from gateway.calendar import out_of_hours_notice
from gateway.claims import CLAIM, SWEEP_EVERY, holding, new_owner
from gateway.directory import Directory, credentials
from gateway.handoff import open_or_reopen_ticket, subject_from
from gateway.handoff_context import last_answer, subject_text
from gateway.kb_service import KBSnapshot, KnowledgeService
from gateway.locks import KeyedLocks
from gateway.models import Conversation, Customer, Message, Ticket, utcnow
from gateway.notify import Hub
from gateway.priority import assess
from gateway.routing import Queue, auto_assign
from gateway.settings import Settings
from gateway.smalltalk import small_talk
from gateway.store import Store
from gateway.texts import Texts
from knowledge_base.decide import Decision, decide
from knowledge_base.index import Match
from knowledge_base.language import detect_language
from knowledge_base.render import render_answer
from knowledge_base.signals import (
    MAX_SIGNAL_CHARS,
    asks_for_status,
    frustration,
    negative_feedback,
    wants_human,
)

log = structlog.get_logger(__name__)

#: Below this many letters language detection guesses; keep the conversation's language.
_MIN_DETECT_LETTERS = 12
_FRUSTRATED = 0.7


@dataclass
class Outcome:
    """What happened to one inbound message (what the API channel returns)."""

    conversation_id: int
    message_id: int
    duplicate: bool = False
    replies: list[Message] = field(default_factory=list)
    ticket_id: int | None = None
    decision: str | None = None


class Pipeline:
    def __init__(self, store: Store, kb: KnowledgeService, settings: Settings, hub: Hub,
                 wake_outbox: Callable[[], None] = lambda: None,
                 directory: Directory | None = None) -> None:
        self.store = store
        #: The customer directory the bot verifies identities against (None: people do).
        self.directory = directory
        self.texts = Texts(settings.texts)
        self.kb = kb
        self.settings = settings
        self.hub = hub
        self.wake_outbox = wake_outbox
        self.locks = KeyedLocks()

    async def handle(self, inbound: Inbound) -> Outcome:
        customer = await self.store.resolve_customer(inbound.sender)
        conversation = await self.store.conversation_for(
            inbound.key, customer.id, inbound.language or customer.language
        )
        async with self.locks.hold(conversation.id):
            conversation = await self.store.get_conversation(conversation.id) or conversation
            message, new = await self.store.add_inbound(
                conversation, inbound.text, inbound.channel_message_id,
                {**inbound.meta, "automated": inbound.automated} if inbound.automated
                else inbound.meta, claim=CLAIM,
            )
            outcome = Outcome(conversation.id, message.id, duplicate=not new)
            # A retry of a message whose handling was cut short (database outage, crash) is
            # decided again once its first claim expired or was released, so it is never
            # left unanswered; while another handler may still be at work it only gets what
            # exists so far.
            owner = new_owner()
            if not await self.store.reclaim_unhandled(message.id, CLAIM, owner, fresh=new):
                return await self._replay(outcome)
            await holding(self.store, message.id, owner,
                          self._process(inbound, customer, conversation, outcome))
        return outcome

    async def resume_unhandled(self) -> int:
        """Finish stored messages whose handling died with its claim (crash, outage).

        Run every `SWEEP_EVERY` seconds, so a customer message is answered or handed off
        even when the channel never resends it. Returns how many were resumed.
        """
        resumed = 0
        for message in await self.store.unhandled_messages():
            conversation = await self.store.get_conversation(message.conversation_id)
            owner = new_owner()
            if conversation is None or \
                    not await self.store.reclaim_unhandled(message.id, CLAIM, owner):
                continue
            customer = await self.store.get_customer(conversation.customer_id)
            assert customer is not None
            inbound = Inbound(
                key=ConversationKey(conversation.channel, conversation.address),
                sender=Identity(conversation.channel, conversation.address, customer.name),
                text=message.text, channel_message_id=message.channel_message_id or "",
                automated=message.meta.get("automated"), meta=message.meta,
            )
            async with self.locks.hold(conversation.id):
                await holding(self.store, message.id, owner,
                              self._process(inbound, customer, conversation,
                                            Outcome(conversation.id, message.id)))
            resumed += 1
        return resumed

    async def _process(self, inbound: Inbound, customer: Customer, conversation: Conversation,
                       outcome: Outcome) -> None:
        """Language, decision, replies; the message is `handled` only once all is stored."""
        self.hub.publish(f"conversation:{conversation.id}",
                         {"type": "message", "message_id": outcome.message_id})
        language = self._language(inbound, conversation)
        if language != conversation.language:
            await self.store.update_conversation(conversation.id, language=language)
            conversation = dataclasses.replace(conversation, language=language)
        await self._decide(inbound, customer, conversation, outcome)
        await self.store.mark_handled(outcome.message_id)
        if outcome.replies:
            self.wake_outbox()
        log.info("pipeline.handled", conversation_id=conversation.id,
                 message_id=outcome.message_id, decision=outcome.decision,
                 ticket_id=outcome.ticket_id)

    @contextlib.asynccontextmanager
    async def resuming(self, interval: float = SWEEP_EVERY) -> AsyncIterator[Pipeline]:
        """Background sweep for `resume_unhandled` while the gateway runs: at once (a
        restart finds what the previous process left), then every `interval` seconds."""
        async def sweep() -> None:
            while True:
                try:
                    await self.resume_unhandled()
                except Exception as exc:  # the sweep must outlive one bad message
                    log.error("pipeline.resume_failed", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(interval)

        async with background(sweep(), "pipeline-resume"):
            yield self

    async def _replay(self, outcome: Outcome) -> Outcome:
        """A resent message gets the replies the first copy got, and nothing new."""
        later = await self.store.messages(outcome.conversation_id, after_id=outcome.message_id)
        for message in later:
            if message.direction == "inbound":
                break
            outcome.replies.append(message)
        ticket = await self.store.open_ticket_of(outcome.conversation_id)
        outcome.ticket_id = ticket.id if ticket else None
        return outcome

    def _language(self, inbound: Inbound, conversation: Conversation) -> str:
        supported = self.settings.languages.supported
        if inbound.language in supported:
            return inbound.language
        text = inbound.text[:MAX_SIGNAL_CHARS]  # a few sentences tell; an e-mail can be MBs
        letters = sum(ch.isalpha() for ch in text)
        if conversation.language and letters < _MIN_DETECT_LETTERS:
            return conversation.language
        # the channel's hint (the visitor's browser language) when the text says too little
        hint = inbound.meta.get("language_hint")
        fallback = conversation.language or (hint if hint in supported else None) \
            or self.settings.languages.default
        detected = detect_language(text, default=fallback)
        return detected if detected in supported else fallback

    async def _decide(self, inbound: Inbound, customer: Customer, conversation: Conversation,
                      outcome: Outcome) -> None:
        if inbound.automated:
            outcome.decision = "ignored"
            await self.store.add_event("system", "message.automated",
                                       conversation_id=conversation.id,
                                       data={"reason": inbound.automated})
            return
        if conversation.owner != "bot":
            outcome.decision = "people"
            ticket = await open_or_reopen_ticket(
                self.store, self.hub, conversation, reason="customer replied",
                queue=self.settings.default_queue,
                attempts=[], subject=subject_from(inbound.text),
            )
            outcome.ticket_id = ticket.id
            if asks_for_status(inbound.text):
                await self._report_status(conversation, outcome, ticket)
            return
        kb = self.kb.snapshot
        # The KB and the signals read a bounded prefix (an e-mail can be megabytes long);
        # the stored message keeps the whole text for the operator.
        text = inbound.text[:MAX_SIGNAL_CHARS]
        language = conversation.language or self.settings.languages.default
        last_bot = await self._last_bot_message(conversation.id, before=outcome.message_id)

        action = inbound.meta.get("action")
        if action == "helpful":
            outcome.decision = "feedback"
            await self.store.add_event("customer", "answer.helpful",
                                       conversation_id=conversation.id,
                                       data={"article_id": conversation.last_article_id})
            return
        if action == "not_helpful":
            await self._handoff(conversation, outcome, "answer did not help", "handoff_sorry", [],
                                article_id=conversation.last_article_id)
            return
        chosen = _clarification_choice(text, last_bot)
        if chosen == "none":
            await self._handoff(conversation, outcome, "none of the choices", "handoff", [])
            return
        if chosen:
            await self._serve(kb, customer, conversation, outcome, chosen, 1.0, language, [])
            return
        if last_bot is not None and last_bot.kind == "verify" and self.directory is not None:
            typed = credentials(text)
            if typed is not None:  # otherwise they asked something else: read it as such
                await self._verify(kb, customer, conversation, outcome, last_bot, typed,
                                   language)
                return
        if last_bot is not None and last_bot.kind == "answer" and negative_feedback(text):
            await self._handoff(conversation, outcome, "answer did not help", "handoff_sorry", [])
            return
        if not inbound.attachments and not any(ch.isalnum() for ch in text):
            # "???", "👍", "…": nothing to answer or to hand to a person (and a cheap flood)
            await self._reply(conversation, outcome, kind="smalltalk",
                              text=self.texts("ask_what_needed", language))
            outcome.decision = "nothing_to_answer"
            return
        if wants_human(text):
            await self._handoff(conversation, outcome, "asked for a human", "handoff_human", [])
            return
        chat = small_talk(text)
        if chat is not None:
            await self._reply(conversation, outcome, kind="smalltalk",
                              text=self.texts(f"smalltalk_{chat}", language))
            outcome.decision = "smalltalk"
            return

        match = kb.matcher.match(text, language, previous_article_id=conversation.last_article_id)
        decision = decide(match, self.kb.thresholds)
        attempts = _attempts(match, decision, kb)
        if frustration(text) >= _FRUSTRATED:
            # an angry customer is not thanked: the reply says sorry (gateway/texts.py)
            await self._handoff(conversation, outcome, "customer frustrated", "handoff_upset",
                                attempts,
                                urgent=True, article_id=decision.article_id)
        elif decision.kind == "answer" and decision.article_id:
            await self._serve(kb, customer, conversation, outcome, decision.article_id,
                              decision.confidence, language, attempts)
        elif decision.kind == "clarify":
            await self._clarify(kb, conversation, outcome, decision, language)
        else:
            await self._handoff(conversation, outcome, "no confident answer", "handoff", attempts,
                                article_id=decision.article_id)

    async def _serve(self, kb: KBSnapshot, customer: Customer, conversation: Conversation,
                     outcome: Outcome, article_id: str, confidence: float, language: str,
                     attempts: list[dict[str, Any]]) -> None:
        """The article the customer asked about, under its rules: an account-specific one
        only once their identity is verified (the bot asks for it when it has the customer
        directory, an operator does otherwise); a `handoff` one also goes to people."""
        article = kb.articles[article_id]
        unverified = article.requires_verification and not conversation.verified_number
        if unverified and self.directory is not None:
            await self._reply(conversation, outcome, kind="verify",
                              text=self.texts("verify_ask", language),
                              meta={"article_id": article.id, "failures": 0})
            outcome.decision = "verify"
            return
        if article.handoff or unverified:
            if article.handoff and not unverified:
                await self._answer(kb, customer, conversation, outcome, article.id, confidence,
                                   language, record=False)
            reason = "identity must be verified" if unverified else \
                "article requires an operator"
            await self._handoff(conversation, outcome, reason, "handoff", attempts,
                                article_id=article.id)
            return
        await self._answer(kb, customer, conversation, outcome, article.id, confidence, language)

    async def _verify(self, kb: KBSnapshot, customer: Customer, conversation: Conversation,
                      outcome: Outcome, asked: Message, typed: tuple[str, str],
                      language: str) -> None:
        """The customer's answer to "your customer number and postal code, please"."""
        assert self.directory is not None
        article_id = str(asked.meta.get("article_id", ""))
        entry = self.directory.verify(*typed)
        if entry is None:
            failures = int(asked.meta.get("failures", 0)) + 1
            await self.store.add_event("bot", "verification.failed",
                                       conversation_id=conversation.id,
                                       data={"attempt": failures})
            if failures >= self.settings.customers.verification_attempts:
                await self._handoff(conversation, outcome, "identity could not be verified",
                                    "handoff", [], article_id=article_id or None)
                return
            await self._reply(conversation, outcome, kind="verify",
                              text=self.texts("verify_retry", language),
                              meta={"article_id": article_id, "failures": failures})
            outcome.decision = "verify"
            return
        await self.store.update_conversation(conversation.id, verified_number=entry.number)
        await self.store.update_customer(customer.id, number=entry.number)
        await self.store.add_event("bot", "verification.succeeded",
                                   conversation_id=conversation.id,
                                   data={"number": entry.number})
        conversation = dataclasses.replace(conversation, verified_number=entry.number)
        customer = dataclasses.replace(customer, number=entry.number)
        await self._reply(conversation, outcome, kind="verified",
                          text=self.texts("verify_ok", language))
        if article_id in kb.articles:
            await self._serve(kb, customer, conversation, outcome, article_id, 1.0, language, [])
        else:
            outcome.decision = "verified"

    async def _report_status(self, conversation: Conversation, outcome: Outcome,
                             ticket: Ticket) -> None:
        """ "Any news?" while people own the conversation: where the ticket stands, at once,
        rather than silence until an operator gets to it (the message is on the ticket)."""
        language = conversation.language
        operator = await self.store.get_operator(ticket.assignee_id) \
            if ticket.assignee_id else None
        status = self.texts("status_handled", language, operator=operator.display_name) \
            if operator else self.texts("status_waiting", language)
        await self._reply(conversation, outcome, kind="status",
                          text=self.texts("status_report", language, ticket=ticket.id,
                                        status=status),
                          meta={"ticket_id": ticket.id})

    async def _reply(self, conversation: Conversation, outcome: Outcome, *, text: str,
                     kind: str, meta: dict[str, Any] | None = None) -> None:
        """Store a bot reply to the message being handled, once: deciding the message again
        (a crash before it was marked handled) finds the reply instead of sending it twice."""
        reply, _ = await self.store.add_reply(
            conversation, author="bot", text=text, kind=kind, meta=meta,
            reply_key=f"{outcome.message_id}:{len(outcome.replies)}")
        outcome.replies.append(reply)

    async def _last_bot_message(self, conversation_id: int, before: int) -> Message | None:
        """The bot's last word before the message being handled (not a reply to it, which
        exists already when the message is decided again after a crash)."""
        for message in reversed(await self.store.messages(conversation_id)):
            if message.direction == "outbound" and message.id < before:
                return message if message.author == "bot" else None
        return None

    async def _answer(self, kb: KBSnapshot, customer: Customer, conversation: Conversation,
                      outcome: Outcome, article_id: str, confidence: float, language: str,
                      record: bool = True) -> None:
        article = kb.articles[article_id]
        used_language, translation = article.translation(language)
        body = render_answer(translation.answer, self._render_context(customer))
        await self._reply(
            conversation, outcome, text=body, kind="answer",
            meta={"article_id": article_id, "confidence": round(confidence, 3),
                  "language": used_language, "title": translation.title},
        )
        outcome.decision = "answer"
        if record:
            await self.store.update_conversation(conversation.id, last_article_id=article_id,
                                                 category=article.category)

    async def _clarify(self, kb: KBSnapshot, conversation: Conversation, outcome: Outcome,
                       decision: Decision, language: str) -> None:
        choices = [c for c in decision.choices if c in kb.articles]
        titles = [kb.articles[c].translation(language)[1].title for c in choices]
        lines = [self.texts("clarify", language)]
        lines += [f"{n}. {title}" for n, title in enumerate(titles, start=1)]
        lines.append(f"{len(titles) + 1}. {self.texts('none_of_these', language)}")
        lines.append(self.texts("clarify_hint", language))
        await self._reply(
            conversation, outcome, text="\n".join(lines), kind="clarify",
            meta={"choices": choices, "titles": titles,
                  "none_label": self.texts("none_of_these", language)},
        )
        outcome.decision = "clarify"

    async def _handoff(self, conversation: Conversation, outcome: Outcome, reason: str,
                       template: str, attempts: list[dict[str, Any]], urgent: bool = False,
                       article_id: str | None = None) -> Ticket:
        messages = await self.store.messages(conversation.id)
        latest = next((m.text[:MAX_SIGNAL_CHARS] for m in reversed(messages)
                       if m.direction == "inbound"), "")
        queue = self.queue_for(article_id, conversation.category)
        customer = await self.store.get_customer(conversation.customer_id)
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
            priority=assessment.priority, take_over=False,
        )
        text = self.texts(template, conversation.language, ticket=ticket.id)
        notice = out_of_hours_notice(self.settings.calendar.for_queue(ticket.queue), utcnow(),
                                     conversation.language)
        if notice:
            text = f"{text}\n\n{notice}"
        await self._reply(
            conversation, outcome, kind="handoff", text=text,
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
        return assigned

    def _render_context(self, customer: Customer) -> dict[str, dict[str, object]]:
        company = self.settings.company
        return {
            "customer": {"name": customer.name, "email": customer.email or "",
                         "number": customer.number or ""},
            "company": {"name": company.name, "email": company.email, "phone": company.phone},
        }


_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def _clarification_choice(text: str, last_bot: Message | None) -> str | None:
    """The article picked after "Do you mean…?": by number or by title; "none" for none."""
    if last_bot is None or last_bot.kind != "clarify":
        return None
    choices: list[str] = last_bot.meta.get("choices", [])
    titles: list[str] = last_bot.meta.get("titles", [])
    number = _NUMBER.match(text)
    if number:
        index = int(number.group(1)) - 1
        if 0 <= index < len(choices):
            return choices[index]
        return "none" if index == len(choices) else None
    folded = text.strip().casefold()
    for choice, title in zip(choices, titles, strict=False):
        if folded == title.casefold():
            return choice
    return None


def _attempts(match: Match, decision: Decision, kb: KBSnapshot) -> list[dict[str, Any]]:
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
