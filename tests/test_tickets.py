"""Operators' ticket actions: access by queue, transfer, status, wrap-up, merge, audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from gateway.access.auth import hash_password
from gateway.channels import ConversationKey, Identity
from gateway.delivery.notify import Hub
from gateway.errors import AccessDenied
from gateway.models import Operator, Ticket
from gateway.store import Store, store_for
from gateway.tickets.handoff import open_or_reopen_ticket
from gateway.tickets.service import TicketError, TicketService


@dataclass
class Desk:
    store: Store
    service: TicketService
    hub: Hub
    agent: Operator
    other_agent: Operator
    supervisor: Operator
    ticket: Ticket


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    store = store_for(database_url)
    await store.open()
    hub = Hub()
    service = TicketService(store, hub, lambda: None, queues=["sales", "billing"],
                            outcome_codes=["answered", "duplicate"])
    password = hash_password("password-123")
    agent = await store.create_operator("ann", "Ann", password, "agent", ["en"], ["sales"])
    other = await store.create_operator("bert", "Bert", password, "agent", ["nl"], ["billing"])
    supervisor = await store.create_operator("sam", "Sam", password, "supervisor")
    customer = await store.resolve_customer(Identity("api", "c1", "Chloé"))
    conversation = await store.conversation_for(ConversationKey("api", "c1:1"), customer.id, "fr")
    ticket = await open_or_reopen_ticket(store, hub, conversation, reason="asked for a human",
                                         queue="sales", attempts=[], subject="Leasing?")
    yield Desk(store, service, hub, agent, other, supervisor, ticket)
    await store.close()


async def test_agent_cannot_open_a_ticket_outside_their_queues(desk: Desk) -> None:
    with pytest.raises(AccessDenied):
        await desk.service.get(desk.other_agent, desk.ticket.id)
    assert await desk.service.visible(desk.other_agent, ("new",)) == []
    assert [t.id for t in await desk.service.visible(desk.supervisor, ("new",))] == \
        [desk.ticket.id]


async def test_reply_assigns_opens_and_queues_the_message(desk: Desk) -> None:
    message = await desk.service.reply(desk.agent, desk.ticket.id, "Bonjour Chloé !")
    ticket = await desk.store.get_ticket(desk.ticket.id)
    assert ticket is not None and ticket.status == "open" and ticket.assignee_id == desk.agent.id
    (entry,) = await desk.store.outbox_entries("pending")
    assert entry.message_id == message.id and entry.payload["author"] == "operator"
    conversation = await desk.store.get_conversation(ticket.conversation_id)
    assert conversation is not None and conversation.owner == "operator"


async def test_transfer_to_a_queue_needs_a_reason_and_is_audited(desk: Desk) -> None:
    with pytest.raises(TicketError, match="reason"):
        await desk.service.transfer(desk.agent, desk.ticket.id, reason=" ", queue="billing")
    moved = await desk.service.transfer(desk.agent, desk.ticket.id, reason="invoice question",
                                        queue="billing")
    assert moved.queue == "billing" and moved.assignee_id is None
    assert (await desk.service.get(desk.other_agent, moved.id)).id == moved.id
    with pytest.raises(AccessDenied):
        await desk.service.get(desk.agent, moved.id)
    event = (await desk.store.events(ticket_id=moved.id))[-1]
    assert (event.actor, event.type) == ("ann", "ticket.transferred")
    assert event.data["reason"] == "invoice question"
    assert event.data["queue"] == {"from": "sales", "to": "billing"}


async def test_transfer_to_an_operator_outside_the_queue_is_refused(desk: Desk) -> None:
    with pytest.raises(TicketError, match="does not work the sales queue"):
        await desk.service.transfer(desk.agent, desk.ticket.id, reason="x",
                                    assignee=desk.other_agent)
    moved = await desk.service.transfer(desk.supervisor, desk.ticket.id, reason="speaks Dutch",
                                        queue="billing", assignee=desk.other_agent)
    assert moved.assignee_id == desk.other_agent.id


async def test_pending_then_customer_reply_reopens(desk: Desk) -> None:
    pending = await desk.service.set_status(desk.agent, desk.ticket.id, "pending")
    assert pending.status == "pending"
    conversation = await desk.store.get_conversation(desk.ticket.conversation_id)
    assert conversation is not None
    reopened = await open_or_reopen_ticket(desk.store, desk.hub, conversation,
                                           reason="customer replied", queue="sales",
                                           attempts=[], subject="x")
    assert reopened.id == desk.ticket.id and reopened.status == "open"


async def test_close_needs_a_wrap_up_and_hands_the_conversation_back(desk: Desk) -> None:
    with pytest.raises(TicketError, match="pick an outcome"):
        await desk.service.close(desk.agent, desk.ticket.id)
    closed = await desk.service.close(desk.agent, desk.ticket.id, outcome="answered",
                                      summary="Explained leasing.")
    assert closed.status == "closed"
    event = (await desk.store.events(ticket_id=closed.id))[-1]
    assert event.data["outcome"] == "answered" and event.data["summary"] == "Explained leasing."
    conversation = await desk.store.get_conversation(closed.conversation_id)
    assert conversation is not None and conversation.owner == "bot"
    with pytest.raises(TicketError, match="closed"):
        await desk.service.reply(desk.agent, closed.id, "too late")


async def test_merge_closes_the_duplicate_and_links_both(desk: Desk) -> None:
    conversation = await desk.store.get_conversation(desk.ticket.conversation_id)
    assert conversation is not None
    second = await desk.store.create_ticket(conversation, queue="sales", priority="P3",
                                            subject="Leasing again", bot_attempts=[],
                                            actor="bot")
    target = await desk.service.merge(desk.agent, second.id, desk.ticket.id)
    assert target.id == desk.ticket.id
    duplicate = await desk.store.get_ticket(second.id)
    assert duplicate is not None and duplicate.status == "closed"
    assert (await desk.store.events(ticket_id=target.id))[-1].data == {"from": second.id}


async def test_internal_note_is_never_sent(desk: Desk) -> None:
    await desk.service.note(desk.agent, desk.ticket.id, "customer is a VIP")
    assert await desk.store.outbox_entries() == []
    assert (await desk.store.events(ticket_id=desk.ticket.id))[-1].data == \
        {"text": "customer is a VIP"}


async def test_access_is_checked_before_anything_else(desk: Desk) -> None:
    with pytest.raises(AccessDenied):
        await desk.service.close(desk.other_agent, desk.ticket.id)
    with pytest.raises(AccessDenied):
        await desk.service.set_status(desk.other_agent, desk.ticket.id, "bogus")


async def test_a_closed_ticket_cannot_be_taken(desk: Desk) -> None:
    await desk.service.close(desk.agent, desk.ticket.id, outcome="answered")
    with pytest.raises(TicketError, match="closed"):
        await desk.service.take(desk.agent, desk.ticket.id)


async def test_the_customer_is_told_of_status_changes_in_their_language(desk: Desk) -> None:
    await desk.service.take(desk.agent, desk.ticket.id)
    await desk.service.set_status(desk.agent, desk.ticket.id, "pending")
    await desk.service.set_status(desk.agent, desk.ticket.id, "solved")
    notices = [m for m in await desk.store.messages(desk.ticket.conversation_id)
               if m.kind == "notice"]
    assert [m.text for m in notices] == [
        f"Ann s'occupe maintenant de votre question (ticket n° {desk.ticket.id}).",
        "Nous attendons votre réponse pour poursuivre le traitement de votre question"
        f" (ticket n° {desk.ticket.id}).",
        f"Nous considérons votre question comme résolue (ticket n° {desk.ticket.id})."
        " Répondez simplement si vous avez encore besoin d'aide.",
    ]
    assert all(m.author == "system" for m in notices)
    assert len(await desk.store.outbox_entries("pending")) == 3


async def test_an_operator_opens_a_ticket_for_a_phone_call(desk: Desk) -> None:
    ticket = await desk.service.create(
        desk.agent, name="Chloé", email=None, subject="Wants a test ride",
        text="Called to book a test ride on Saturday", queue="sales", priority="P3")
    assert ticket.status == "open" and ticket.assignee_id == desk.agent.id
    (message,) = await desk.store.messages(ticket.conversation_id)
    assert message.text == "Called to book a test ride on Saturday" and message.handled
    conversation = await desk.store.get_conversation(ticket.conversation_id)
    assert conversation is not None and conversation.channel == "phone"
    assert conversation.owner == "operator"
    with pytest.raises(AccessDenied):
        await desk.service.create(desk.agent, name="X", email=None, subject="s", text="t",
                                  queue="billing", priority="P3")


async def test_a_phone_contact_joins_the_customer_known_by_email(desk: Desk) -> None:
    known = await desk.store.resolve_customer(Identity("email", "max@example.be", "Max",
                                                       "max@example.be"))
    ticket = await desk.service.create(
        desk.agent, name="Max", email="Max@Example.be", subject="Invoice", text="Needs a copy",
        queue="sales", priority="P4")
    assert ticket.customer_id == known.id


async def test_priority_and_subject_can_be_corrected_with_an_audit_trail(desk: Desk) -> None:
    with pytest.raises(TicketError, match="priority must be one of"):
        await desk.service.update(desk.agent, desk.ticket.id, priority="P9")
    updated = await desk.service.update(desk.agent, desk.ticket.id, priority="P1",
                                        subject="Leasing for 40 bikes")
    assert (updated.priority, updated.subject) == ("P1", "Leasing for 40 bikes")
    event = (await desk.store.events(ticket_id=updated.id))[-1]
    assert event.type == "ticket.updated" and event.data["priority"] == {"from": "P3",
                                                                         "to": "P1"}
