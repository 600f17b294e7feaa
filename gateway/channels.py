"""The one small protocol every channel implements, and the plain records that cross it.

A connector turns its channel's traffic into `Inbound` records and delivers `Outbound`
ones; it never decides what to say. Replies carry an address (`ConversationKey`), not a
live object, so an operator can answer hours later, after a restart, through the same
connector.

The core owns these records: connectors import them, the core never imports a connector.
What a channel keeps of its own in the store (suppressed addresses, a quarantine of input
it could not take in) reaches the core's access, erasure, retention and quarantine pages
through `ChannelState`, which the composition root (`gateway/app.py`) registers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # the store takes these records; it is only named in signatures here
    from gateway.store import Store

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
    #: What an earlier attempt of this entry recorded with `record` (empty the first time).
    progress: dict[str, Any] = field(default_factory=dict)
    #: Record facts of a send that takes several calls (merged into `progress`), before the
    #: next call: a resend after a crash or a failure then skips what was done. Optional.
    record: Callable[[dict[str, Any]], Awaitable[None]] | None = field(
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


def health_of(connector: object) -> dict[str, Any]:
    """A connector that watches a remote service (IMAP) reports on it with `health()`:
    at least `ok`, and `state`, `last_error` and `seconds_since_sync` when it has them.
    The others are fine for as long as the process runs."""
    probe = getattr(connector, "health", None)
    report = probe() if callable(probe) else None
    return report if isinstance(report, dict) else {"ok": True}


@runtime_checkable
class Reprocessing(Protocol):
    """A connector that can take a quarantined item in again (after an admin's fix)."""

    async def reprocess(self, entry_id: str) -> None: ...


@runtime_checkable
class Suppressing(Protocol):
    """A channel's `ChannelState` that refuses some addresses (the e-mail channel's hard
    and repeated soft bounces): optional messages such as surveys are not even queued."""

    async def suppressed(self, store: Store, address: str) -> str | None:
        """Why `address` gets nothing now, or None."""
        ...


class ChannelState(Protocol):
    """What one channel keeps about people and unprocessable input in `connector_state`.

    Access requests, erasure, retention and the quarantine page cover it through this, so
    that a new channel with state of its own is one more registered object, not an edit of
    the privacy code.
    """

    channel: str

    async def about(self, store: Store, addresses: Sequence[str]) -> dict[str, Any]:
        """What is kept about these addresses, for an access request."""
        ...

    async def forget(self, store: Store, addresses: Sequence[str]) -> int:
        """Delete what is kept about these addresses; return how many entries went."""
        ...

    async def quarantined(self, store: Store) -> list[dict[str, Any]]:
        """Input that could not be taken in: id, error, size, when (no raw bytes)."""
        ...

    async def quarantined_raw(self, store: Store, entry_id: str) -> bytes | None: ...

    async def release(self, store: Store, entry_id: str) -> bool:
        """Take one item out of quarantine for good (reprocessed or deleted)."""
        ...

    async def expire_quarantine(self, store: Store, before: datetime) -> int:
        """Delete items quarantined before `before` (retention); return how many."""
        ...


@runtime_checkable
class Initiating(Protocol):
    """A channel the company can start a conversation on (a notification, a campaign):
    e-mail, Slack, the API. Web chat and phone cannot: the customer has to be there."""

    channel: str

    def first_address(self, identity: str, token: str) -> str:
        """The conversation address of a new conversation with `identity` (the customer's
        address on this channel); `token` makes it unique."""
        ...

    async def refusal(self, store: Store, identity: str) -> str | None:
        """Why this identity cannot be reached now (a hard-bounced address), or None."""
        ...
