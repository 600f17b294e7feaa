"""The one small protocol every channel implements, and the plain records that cross it.

A connector turns its channel's traffic into `Inbound` records and delivers `Outbound`
ones; it never decides what to say. Replies carry an address (`ConversationKey`), not a
live object, so an operator can answer hours later, after a restart, through the same
connector.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Button presses a channel may attach to an inbound (`meta["action"]`): the feedback under
#: an answer. Clarification choices travel as their number in the text.
ACTIONS = frozenset({"helpful", "not_helpful"})


@dataclass(frozen=True)
class ConversationKey:
    """Where a conversation lives on its channel: a mail thread, a Slack thread, a chat session."""

    channel: str
    address: str


@dataclass(frozen=True)
class Identity:
    """Who wrote, as the channel knows them; `email` links identities across channels."""

    channel: str
    address: str
    name: str = ""
    email: str | None = None


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    size: int
    too_large: bool = False


@dataclass(frozen=True)
class Inbound:
    """One customer message, normalised. `channel_message_id` makes ingestion idempotent."""

    key: ConversationKey
    sender: Identity
    text: str
    channel_message_id: str
    language: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    #: The bot must stay silent (auto-replies, bounces, list mail): recorded, never answered.
    automated: str | None = None
    #: Channel-specific context kept with the message (mail headers, Slack ts...).
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outbound:
    """One reply to deliver, already persisted in the outbox under `outbox_id`."""

    outbox_id: int
    message_id: int
    conversation_id: int
    key: ConversationKey
    text: str
    author: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    #: Call the moment the channel took the reply (SMTP's 250 to DATA), with what `send`
    #: will return: the outbox marks it sent at once, so a crash in what follows (counters,
    #: QUIT) cannot send it twice. Optional: `send` returning does the same.
    accepted: Callable[[dict[str, Any] | None], Awaitable[None]] | None = field(
        default=None, compare=False, repr=False)


class NothingToRun:
    """For channels with no background work of their own (they answer requests or deliver in
    place): `start` and `stop` have nothing to do."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class Connector(Protocol):
    """A channel. `send` raises `DeliveryError` (or a subclass) when it could not deliver."""

    channel: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        """Deliver; return channel facts to remember (e.g. the mail's Message-ID) or None."""
        ...
