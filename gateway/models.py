"""Plain data records shared by the store, the pipeline and the web layer.

They are frozen dataclasses so that nothing mutates a record behind the store's back:
changes go through the store, which writes an event for each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Direction = Literal["inbound", "outbound"]
Author = Literal["customer", "bot", "operator", "system"]
ReplyKind = Literal["answer", "clarify", "handoff", "smalltalk", "verify", "verified", "status",
                    "operator", "notice", "notification", "callback"]
Owner = Literal["bot", "queue", "operator"]
TicketStatus = Literal["new", "open", "pending", "solved", "closed"]
Role = Literal["agent", "supervisor", "admin"]
OutboxStatus = Literal["pending", "sent", "failed", "uncertain"]

OPEN_TICKET_STATUSES: tuple[TicketStatus, ...] = ("new", "open", "pending")


def utcnow() -> datetime:
    """The one clock of the gateway (tests may freeze it by monkeypatching this function)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str | None
    language: str | None
    segment: str
    created_at: datetime
    #: Customer number in the company's directory, once verified in a conversation.
    number: str | None = None
    #: The channel the customer wants the company to reach them on (notifications).
    preferred_channel: str | None = None


@dataclass(frozen=True)
class Conversation:
    id: int
    customer_id: int
    channel: str
    address: str
    language: str | None
    owner: Owner
    category: str | None
    last_article_id: str | None
    created_at: datetime
    updated_at: datetime
    #: The customer number this conversation verified (number + postal code), if any.
    verified_number: str | None = None


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    direction: Direction
    author: Author
    text: str
    kind: str | None
    operator_id: int | None
    channel_message_id: str | None
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)
    #: The pipeline finished with this inbound message (a retry after a crash redoes it).
    handled: bool = False


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: int
    customer_id: int
    status: TicketStatus
    priority: str
    queue: str
    assignee_id: int | None
    subject: str
    language: str | None
    category: str | None
    bot_attempts: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Event:
    id: int
    conversation_id: int | None
    ticket_id: int | None
    actor: str
    type: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Operator:
    id: int
    username: str
    display_name: str
    password_hash: str
    role: Role
    languages: tuple[str, ...]
    queues: tuple[str, ...]
    active: bool
    #: The console language the operator chose (`gateway.console.i18n`); None: the browser's.
    locale: str | None = None


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    message_id: int
    conversation_id: int
    channel: str
    address: str
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    #: When the current retry period began (creation, or an operator's re-drive).
    retry_since: datetime | None = None
    #: Resends after an uncertain outcome (an e-mail is resent once, same Message-ID).
    resends: int = 0
    #: What the channel recorded: the send's facts once sent, or, while pending, what a
    #: partial send already did (a Slack reply posted, its files uploaded) so a resend
    #: continues instead of repeating it.
    result: dict[str, Any] = field(default_factory=dict)


SurveyStatus = Literal["scheduled", "sent", "skipped", "answered"]


@dataclass(frozen=True)
class Survey:
    """One ticket's satisfaction survey: scheduled at solve time, sent once, answered once."""

    id: int
    ticket_id: int
    conversation_id: int
    customer_id: int
    channel: str
    queue: str
    operator_id: int | None
    language: str | None
    status: SurveyStatus
    due_at: datetime
    message_id: int | None
    sent_at: datetime | None
    skip_reason: str | None
    score: int | None
    comment: str | None
    answered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class CsatFigures:
    """CSAT of one group (a queue, an operator) over a period: answers, the mean score and
    the share of satisfied answers (4 or 5 of 5, the usual CSAT definition)."""

    key: str
    answers: int
    average: float
    satisfied: int

    @property
    def csat_percent(self) -> float:
        return 100.0 * self.satisfied / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class Callback:
    """A call-back (call the customer within the window) or a follow-up (the ticket comes
    back to its assignee at `window_start`) on a ticket."""

    id: int
    ticket_id: int
    kind: Literal["call_back", "follow_up"]
    window_start: datetime
    window_end: datetime
    phrase: str
    status: Literal["open", "done"]
    attempts: int
    reminded_at: datetime | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class OperatorNotification:
    """What one operator is told: assigned a ticket, mentioned in a note, a customer
    replied on their ticket, an SLA warning on it (`kind`)."""
    id: int
    operator_id: int
    kind: str
    ticket_id: int | None
    actor: str
    text: str
    read_at: datetime | None
    created_at: datetime
