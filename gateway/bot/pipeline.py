"""The inbound pipeline: one customer message in, the bot's decision and replies out.

persist (idempotent) → customer and conversation → language → the decision rules
(`gateway/bot/rules.py`) → replies persisted in the outbox → message marked handled →
the replies handed to the outbox once committed (a web-chat reply is pushed at once).
`handle` needs no HTTP: every connector and every test drives the same entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import structlog

from gateway.background import background
from gateway.bot.actions import Bot
from gateway.bot.claims import CLAIM, SWEEP_EVERY, holding, new_owner
from gateway.bot.kb_service import KnowledgeService
from gateway.bot.rules import RULES, Rule
from gateway.bot.turn import Outcome, Turn
from gateway.channels import ConversationKey, Identity, Inbound
from gateway.config.settings import Settings
from gateway.delivery.notify import Hub
from gateway.directory import Directory
from gateway.integrations.client import Integrations
from gateway.locks import KeyedLocks
from gateway.models import Conversation, Customer, Message, OutboxEntry
from gateway.store import Store
from gateway.telemetry import Telemetry
from knowledge_base.language import detect_language
from knowledge_base.signals import MAX_SIGNAL_CHARS

log = structlog.get_logger(__name__)


@dataclasses.dataclass
class Stored:
    """A message `Pipeline.store_only` stored: what `Pipeline.decide` needs to decide it.
    `owner` is its handling claim's token, None when there is nothing to decide (a resend
    of a message decided or being decided: `outcome.replies` are what it got so far)."""

    inbound: Inbound
    outcome: Outcome
    owner: str | None
    first_contact: Message | None = None
    #: When its claim was taken (monotonic): it runs `CLAIM` from then.
    at: float = dataclasses.field(default_factory=time.monotonic)

#: Below this many letters language detection guesses; keep the conversation's language.
_MIN_DETECT_LETTERS = 12


class Pipeline:
    def __init__(self, store: Store, kb: KnowledgeService, settings: Settings, hub: Hub,
                 deliver_now: Callable[[Sequence[OutboxEntry]], None] = lambda entries: None,
                 directory: Directory | None = None,
                 integrations: Integrations | None = None,
                 telemetry: Telemetry | None = None) -> None:
        self.store = store
        self.telemetry = telemetry or Telemetry()
        self.kb = kb
        self.settings = settings
        self.hub = hub
        #: The outbox's hook for the replies of a committed decision (`OutboxWorker.
        #: deliver_now`: a web-chat reply is pushed at once, the others wake the worker).
        self.deliver_now = deliver_now
        self.locks = KeyedLocks()
        #: Storing a message (`store`) is serialised per conversation apart from deciding
        #: (`locks`): the next message of a conversation is stored while one is decided.
        self.store_locks = KeyedLocks()
        self.bot = Bot(store, kb, settings, hub, directory, integrations)
        self.texts = self.bot.texts
        self.rules: Sequence[Rule] = RULES
        #: Since start, for /metrics: messages decided per channel, decisions per
        #: (kind, language).
        self.messages_in: Counter[str] = Counter()
        self.decisions: Counter[tuple[str, str]] = Counter()

    async def handle(self, inbound: Inbound, customer: Customer | None = None,
                     stored: Callable[[Outcome], Awaitable[None]] | None = None) -> Outcome:
        """Store, decide and answer one message. `customer`: the sender's, when the
        channel resolved it already (`Store.resolve_customer(inbound.sender)`); `stored`:
        told as soon as the message is stored (committed), before it is decided (the web
        chat acknowledges it then)."""
        # One unit of work: the message holds one database connection from here to its
        # last write (issue 21: a pool acquire and reset per statement before).
        async with self.store.unit():
            # Under the conversation's lock, so what the previous message of this customer
            # changed (owner, language) is read here, once.
            async with self.locks.hold(inbound.key):
                customer, conversation, created = await self._open(inbound, customer)
                owner = new_owner()
                message, new = await self.store.add_inbound(
                    conversation, inbound.text, inbound.channel_message_id,
                    {**inbound.meta, "automated": inbound.automated} if inbound.automated
                    else inbound.meta, claim=CLAIM, owner=owner, touch=False,
                )
                outcome = Outcome(conversation.id, message.id, duplicate=not new)
                if stored is not None and new:
                    await stored(outcome)
                # A new message is claimed by `owner` as it is stored. A retry of one whose
                # handling was cut short (database outage, crash) is decided again once its
                # first claim expired or was released, so it is never left unanswered;
                # while another handler may still be at work it only gets what exists.
                if not new and not await self.store.reclaim_unhandled(message.id, CLAIM, owner):
                    return await self._replay(outcome)
                await holding(self.store, message.id, owner,
                              self._process(inbound, customer, conversation, outcome,
                                            first_contact=message if created else None))
        return outcome

    async def store_only(self, inbound: Inbound) -> Stored:
        """Store one message, not yet deciding it (the web chat acknowledges it at once and
        hands it to `decide` when a place is free, connectors/webchat/decisions.py).

        A new message is claimed as `handle` claims it; if the process dies before `decide`
        commits, the claim runs out and the resume sweep decides it. A resend of a stored
        message whose handling was cut short is reclaimed (decided again); one still
        claimed (waiting for its decision, or decided) gets the replies it has so far and
        `Stored.owner` None: nothing to decide."""
        async with self.store_locks.hold(inbound.key), self.store.unit():
            _, conversation, created = await self._open(inbound, None)
            owner, claimed_at = new_owner(), time.monotonic()
            message, new = await self.store.add_inbound(
                conversation, inbound.text, inbound.channel_message_id,
                {**inbound.meta, "automated": inbound.automated} if inbound.automated
                else inbound.meta, claim=CLAIM, owner=owner, touch=False,
            )
            outcome = Outcome(conversation.id, message.id, duplicate=not new)
            if not new and not await self.store.reclaim_unhandled(message.id, CLAIM, owner):
                # Stored before earlier messages were decided, its replies need not
                # follow it: found by their keys.
                outcome.replies = await self.store.replies_to(message.id)
                return Stored(inbound, outcome, None)
            return Stored(inbound, outcome, owner, message if created else None, claimed_at)

    async def decide(self, stored: Stored) -> Outcome:
        """Decide a message `store_only` stored, in its conversation's turn: what earlier
        messages' decisions changed (owner, language, the customer) is read again now. A
        message whose claim ran out meanwhile is only decided if its claim is still this
        caller's (renewed), else the resume sweep or a resend has it."""
        assert stored.owner is not None
        outcome, message_id = stored.outcome, stored.outcome.message_id
        async with self.locks.hold(stored.inbound.key), self.store.unit():
            waited = time.monotonic() - stored.at
            if waited >= SWEEP_EVERY / 2 and not await self.store.renew_claim(
                    message_id, stored.owner, CLAIM):
                log.info("pipeline.decided_elsewhere", message_id=message_id)
                return outcome
            conversation = await self.store.get_conversation(outcome.conversation_id)
            if conversation is None:  # erased meanwhile (privacy)
                return outcome
            customer = await self.store.get_customer(conversation.customer_id)
            if customer is None:
                return outcome
            await holding(self.store, message_id, stored.owner,
                          self._process(stored.inbound, customer, conversation, outcome,
                                        first_contact=stored.first_contact),
                          since=None if waited >= SWEEP_EVERY / 2 else stored.at)
        return outcome

    async def _open(self, inbound: Inbound, customer: Customer | None
                    ) -> tuple[Customer, Conversation, bool]:
        """The sender and the conversation, and whether this message opened it: for a
        customer seen before, one statement (`Store.open_as`)."""
        opened = None if customer is not None else await self.store.open_as(
            inbound.sender, inbound.key, inbound.language)
        if opened is not None:
            found, conversation, created = opened
            customer = found or await self.store.resolve_customer(inbound.sender,
                                                                  read_first=False)
            return customer, conversation, created
        if customer is None:  # nobody's identity yet
            customer = await self.store.resolve_customer(inbound.sender, unlinked=True)
        conversation, created = await self.store.open_conversation(
            inbound.key, customer.id, inbound.language or customer.language)
        return customer, conversation, created

    async def resume_unhandled(self) -> int:
        """Finish stored messages whose handling died with its claim (crash, outage).

        Run every `SWEEP_EVERY` seconds, so a customer message is answered or handed off
        even when the channel never resends it. Returns how many were resumed.
        """
        resumed = 0
        for message in await self.store.unhandled_messages():
            async with self.store.unit():
                resumed += await self._resume(message)
        return resumed

    async def _resume(self, message: Message) -> int:
        """Finish one unhandled message if its claim can be taken; 1 when it was."""
        conversation = await self.store.get_conversation(message.conversation_id)
        owner = new_owner()
        if conversation is None or \
                not await self.store.reclaim_unhandled(message.id, CLAIM, owner):
            return 0
        customer = await self.store.get_customer(conversation.customer_id)
        assert customer is not None
        inbound = Inbound(
            key=ConversationKey(conversation.channel, conversation.address),
            sender=Identity(conversation.channel, conversation.address, customer.name),
            text=message.text, channel_message_id=message.channel_message_id or "",
            automated=message.meta.get("automated"), meta=message.meta,
        )
        async with self.locks.hold(inbound.key):
            await holding(self.store, message.id, owner,
                          self._process(inbound, customer, conversation,
                                        Outcome(conversation.id, message.id)))
        return 1

    async def _process(self, inbound: Inbound, customer: Customer, conversation: Conversation,
                       outcome: Outcome, first_contact: Message | None = None) -> None:
        """Language, decision, replies; the message is `handled` only once all is stored.

        The decision's writes (replies with their outbox entries, ticket, events, the
        conversation's changes and `handled`) are one transaction: all or nothing, and the
        live updates they cause go out once it is committed."""
        started = time.perf_counter()
        self.hub.publish(f"conversation:{conversation.id}",
                         {"type": "message", "message_id": outcome.message_id})
        language = self._language(inbound, conversation)
        changes = {"language": language} if language != conversation.language else {}
        with self.hub.held():
            # Lazy: the decision's first reads, and a back-office call it makes before
            # writing, hold no transaction (nor, on SQLite, the database lock).
            async with self.store.db.transaction(lazy=True):
                if changes:  # merged with what else the decision changes into one UPDATE
                    await self.store.update_conversation(conversation.id, **changes)
                    conversation = dataclasses.replace(conversation, language=language)
                turn = await self._decide(inbound, customer, conversation, outcome,
                                          first_contact)
                await self.store.mark_handled(outcome.message_id)
        self.messages_in[inbound.key.channel] += 1
        self.decisions[(outcome.decision or "none", language)] += 1
        if turn.match_seconds is not None:
            self.telemetry.kb_match.observe(turn.match_seconds)
        self.telemetry.pipeline.labels(outcome.decision or "none").observe(
            time.perf_counter() - started)
        if outcome.outbox:  # committed: sent now, not at the outbox's next round
            self.deliver_now(outcome.outbox)
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

        async with background(sweep, "pipeline-resume"):
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
                      outcome: Outcome, first_contact: Message | None = None) -> Turn:
        """The first rule of `RULES` that decides this message decides it (`first_contact`:
        the message, when it opened the conversation); returns the decided turn."""
        turn = Turn(inbound, customer, conversation, outcome, self.kb.snapshot,
                    conversation.language or self.settings.languages.default,
                    first_contact=first_contact is not None,
                    _history=None if first_contact is None else [first_contact])
        await turn.prepare(self.kb.thresholds)
        for rule in self.rules:
            if await rule(self.bot, turn):
                return turn
        raise AssertionError("the last rule always decides")  # pragma: no cover
