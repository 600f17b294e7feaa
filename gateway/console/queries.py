"""Read-only queries the console needs and the Store does not offer.

They batch look-ups for a whole page (one query per table instead of one per row) and use
portable SQL with `?` placeholders, so they run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from gateway.models import Conversation, Customer, Ticket
from gateway.store import Store, codec


@dataclass(frozen=True)
class PastConversation:
    """A customer's conversation as the profile lists it."""

    conversation: Conversation
    message_count: int


@dataclass(frozen=True)
class Delivery:
    """Where an outbound message stands in the outbox."""

    status: str
    last_error: str | None


def _marks(values: Collection[object]) -> str:
    return ", ".join("?" for _ in values)


async def customers_by_id(store: Store, ids: Collection[int]) -> dict[int, Customer]:
    if not ids:
        return {}
    rows = await store.db.fetchall(
        f"SELECT * FROM customers WHERE id IN ({_marks(ids)})", *ids
    )
    return {row["id"]: codec.customer(row) for row in rows}


async def conversations_by_id(store: Store, ids: Collection[int]) -> dict[int, Conversation]:
    if not ids:
        return {}
    rows = await store.db.fetchall(
        f"SELECT * FROM conversations WHERE id IN ({_marks(ids)})", *ids
    )
    return {row["id"]: codec.conversation(row) for row in rows}


async def tickets_of_customer(store: Store, customer_id: int) -> list[Ticket]:
    """Every ticket of a customer, newest first (the caller filters by access)."""
    rows = await store.db.fetchall(
        "SELECT * FROM tickets WHERE customer_id = ? ORDER BY id DESC", customer_id
    )
    return [codec.ticket(row) for row in rows]


async def conversations_of_customer(store: Store, customer_id: int) -> list[PastConversation]:
    """The customer's conversations on every channel, newest first, with their size."""
    rows = await store.db.fetchall(
        "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)"
        " AS message_count FROM conversations c WHERE c.customer_id = ? ORDER BY c.id DESC",
        customer_id,
    )
    return [PastConversation(codec.conversation(row), int(row["message_count"])) for row in rows]


async def deliveries(store: Store, conversation_id: int) -> dict[int, Delivery]:
    """Outbox state per message id, so the operator sees whether a reply went out."""
    rows = await store.db.fetchall(
        "SELECT message_id, status, last_error FROM outbox WHERE conversation_id = ?",
        conversation_id,
    )
    return {row["message_id"]: Delivery(row["status"], row["last_error"]) for row in rows}
