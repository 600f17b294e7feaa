"""The store's half of splitting a ticket: which ticket a message of a split conversation
belongs to (`ticket_messages`), and the split itself in one transaction."""

from __future__ import annotations

import json

from gateway.models import Message, Ticket, utcnow
from gateway.store import codec
from gateway.store.db import Row
from gateway.store.ticket_queries import TicketQueries


class SplitQueries(TicketQueries):

    async def get_message(self, message_id: int) -> Message | None:
        row = await self.db.fetchone("SELECT * FROM messages WHERE id = ?", message_id)
        return codec.message(row) if row else None

    async def message_tickets(self, conversation_id: int) -> dict[int, int]:
        """Message id → ticket id for the conversation's messages placed on a ticket by a
        split (and those that came after it); empty for a conversation never split."""
        rows = await self.db.fetchall(
            "SELECT message_id, ticket_id FROM ticket_messages WHERE conversation_id = ?",
            conversation_id)
        return {int(r["message_id"]): int(r["ticket_id"]) for r in rows}

    async def is_split_off(self, ticket_id: int) -> bool:
        """Whether the ticket was split off another (it shows only its own messages)."""
        row = await self.db.fetchone(
            "SELECT 1 AS found FROM events WHERE ticket_id = ? AND type = 'ticket.split_from'"
            " LIMIT 1", ticket_id)
        return row is not None

    async def place_message(self, message: Message, ticket_id: int) -> None:
        """Put one message of a split conversation on its ticket (an operator's reply); a
        conversation never split needs no row."""
        await self.db.execute(
            "INSERT INTO ticket_messages (message_id, conversation_id, ticket_id)"
            " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM ticket_messages"
            " WHERE conversation_id = ?) ON CONFLICT (message_id) DO NOTHING",
            message.id, message.conversation_id, ticket_id, message.conversation_id)

    async def claim_new_messages(self, ticket: Ticket) -> None:
        """A customer wrote again on a split conversation and it went to `ticket`, which was
        split off: the messages since the last placed one are its own."""
        await self.db.execute(
            "INSERT INTO ticket_messages (message_id, conversation_id, ticket_id)"
            " SELECT id, conversation_id, ? FROM messages WHERE conversation_id = ?"
            " AND id > (SELECT COALESCE(MAX(message_id), 0) FROM ticket_messages"
            " WHERE conversation_id = ?) ON CONFLICT (message_id) DO NOTHING",
            ticket.id, ticket.conversation_id, ticket.conversation_id)

    async def split_ticket(self, source: Ticket, message_id: int, *, actor: str,
                           subject: str, split_off: bool) -> Ticket:
        """A new ticket for the same customer and conversation taking `message_id` and every
        later message shown on `source` (`split_off`: source itself was split off, so only
        its placed messages are its own), linked both ways in the trail; atomic."""
        now = codec.ts(utcnow())
        async with self.db.transaction() as tx:
            row: Row | None = await tx.fetchone(
                "INSERT INTO tickets (conversation_id, customer_id, status, priority, queue,"
                " assignee_id, subject, language, category, bot_attempts, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                source.conversation_id, source.customer_id,
                "open" if source.assignee_id else "new", source.priority, source.queue,
                source.assignee_id, subject, source.language, source.category,
                json.dumps([{"reason": f"split off #{source.id} by {actor}"}]), now, now)
            assert row is not None
            ticket = codec.ticket(row)
            own = ("id IN (SELECT message_id FROM ticket_messages WHERE ticket_id = ?)"
                   if split_off else
                   "(id NOT IN (SELECT message_id FROM ticket_messages WHERE conversation_id"
                   " = ? AND ticket_id <> ?))")
            await tx.execute(
                "INSERT INTO ticket_messages (message_id, conversation_id, ticket_id)"
                " SELECT id, conversation_id, ? FROM messages WHERE conversation_id = ?"
                f" AND id >= ? AND {own}"
                " ON CONFLICT (message_id) DO UPDATE SET ticket_id = excluded.ticket_id",
                ticket.id, source.conversation_id, message_id,
                *((source.id,) if split_off else (source.conversation_id, source.id)))
            for ticket_id, kind, data in (
                    (ticket.id, "ticket.created", {"queue": source.queue, "reason": "split"}),
                    (ticket.id, "ticket.split_from", {"from": source.id,
                                                      "message_id": message_id}),
                    (source.id, "ticket.split", {"to": ticket.id, "message_id": message_id})):
                await self._event(tx, actor, kind, source.conversation_id, ticket_id, data)
        return ticket
