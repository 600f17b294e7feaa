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
from gateway.models import Conversation, Customer, Event, Message, Operator, Survey, Ticket
from gateway.store import Store, codec
from gateway.store.survey_queries import survey
from gateway.store.tag_queries import MAX_KNOWN, known_tags_column, known_tags_of


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
                              size: int = CARD_SIZE) -> tuple[list[tuple[Ticket, str]], int]:
    """One page of a customer's other tickets, newest first, each with its conversation's
    channel, and how many there are; only those of `queues` (None: all), so an agent's card
    never mentions another team's. One statement (the count a window over the same rows;
    counted apart only for a page past the end, which has no row to carry it)."""
    sql = " FROM tickets t WHERE t.customer_id = ? AND t.id <> ?"
    args: list[object] = [customer_id, exclude]
    if queues is not None:
        if not queues:
            return [], 0
        sql += f" AND t.queue IN ({_marks(queues)})"
        args += queues
    # the page and the count chosen over the ids alone (the index), then the page's rows
    rows = await store.db.fetchall(
        "SELECT t.*, p.total_count,"
        " (SELECT v.channel FROM conversations v WHERE v.id = t.conversation_id)"
        " AS conversation_channel FROM (SELECT t.id, COUNT(*) OVER () AS total_count"
        f"{sql} ORDER BY t.id DESC LIMIT ? OFFSET ?) p JOIN tickets t ON t.id = p.id"
        " ORDER BY t.id DESC", *args, size, (page - 1) * size)
    if rows:
        total = int(rows[0]["total_count"])
    elif page > 1:
        counted = await store.db.fetchone("SELECT COUNT(*) AS n" + sql, *args)
        total = int(counted["n"]) if counted else 0
    else:
        total = 0
    return [(codec.ticket(row), str(row["conversation_channel"] or "?")) for row in rows], total


async def conversations_of_customer(store: Store, customer_id: int,
                                    size: int = CARD_SIZE) -> tuple[list[PastConversation], int]:
    """The customer's latest conversations on every channel with their size, and how many
    there are in all (a window over the same rows: one statement)."""
    # chosen and counted over the ids alone, so only the page's conversations are counted
    rows = await store.db.fetchall(
        "SELECT c.*, p.total_count,"
        " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count"
        " FROM (SELECT id, COUNT(*) OVER () AS total_count FROM conversations"
        " WHERE customer_id = ? ORDER BY id DESC LIMIT ?) p JOIN conversations c"
        " ON c.id = p.id ORDER BY c.id DESC", customer_id, size,
    )
    return ([PastConversation(codec.conversation(row), int(row["message_count"]))
             for row in rows], int(rows[0]["total_count"]) if rows else 0)


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


async def operators_with_status(store: Store
                                ) -> tuple[list[Operator], dict[int, OperatorStatus]]:
    """Every operator by username, and the presence and capacity of those who set them, in
    one statement (`Store.operators` and `operator_statuses` were two)."""
    rows = await store.db.fetchall(
        "SELECT o.*, st.presence AS status_presence, st.capacity AS status_capacity"
        " FROM operators o LEFT JOIN operator_status st ON st.operator_id = o.id"
        " ORDER BY o.username")
    return ([codec.operator(row) for row in rows],
            {int(row["id"]): OperatorStatus(row["status_presence"], int(row["status_capacity"]))
             for row in rows if row["status_presence"] is not None})


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


# -- the ticket page, in as few statements as its data allows ---------------------------------

#: What `codec.conversation`, `codec.customer` and `survey_queries.survey` read: the
#: columns of the rows the ticket page reads beside its ticket (a key codec reads that is
#: not here fails every ticket page test, not silently).
CONVERSATION_COLUMNS = ("id", "customer_id", "channel", "address", "language", "owner",
                        "category", "last_article_id", "created_at", "updated_at",
                        "verified_number")
CUSTOMER_COLUMNS = ("id", "name", "email", "language", "segment", "created_at", "number",
                    "preferred_channel")
SURVEY_COLUMNS = ("id", "ticket_id", "conversation_id", "customer_id", "channel", "queue",
                  "operator_id", "language", "status", "due_at", "message_id", "sent_at",
                  "skip_reason", "score", "comment", "answered_at", "created_at")


def _aliased(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{c} AS {alias}_{c}" for c in columns)


def _unaliased(row: Any, alias: str, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: row[f"{alias}_{c}"] for c in columns}


@dataclass(frozen=True)
class TicketContext:
    """A ticket with what its page shows of it, read in one statement: its conversation,
    customer, tags and satisfaction survey (`csat_surveys.ticket_id` is unique)."""

    ticket: Ticket
    conversation: Conversation
    customer: Customer
    tags: list[str]
    survey: Survey | None
    #: `Store.known_tags`, read in the same statement (the tag form's suggestions).
    known_tags: list[str]


async def ticket_context(store: Store, ticket_id: int) -> TicketContext | None:
    """The ticket and its context by primary keys, and the desk's known tags (six
    statements before). The caller
    checks the ticket against who asks before it shows anything of it."""
    dialect = store.db.dialect
    tags = "string_agg(g.tag, ',')" if dialect == "postgresql" else "group_concat(g.tag, ',')"
    row = await store.db.fetchone(
        f"SELECT t.*, {_aliased('cv', CONVERSATION_COLUMNS)},"
        f" {_aliased('cu', CUSTOMER_COLUMNS)}, {_aliased('sv', SURVEY_COLUMNS)},"
        f" (SELECT {tags} FROM ticket_tags g WHERE g.ticket_id = t.id) AS tag_list,"
        f" {known_tags_column(dialect)} AS known_list"
        " FROM tickets t LEFT JOIN conversations cv ON cv.id = t.conversation_id"
        " LEFT JOIN customers cu ON cu.id = t.customer_id"
        " LEFT JOIN csat_surveys sv ON sv.ticket_id = t.id WHERE t.id = ?",
        MAX_KNOWN, ticket_id)
    if row is None:
        return None
    # tickets reference conversations and customers (foreign keys)
    assert row["cv_id"] is not None and row["cu_id"] is not None
    return TicketContext(
        ticket=codec.ticket(row),
        conversation=codec.conversation(_unaliased(row, "cv", CONVERSATION_COLUMNS)),
        customer=codec.customer(_unaliased(row, "cu", CUSTOMER_COLUMNS)),
        tags=sorted(str(row["tag_list"]).split(",")) if row["tag_list"] else [],
        survey=(survey(_unaliased(row, "sv", SURVEY_COLUMNS)) if row["sv_id"] is not None
                else None),
        known_tags=known_tags_of(row["known_list"], dialect))


async def trail(store: Store, ticket_id: int, conversation_id: int) -> list[Event]:
    """The ticket's events and its conversation's events that belong to no ticket
    (delivery failures, feedback), in order, in one statement (two before, and a third and
    fourth for the merges and the split, which are the ticket's own events)."""
    rows = await store.db.fetchall(
        "SELECT * FROM events WHERE ticket_id = ?"
        " UNION ALL SELECT * FROM events WHERE conversation_id = ? AND ticket_id IS NULL"
        " ORDER BY id", ticket_id, conversation_id)
    return [codec.event(row) for row in rows]


async def merged_tickets(store: Store, ids: Collection[int]) -> list[tuple[Ticket, str]]:
    """The tickets merged into one, with their conversation's channel (one statement; it
    was one, then one per merged conversation)."""
    if not ids:
        return []
    rows = await store.db.fetchall(
        "SELECT t.*, (SELECT v.channel FROM conversations v WHERE v.id = t.conversation_id)"
        f" AS conversation_channel FROM tickets t WHERE t.id IN ({_marks(ids)}) ORDER BY t.id",
        *ids)
    return [(codec.ticket(row), str(row["conversation_channel"] or "?")) for row in rows]


@dataclass(frozen=True)
class Shown:
    """A message of a transcript with what the page shows beside it."""

    message: Message
    delivery: Delivery | None
    #: The ticket a split placed it on (`ticket_messages`), if any.
    placed: int | None
    has_files: bool


async def transcript_messages(store: Store, conversation_id: int) -> list[Shown]:
    """A conversation's messages with their outbox state (`outbox.message_id` is unique),
    where a split placed them and whether they have attachments, in one statement (four
    before: the messages, the outbox, the placements, the attachments)."""
    rows = await store.db.fetchall(
        "SELECT m.*, o.id AS outbox_id, o.status AS outbox_status,"
        " o.last_error AS outbox_last_error,"
        " (SELECT p.ticket_id FROM ticket_messages p WHERE p.message_id = m.id) AS placed,"
        " CASE WHEN EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)"
        " THEN 1 ELSE 0 END AS has_files"
        " FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
        " WHERE m.conversation_id = ? ORDER BY m.id", conversation_id)
    return [Shown(codec.message(row),
                  Delivery(row["outbox_status"], row["outbox_last_error"], row["outbox_id"])
                  if row["outbox_id"] is not None else None,
                  int(row["placed"]) if row["placed"] is not None else None,
                  bool(row["has_files"])) for row in rows]
