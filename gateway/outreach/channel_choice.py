"""Which channel a notification takes: the ticket's own conversation, then the customer's
preference, then the channel they used last, then e-mail; the first one that can start a
conversation (`Initiating`) and does not refuse the address (a hard bounce) wins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.channels import Connector, Initiating
from gateway.models import Conversation, Customer
from gateway.store import Store

API = "api"
EMAIL = "email"


@dataclass(frozen=True)
class Route:
    channel: str
    identity: str
    connector: Initiating
    #: Continue this conversation (the ticket's) instead of starting one.
    conversation: Conversation | None = None


@dataclass(frozen=True)
class NoRoute:
    reason: str  # "bounced" or "no_channel"
    detail: str


async def choose(store: Store, connectors: Mapping[str, Connector], customer: Customer,
                 integration: str, ticket_conversation: Conversation | None) -> Route | NoRoute:
    identities: dict[str, str] = {}
    for channel, address in await store.identities_of(customer.id):
        # An integration reaches API conversations under its own name only.
        if channel == API and not address.startswith(f"{integration}:"):
            continue
        identities.setdefault(channel, address)
    if customer.email:
        identities[EMAIL] = customer.email.lower()
    recent = [c.channel for c in await store.recent_conversations(customer.id)
              if c.channel != API or c.address.startswith(f"{integration}:")]
    order: list[tuple[str, Conversation | None]] = []
    if ticket_conversation is not None:
        order.append((ticket_conversation.channel, ticket_conversation))
    preferred = [customer.preferred_channel] if customer.preferred_channel else []
    order += [(name, None) for name in (*preferred, *recent, EMAIL)]
    refused: str | None = None
    seen: set[tuple[str, int | None]] = set()
    for channel, conversation in order:
        key = (channel, conversation.id if conversation else None)
        connector = connectors.get(channel)
        if key in seen or channel not in identities or not isinstance(connector, Initiating):
            continue
        seen.add(key)
        why = await connector.refusal(store, identities[channel])
        if why:
            refused = refused or why
            continue
        return Route(channel, identities[channel], connector, conversation)
    if refused:
        return NoRoute("bounced", refused)
    return NoRoute("no_channel", "no channel reaches this customer")
