"""Read-only queries the console needs and the Store does not offer.

They batch look-ups for a whole page (one query per table instead of one per row) and use
portable SQL with `?` placeholders, so they run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from gateway.console.listing import RowFacts, facts_of, row_lookups
from gateway.models import Conversation, Customer, Event, Ticket
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
    outbox_id: int = 0

    @property
    def stopped(self) -> bool:
        """Failed or uncertain: nothing more happens to it unless someone resends it."""
        return self.status in ("failed", "uncertain")


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


#: The customer card lists at most this many tickets and conversations per page.
CARD_SIZE = 20


async def tickets_of_customer(store: Store, customer_id: int, *, exclude: int,
                              queues: tuple[str, ...] | None, page: int = 1,
                              size: int = CARD_SIZE) -> tuple[list[Ticket], int]:
    """One page of a customer's other tickets, newest first, and how many there are; only
    those of `queues` (None: all), so an agent's card never mentions another team's."""
    sql = " FROM tickets WHERE customer_id = ? AND id <> ?"
    args: list[object] = [customer_id, exclude]
    if queues is not None:
        if not queues:
            return [], 0
        sql += f" AND queue IN ({_marks(queues)})"
        args += queues
    counted = await store.db.fetchone("SELECT COUNT(*) AS n" + sql, *args)
    rows = await store.db.fetchall("SELECT *" + sql + " ORDER BY id DESC LIMIT ? OFFSET ?",
                                   *args, size, (page - 1) * size)
    return [codec.ticket(row) for row in rows], int(counted["n"]) if counted else 0


async def conversations_of_customer(store: Store, customer_id: int,
                                    size: int = CARD_SIZE) -> tuple[list[PastConversation], int]:
    """The customer's latest conversations on every channel with their size, and how many
    there are in all."""
    counted = await store.db.fetchone(
        "SELECT COUNT(*) AS n FROM conversations WHERE customer_id = ?", customer_id)
    rows = await store.db.fetchall(
        "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)"
        " AS message_count FROM conversations c WHERE c.customer_id = ? ORDER BY c.id DESC"
        " LIMIT ?", customer_id, size,
    )
    return ([PastConversation(codec.conversation(row), int(row["message_count"]))
             for row in rows], int(counted["n"]) if counted else 0)


async def deliveries(store: Store, conversation_id: int) -> dict[int, Delivery]:
    """Outbox state per message id, so the operator sees whether a reply went out."""
    rows = await store.db.fetchall(
        "SELECT id, message_id, status, last_error FROM outbox WHERE conversation_id = ?",
        conversation_id,
    )
    return {row["message_id"]: Delivery(row["status"], row["last_error"], row["id"])
            for row in rows}


async def sla_timers(store: Store, ticket_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """The SLA watcher's stored timers (`sla_timers` rows) by ticket id."""
    if not ticket_ids:
        return {}
    rows = await store.db.fetchall(
        f"SELECT * FROM sla_timers WHERE ticket_id IN ({_marks(ticket_ids)})", *ticket_ids
    )
    return {int(row["ticket_id"]): dict(row) for row in rows}


async def replied_tickets(store: Store, ticket_ids: Collection[int]) -> set[int]:
    """Tickets an operator has answered at least once (their first-response clock stopped)."""
    if not ticket_ids:
        return set()
    rows = await store.db.fetchall(
        "SELECT DISTINCT ticket_id FROM events WHERE type = 'ticket.replied'"
        f" AND ticket_id IN ({_marks(ticket_ids)})", *ticket_ids
    )
    return {int(row["ticket_id"]) for row in rows}


async def events_of_tickets(store: Store, ticket_ids: Collection[int]) -> dict[int, list[Event]]:
    """The audit trails of several tickets in one query."""
    found: dict[int, list[Event]] = {ticket_id: [] for ticket_id in ticket_ids}
    if not ticket_ids:
        return found
    rows = await store.db.fetchall(
        f"SELECT * FROM events WHERE ticket_id IN ({_marks(ticket_ids)}) ORDER BY id", *ticket_ids
    )
    for row in rows:
        event = codec.event(row)
        if event.ticket_id is not None:
            found[event.ticket_id].append(event)
    return found


async def last_event(store: Store, ticket_id: int) -> Event | None:
    row = await store.db.fetchone(
        "SELECT * FROM events WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", ticket_id
    )
    return codec.event(row) if row else None


@dataclass(frozen=True)
class OperatorStatus:
    presence: str
    capacity: int


async def operator_statuses(store: Store) -> dict[int, OperatorStatus]:
    """Presence and capacity as operators set them (`operator_status`)."""
    rows = await store.db.fetchall("SELECT operator_id, presence, capacity FROM operator_status")
    return {int(row["operator_id"]): OperatorStatus(row["presence"], int(row["capacity"]))
            for row in rows}


async def operator_status(store: Store, operator_id: int) -> OperatorStatus | None:
    row = await store.db.fetchone(
        "SELECT presence, capacity FROM operator_status WHERE operator_id = ?", operator_id
    )
    return OperatorStatus(row["presence"], int(row["capacity"])) if row else None



async def merged_into(store: Store, ticket_id: int) -> list[Ticket]:
    """The tickets merged into this one (their conversations belong to its transcript)."""
    rows = await store.db.fetchall(
        "SELECT data FROM events WHERE ticket_id = ? AND type = 'ticket.merged_from'", ticket_id)
    ids = {found for found in (json.loads(row["data"]).get("from") for row in rows)
           if isinstance(found, int)}
    if not ids:
        return []
    tickets = await store.db.fetchall(
        f"SELECT * FROM tickets WHERE id IN ({_marks(ids)}) ORDER BY id", *ids)
    return [codec.ticket(row) for row in tickets]


async def row_facts(store: Store, tickets: list[Ticket]) -> dict[int, RowFacts]:
    """What `listing.page_sql` reads with a list's page, for tickets found otherwise (search
    results), in one statement: customer, channel and tags (the SLA is not shown there)."""
    if not tickets:
        return {}
    ids = [t.id for t in tickets]
    rows = await store.db.fetchall(
        f"SELECT t.id, {row_lookups('t', store.db.dialect)} FROM tickets t"
        f" WHERE t.id IN ({_marks(ids)})", *ids)
    return {int(row["id"]): facts_of(row, sla=False) for row in rows}
