"""The store's tickets and their audit trail: every change writes its event in the same
transaction, so the trail cannot miss one."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.models import (
    Conversation,
    Customer,
    Event,
    Ticket,
    utcnow,
)
from gateway.store import codec
from gateway.store.db import Connection
from gateway.store.people_queries import CUSTOMER_JSON
from gateway.store.queries_base import Queries, marks

_TICKET_FIELDS = frozenset({"status", "priority", "queue", "assignee_id", "subject", "category"})
#: How many merges in a row `open_ticket_of` follows to the surviving ticket.
_MAX_MERGE_HOPS = 5


class TicketQueries(Queries):
    # -- tickets -------------------------------------------------------------------------------

    async def create_ticket(
        self, conversation: Conversation, *, queue: str, priority: str, subject: str,
        bot_attempts: Sequence[dict[str, Any]], actor: str, status: str = "new",
        reason: str = "",
    ) -> Ticket:
        now = codec.ts(utcnow())
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO tickets (conversation_id, customer_id, status, priority, queue,"
                " subject, language, category, bot_attempts, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                conversation.id, conversation.customer_id, status, priority, queue, subject,
                conversation.language, conversation.category, json.dumps(list(bot_attempts)),
                now, now,
            )
            assert row is not None
            await self._event(tx, actor, "ticket.created", conversation.id, row["id"],
                              {"queue": queue, "priority": priority, "reason": reason})
        return codec.ticket(row)

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        row = await self.db.fetchone("SELECT * FROM tickets WHERE id = ?", ticket_id)
        return codec.ticket(row) if row else None

    async def reply_context(self, conversation_id: int
                            ) -> tuple[Conversation, Customer | None, int | None] | None:
        """What a channel needs to send a reply, in one statement (issue 21: a mail's send
        read the conversation, the customer and the ticket one by one): the conversation,
        its customer and the id of its open ticket (`open_ticket_of`: a merged ticket's
        survivor is looked up only when the latest ticket is closed). None when there is
        no such conversation."""
        build = "json_build_object" if self.db.dialect == "postgresql" else "json_object"
        latest = ("FROM tickets t WHERE t.conversation_id = v.id ORDER BY CASE WHEN"
                  " t.status <> 'closed' THEN 0 ELSE 1 END, t.id DESC LIMIT 1")
        row = await self.db.fetchone(
            f"SELECT v.*, (SELECT {build}({CUSTOMER_JSON}) FROM customers c"
            " WHERE c.id = v.customer_id) AS customer_row,"
            f" (SELECT t.id {latest}) AS ticket_row_id,"
            f" (SELECT t.status {latest}) AS ticket_row_status"
            " FROM conversations v WHERE v.id = ?", conversation_id)
        if row is None:
            return None
        customer_row = row.pop("customer_row")
        ticket_id, status = row.pop("ticket_row_id"), row.pop("ticket_row_status")
        customer = None if customer_row is None else codec.customer(
            json.loads(customer_row) if isinstance(customer_row, str) else customer_row)
        if status == "closed":  # perhaps merged into a ticket still open
            ticket = await self.open_ticket_of(conversation_id)
            ticket_id = ticket.id if ticket else None
        return codec.conversation(row), customer, ticket_id

    async def open_ticket_of(self, conversation_id: int) -> Ticket | None:
        """The conversation's ticket that is not closed yet (a solved one can reopen).

        Once that ticket was merged into another, the customer's later messages belong to
        the surviving ticket (while it is not closed), not to a new one."""
        # The latest ticket not closed, else the latest one (it may have been merged).
        row = await self.db.fetchone(
            "SELECT * FROM tickets WHERE conversation_id = ?"
            " ORDER BY CASE WHEN status <> 'closed' THEN 0 ELSE 1 END, id DESC LIMIT 1",
            conversation_id,
        )
        if row is not None and row["status"] == "closed":
            for _ in range(_MAX_MERGE_HOPS):  # a merged ticket may itself have been merged
                if row is None or row["status"] != "closed":
                    break
                merged = await self.db.fetchone(
                    "SELECT data FROM events WHERE ticket_id = ? AND type = 'ticket.merged'"
                    " ORDER BY id DESC LIMIT 1", row["id"])
                into = json.loads(merged["data"]).get("into") if merged else None
                row = await self.db.fetchone("SELECT * FROM tickets WHERE id = ?", into) \
                    if isinstance(into, int) else None
        return codec.ticket(row) if row is not None and row["status"] != "closed" else None

    async def tickets(
        self, statuses: Iterable[str], queues: Iterable[str] | None = None, limit: int = 200
    ) -> list[Ticket]:
        statuses = list(statuses)
        sql = f"SELECT * FROM tickets WHERE status IN ({marks(statuses)})"
        args: list[Any] = list(statuses)
        if queues is not None:
            queues = list(queues)
            if not queues:
                return []
            sql += f" AND queue IN ({marks(queues)})"
            args += queues
        rows = await self.db.fetchall(sql + " ORDER BY id DESC LIMIT ?", *args, limit)
        return [codec.ticket(r) for r in rows]

    async def tickets_assigned_to(self, operator_id: int) -> list[Ticket]:
        """The operator's tickets that are not closed, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM tickets WHERE assignee_id = ? AND status <> 'closed' ORDER BY id",
            operator_id)
        return [codec.ticket(r) for r in rows]

    async def update_ticket(self, ticket_id: int, actor: str, event: str,
                            data: dict[str, Any] | None = None, **fields: Any) -> Ticket:
        """Change ticket fields and record the change as one event, atomically."""
        unknown = set(fields) - _TICKET_FIELDS
        if unknown:
            raise ValueError(f"not ticket fields: {sorted(unknown)}")
        async with self.db.transaction() as tx:
            before = await tx.fetchone("SELECT * FROM tickets WHERE id = ?", ticket_id)
            if before is None:
                raise LookupError(f"no ticket {ticket_id}")
            changes = {k: v for k, v in fields.items() if before[k] != v}
            assignments = ", ".join(f"{name} = ?" for name in changes)
            now = codec.ts(utcnow())
            row = await tx.fetchone(
                f"UPDATE tickets SET {assignments + ', ' if assignments else ''}updated_at = ?"
                " WHERE id = ? RETURNING *",
                *changes.values(), now, ticket_id,
            )
            assert row is not None
            detail = dict(data or {})
            detail.update({k: {"from": before[k], "to": v} for k, v in changes.items()})
            await self._event(tx, actor, event, before["conversation_id"], ticket_id, detail)
        return codec.ticket(row)

    # -- events --------------------------------------------------------------------------------

    async def add_event(self, actor: str, type_: str, *, conversation_id: int | None = None,
                        ticket_id: int | None = None, data: dict[str, Any] | None = None) -> None:
        await self._event(self.db, actor, type_, conversation_id, ticket_id, data or {})

    async def events(self, *, ticket_id: int | None = None,
                     conversation_id: int | None = None) -> list[Event]:
        if ticket_id is not None:
            rows = await self.db.fetchall("SELECT * FROM events WHERE ticket_id = ? ORDER BY id",
                                          ticket_id)
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM events WHERE conversation_id = ? ORDER BY id", conversation_id
            )
        return [codec.event(r) for r in rows]

    async def _event(self, conn: Connection, actor: str, type_: str,
                     conversation_id: int | None, ticket_id: int | None,
                     data: dict[str, Any]) -> None:
        """Record an event; inside a transaction it waits for the commit (or the next
        read), and the transaction's events go in as one INSERT."""
        pending = self.db.pending()
        if pending is not None:
            pending.event(conversation_id, ticket_id, actor, type_, data, codec.ts(utcnow()))
            return
        await conn.execute(
            "INSERT INTO events (conversation_id, ticket_id, actor, type, data, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            conversation_id, ticket_id, actor, type_, json.dumps(data, default=str),
            codec.ts(utcnow()),
        )
