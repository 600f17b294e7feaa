"""One customer message being decided: what every decision rule reads and what it writes.

A `Turn` carries the message, its customer and conversation, and the `Outcome` the rules
fill in. What only some rules need (the bot's last word, the knowledge-base match) is
computed on first use and kept, so a rule that does not apply costs nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from gateway.bot.kb_service import KBSnapshot
from gateway.channels import Inbound
from gateway.models import Conversation, Customer, Message, OutboxEntry
from gateway.store import Store
from knowledge_base.decide import Decision, Thresholds, decide
from knowledge_base.index import Match
from knowledge_base.message import MessageMatch, match_message
from knowledge_base.signals import MAX_SIGNAL_CHARS


@dataclass
class Outcome:
    """What happened to one inbound message (what the API channel returns)."""

    conversation_id: int
    message_id: int
    duplicate: bool = False
    replies: list[Message] = field(default_factory=list)
    #: The outbox entries of `replies` stored by this decision: the pipeline hands them to
    #: the outbox once committed (`OutboxWorker.deliver_now`). Empty for a replay.
    outbox: list[OutboxEntry] = field(default_factory=list)
    ticket_id: int | None = None
    decision: str | None = None


_UNSET: Any = object()


@dataclass
class Turn:
    inbound: Inbound
    customer: Customer
    conversation: Conversation
    outcome: Outcome
    kb: KBSnapshot
    #: The language the bot answers in (the conversation's, else the desk's default).
    language: str
    #: This message opened the conversation: nothing was said before it (and the history
    #: is this message alone).
    first_contact: bool = False
    _last_bot: Message | None = field(default=_UNSET, repr=False)
    _history: list[Message] | None = field(default=None, repr=False)
    _match: tuple[MessageMatch, Decision] | None = field(default=None, repr=False)
    #: Seconds the KB match took (None: no rule needed one), for /metrics.
    match_seconds: float | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The bounded prefix the KB and the signals read: an e-mail can be megabytes long;
        the stored message keeps the whole text for the operator."""
        return self.inbound.text[:MAX_SIGNAL_CHARS]

    async def last_bot(self, store: Store) -> Message | None:
        """The bot's last word before this message (not a reply to it, which exists already
        when the message is decided again after a crash); None when a person spoke last."""
        if self._last_bot is _UNSET:
            self._last_bot = None
            if not self.first_contact:
                said = await store.last_outbound_before(self.conversation.id,
                                                        self.outcome.message_id)
                self._last_bot = said if said is not None and said.author == "bot" else None
        return self._last_bot

    async def history(self, store: Store) -> list[Message]:
        """The whole conversation so far, read once per turn: the stored messages and the
        replies this turn added since."""
        if self._history is None:
            self._history = await store.messages(self.conversation.id)
        known = {message.id for message in self._history}
        return self._history + [r for r in self.outcome.replies if r.id not in known]

    def match(self, thresholds: Thresholds) -> tuple[Match, Decision]:
        """The knowledge base's ranking of this message and the decision it supports (a
        message asking several questions is not answered as one: `message`)."""
        message, decision = self._message(thresholds)
        return message.match, decision

    async def prepare(self, thresholds: Thresholds) -> None:
        """Match now, in a worker thread, when the matcher encodes sentences (milliseconds of
        CPU per question: not on the event loop); the light matcher stays lazy."""
        if self._match is None and self.kb.matcher.encodes_sentences:
            await asyncio.to_thread(self._message, thresholds)

    def message(self, thresholds: Thresholds) -> MessageMatch:
        """The message as the KB reads it: its questions, each matched on its own."""
        return self._message(thresholds)[0]

    def _message(self, thresholds: Thresholds) -> tuple[MessageMatch, Decision]:
        if self._match is None:
            started = time.perf_counter()
            message = match_message(self.kb.matcher, self.text, self.language,
                                    previous_article_id=self.conversation.last_article_id)
            self._match = message, decide(message.match, thresholds)
            self.match_seconds = time.perf_counter() - started
        return self._match
