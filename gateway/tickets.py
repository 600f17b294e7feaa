"""What operators do to tickets: reply, take, note, close. One place, used by the console,
the API and Slack alike, so every path writes the same events and notifies the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import AccessDenied
from gateway.models import Message, Operator, Ticket
from gateway.notify import Hub
from gateway.store import Store


def can_see(operator: Operator, ticket: Ticket) -> bool:
    """Agents see their queues only; supervisors and admins see everything."""
    return operator.role in ("supervisor", "admin") or ticket.queue in operator.queues


class TicketService:
    def __init__(self, store: Store, hub: Hub, wake_outbox: Callable[[], None]) -> None:
        self.store = store
        self.hub = hub
        self.wake_outbox = wake_outbox

    async def get(self, operator: Operator, ticket_id: int) -> Ticket:
        """The ticket, or `LookupError`; `AccessDenied` outside the operator's queues."""
        ticket = await self.store.get_ticket(ticket_id)
        if ticket is None:
            raise LookupError(f"no ticket {ticket_id}")
        if not can_see(operator, ticket):
            raise AccessDenied(f"ticket {ticket_id} is outside your queues")
        return ticket

    async def visible(self, operator: Operator, statuses: tuple[str, ...]) -> list[Ticket]:
        queues = None if operator.role in ("supervisor", "admin") else operator.queues
        return await self.store.tickets(statuses, queues)

    async def reply(self, operator: Operator, ticket_id: int, text: str) -> Message:
        """Send an operator's reply to the customer through their own channel (via the outbox)."""
        ticket = await self.get(operator, ticket_id)
        conversation = await self.store.get_conversation(ticket.conversation_id)
        assert conversation is not None
        message, _ = await self.store.add_reply(
            conversation, author="operator", text=text, kind="operator", operator_id=operator.id,
            meta={"operator": operator.display_name, "ticket_id": ticket.id},
        )
        changes: dict[str, object] = {}
        if ticket.status == "new":
            changes["status"] = "open"
        if ticket.assignee_id is None:
            changes["assignee_id"] = operator.id
        await self.store.update_ticket(ticket.id, operator.username, "ticket.replied",
                                       {"message_id": message.id}, **changes)
        if conversation.owner != "operator":
            await self.store.update_conversation(conversation.id, owner="operator")
        self.wake_outbox()
        self._changed(ticket)
        return message

    async def take(self, operator: Operator, ticket_id: int) -> Ticket:
        ticket = await self.get(operator, ticket_id)
        ticket = await self.store.update_ticket(
            ticket.id, operator.username, "ticket.assigned", {"by": operator.username},
            assignee_id=operator.id, status="open" if ticket.status == "new" else ticket.status,
        )
        await self.store.update_conversation(ticket.conversation_id, owner="operator")
        self._changed(ticket)
        return ticket

    async def note(self, operator: Operator, ticket_id: int, text: str) -> None:
        """An internal note: kept on the ticket, never sent to the customer."""
        ticket = await self.get(operator, ticket_id)
        await self.store.add_event(operator.username, "ticket.note", ticket_id=ticket.id,
                                   conversation_id=ticket.conversation_id, data={"text": text})
        self._changed(ticket)

    async def close(self, operator: Operator, ticket_id: int, summary: str = "") -> Ticket:
        """Close the ticket and give the conversation back to the bot for the next question."""
        ticket = await self.get(operator, ticket_id)
        ticket = await self.store.update_ticket(ticket.id, operator.username, "ticket.closed",
                                                {"summary": summary}, status="closed")
        await self.store.update_conversation(ticket.conversation_id, owner="bot")
        self._changed(ticket)
        return ticket

    def _changed(self, ticket: Ticket) -> None:
        self.hub.publish("tickets", {"type": "ticket", "ticket_id": ticket.id,
                                     "queue": ticket.queue})
        self.hub.publish(f"ticket:{ticket.id}", {"type": "ticket", "ticket_id": ticket.id})
