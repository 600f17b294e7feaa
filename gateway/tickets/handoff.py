"""Turning a conversation the bot should not answer into a ticket for people.

One explicit owner state per conversation (bot → queue → operator) silences the bot as
soon as people own it, so the bot never talks over an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.delivery.notify import Hub
from gateway.models import Conversation, Ticket
from gateway.store import Store
from gateway.tickets import notices
from gateway.tickets.lifecycle import reopen_status

DEFAULT_PRIORITY = "P3"


def subject_from(text: str, limit: int = 80) -> str:
    line = " ".join(text[: 100 * limit].split())  # a subject, not a pass over a 5 MB mail
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


async def open_or_reopen_ticket(
    store: Store, hub: Hub, conversation: Conversation, *, reason: str, queue: str,
    attempts: Sequence[dict[str, Any]], subject: str, priority: str = DEFAULT_PRIORITY,
    take_over: bool = True, first_contact: bool = False, excerpt: str = "",
) -> Ticket:
    """The conversation's live ticket, or a new one.

    A customer writing again reopens a solved ticket and ends the wait of a pending one.
    `take_over=False` leaves the owner to the caller: the bot's hand-off moves the
    conversation to the queue only once its reply is stored, so a crash in between is
    decided again as the bot's and the hand-off finished, never left silent.
    `first_contact`: the conversation was opened by the message being decided, so it has
    no ticket to look for. The assignee of a ticket the customer wrote to again is told
    (`excerpt`: the start of what they wrote).
    """
    ticket = None if first_contact else await store.open_ticket_of(conversation.id)
    if ticket is not None:
        if await store.is_split_off(ticket.id):  # the customer's message is its own
            await store.claim_new_messages(ticket)
        status = reopen_status(ticket.status)
        if status is not None:
            ticket = await store.update_ticket(ticket.id, "customer", "ticket.reopened",
                                               {"reason": reason}, status=status)
        if ticket.assignee_id is not None:
            await notices.notify(store, hub, ticket.assignee_id, "customer_reply", ticket,
                                 "customer", f"#{ticket.id} {ticket.subject}: {excerpt}"
                                 if excerpt else f"#{ticket.id} {ticket.subject}")
    else:
        ticket = await store.create_ticket(
            conversation, queue=queue, priority=priority, subject=subject,
            bot_attempts=attempts, actor="bot", reason=reason,
        )
        # a reply to a campaign: the ticket says which one (a first contact answers none)
        campaign = None if first_contact else await store.campaign_of_conversation(
            conversation.id)
        if campaign is not None:
            await store.change_tags(ticket.id, "bot", [f"campaign-{campaign}"], [])
    if take_over and conversation.owner == "bot":
        await store.update_conversation(conversation.id, owner="queue")
    hub.publish("tickets", {"type": "ticket", "ticket_id": ticket.id, "queue": ticket.queue})
    hub.publish(f"ticket:{ticket.id}", {"type": "ticket", "ticket_id": ticket.id})
    return ticket
