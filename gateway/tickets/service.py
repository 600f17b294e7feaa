"""What operators do to tickets: reply, take, transfer, note, change status, merge, split,
close.

One place, used by the console, the API and Slack alike, so every path checks the same
access rules, writes the same events and notifies the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

from gateway import tags
from gateway.catalogue import N_
from gateway.channels import ConversationKey, Identity
from gateway.delivery.notify import Hub
from gateway.errors import AccessDenied, GatewayError
from gateway.models import Message, Operator, Ticket
from gateway.store import Store
from gateway.store.attachment_rows import AttachmentLike
from gateway.texts import Texts
from gateway.tickets import notices
from gateway.tickets.handoff import subject_from
from gateway.tickets.lifecycle import TRANSITIONS, IllegalTransition, check_transition
from knowledge_base.model import CATEGORIES

#: Contacts an operator records in the console (see connectors/phone.py).
PHONE = "phone"

#: Statuses an operator may set directly; `closed` goes through `close` (it needs a wrap-up).
SETTABLE_STATUSES = ("open", "pending", "solved")


class TicketError(GatewayError):
    """An operation that does not apply to this ticket (e.g. replying to a closed one).

    `message` is an English msgid marked with `N_` (the console's catalogue) whose
    `%(name)s` placeholders `params` fill: `str()` is the English sentence (the API, Slack,
    logs); the console says it in the operator's language (`gateway.console.i18n.said`).
    """

    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        super().__init__(message % params if params else message)


def _check(ticket: Ticket, status: str) -> None:
    try:
        check_transition(ticket.status, status)
    except IllegalTransition as exc:
        allowed = ", ".join(sorted(TRANSITIONS.get(exc.current, frozenset())))
        if allowed:
            raise TicketError(N_("ticket %(id)s: a ticket cannot go from %(current)s to"
                                 " %(wanted)s (allowed: %(allowed)s)"), id=ticket.id,
                              current=exc.current, wanted=exc.wanted, allowed=allowed) from exc
        raise TicketError(N_("ticket %(id)s: a ticket cannot go from %(current)s to %(wanted)s"
                             " (%(current)s is final)"), id=ticket.id, current=exc.current,
                          wanted=exc.wanted) from exc


def can_see(operator: Operator, ticket: Ticket) -> bool:
    """Agents see their queues only; supervisors and admins see everything."""
    return operator.role in ("supervisor", "admin") or ticket.queue in operator.queues


class TicketService:
    def __init__(self, store: Store, hub: Hub, wake_outbox: Callable[[], None],
                 queues: Sequence[str] = (), outcome_codes: Sequence[str] = (),
                 priorities: Sequence[str] = ("P1", "P2", "P3", "P4"),
                 texts: Texts | None = None,
                 on_solved: Callable[[Ticket], Awaitable[object]] | None = None) -> None:
        self.store = store
        #: Told when a ticket is solved or closed (the satisfaction survey is scheduled).
        self.on_solved = on_solved
        self.texts = texts or Texts()
        self.hub = hub
        self.wake_outbox = wake_outbox
        self.queues = tuple(queues)
        self.outcome_codes = tuple(outcome_codes)
        self.priorities = tuple(priorities)

    async def get(self, operator: Operator, ticket_id: int) -> Ticket:
        """The ticket, or `LookupError`; `AccessDenied` outside the operator's queues."""
        return self.checked(operator, ticket_id, await self.store.get_ticket(ticket_id))

    @staticmethod
    def checked(operator: Operator, ticket_id: int, ticket: Ticket | None) -> Ticket:
        """`get`'s checks on a ticket read otherwise (the ticket page reads it with its
        context in one statement): `LookupError`, `AccessDenied`, or the ticket."""
        if ticket is None:
            raise LookupError(f"no ticket {ticket_id}")
        if not can_see(operator, ticket):
            raise AccessDenied(f"ticket {ticket_id} is outside your queues")
        return ticket

    async def visible(self, operator: Operator, statuses: tuple[str, ...]) -> list[Ticket]:
        queues = None if operator.role in ("supervisor", "admin") else operator.queues
        return await self.store.tickets(statuses, queues)

    async def reply(self, operator: Operator, ticket_id: int, text: str,
                    files: Sequence[AttachmentLike] = ()) -> Message:
        """Send an operator's reply to the customer through their own channel (via the
        outbox), with its `files` stored in the same transaction."""
        ticket = await self.get(operator, ticket_id)
        if ticket.status == "closed":
            raise TicketError(N_("ticket %(id)s is closed"), id=ticket_id)
        conversation = await self.store.get_conversation(ticket.conversation_id)
        assert conversation is not None
        message, _ = await self.store.add_reply(
            conversation, author="operator", text=text, kind="operator", operator_id=operator.id,
            meta={"operator": operator.display_name, "ticket_id": ticket.id}, files=files,
        )
        await self.store.place_message(message, ticket.id)  # a split conversation: ours
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

    async def create(self, operator: Operator, *, name: str, email: str | None, subject: str,
                     text: str, queue: str, priority: str) -> Ticket:
        """A ticket the operator opens for a contact made by phone or at the counter.

        The customer is found (or created) by e-mail address, so the contact joins their
        history; the operator owns the ticket from the start.
        """
        if queue not in self.queues:
            raise TicketError(N_("no queue named %(queue)s"), queue=repr(queue))
        if operator.role == "agent" and queue not in operator.queues:
            raise AccessDenied(f"the {queue} queue is not yours")
        if not subject.strip() or not text.strip():
            raise TicketError(N_("a ticket needs a subject and what the customer asked"))
        key = uuid.uuid4().hex
        customer = await self.store.resolve_customer(
            Identity(PHONE, key, name.strip(), email.strip().lower() if email else None))
        conversation = await self.store.conversation_for(ConversationKey(PHONE, key),
                                                         customer.id, None)
        message, _ = await self.store.add_inbound(conversation, text.strip(), f"{PHONE}:{key}",
                                                  {"recorded_by": operator.username})
        await self.store.mark_handled(message.id)  # people, not the bot, handle this one
        ticket = await self.store.create_ticket(
            conversation, queue=queue, priority=priority, subject=subject.strip(),
            bot_attempts=[{"reason": f"opened by {operator.username}"}],
            actor=operator.username, reason="opened by an operator", status="open")
        ticket = await self.store.update_ticket(ticket.id, operator.username, "ticket.assigned",
                                                {"by": operator.username},
                                                assignee_id=operator.id)
        await self.store.update_conversation(conversation.id, owner="operator")
        self._changed(ticket)
        return ticket

    async def update(self, operator: Operator, ticket_id: int, *, priority: str | None = None,
                     subject: str | None = None, category: str | None = None) -> Ticket:
        """Correct a ticket's priority, subject or purpose category (audited like every
        change): the bot's guess of why the customer got in touch is not always right.
        Nothing differs, nothing is written: a form saved unchanged leaves no empty entry."""
        ticket = await self.get(operator, ticket_id)
        changes: dict[str, object] = {}
        if category is not None:
            if category not in CATEGORIES:
                raise TicketError(N_("category must be one of %(choices)s"),
                                  choices=", ".join(CATEGORIES))
            changes["category"] = category
        if priority is not None:
            if priority not in self.priorities:
                raise TicketError(N_("priority must be one of %(choices)s"),
                                  choices=", ".join(self.priorities))
            changes["priority"] = priority
        if subject is not None:
            if not subject.strip():
                raise TicketError(N_("the subject cannot be empty"))
            changes["subject"] = subject.strip()
        changes = {k: v for k, v in changes.items() if getattr(ticket, k) != v}
        if not changes:
            return ticket
        ticket = await self.store.update_ticket(ticket.id, operator.username, "ticket.updated",
                                                None, **changes)
        self._changed(ticket)
        return ticket

    async def tag(self, operator: Operator, ticket_id: int, add: Sequence[str] = (),
                  remove: Sequence[str] = ()) -> tuple[list[str], list[str]]:
        """Add and remove tags (already `gateway.tags.normalise`d); one audit event."""
        ticket = await self.get(operator, ticket_id)
        if add and await self.store.tag_count(ticket.id) + len(add) > tags.MAX_TAGS:
            raise TicketError(N_("a ticket carries at most %(num)s tags"), num=tags.MAX_TAGS)
        changed = await self.store.change_tags(ticket.id, operator.username, add, remove)
        if any(changed):
            self._changed(ticket)
        return changed

    async def take(self, operator: Operator, ticket_id: int) -> Ticket:
        """Own the ticket; a colleague who owned it is notified that it was taken over."""
        ticket = await self.get(operator, ticket_id)
        if ticket.status == "closed":
            raise TicketError(N_("ticket %(id)s is closed"), id=ticket_id)
        before = ticket.assignee_id
        ticket = await self.store.update_ticket(
            ticket.id, operator.username, "ticket.assigned", {"by": operator.username},
            assignee_id=operator.id, status="open" if ticket.status == "new" else ticket.status,
        )
        await self.store.update_conversation(ticket.conversation_id, owner="operator")
        await self._tell_customer(ticket, "status_taken", operator=operator.display_name)
        if before is not None and before != operator.id:
            await notices.notify(self.store, self.hub, before, "taken", ticket,
                                 operator.display_name,
                                 f"{operator.display_name} took over #{ticket.id}")
        self._changed(ticket)
        return ticket

    async def transfer(self, operator: Operator, ticket_id: int, *, reason: str,
                       queue: str | None = None, assignee: Operator | None = None) -> Ticket:
        """Give the ticket to another queue or a named operator, saying why."""
        ticket = await self.get(operator, ticket_id)
        if not reason.strip():
            raise TicketError(N_("a transfer needs a reason"))
        changes: dict[str, object] = {}
        if queue is not None:
            if queue not in self.queues:
                raise TicketError(N_("no queue named %(queue)s"), queue=repr(queue))
            changes["queue"] = queue
            changes["assignee_id"] = None
        if assignee is not None:
            target_queue = str(changes.get("queue", ticket.queue))
            if assignee.role == "agent" and target_queue not in assignee.queues:
                raise TicketError(N_("%(name)s does not work the %(queue)s queue"),
                                  name=assignee.username, queue=target_queue)
            changes["assignee_id"] = assignee.id
        if not changes:
            raise TicketError(N_("transfer to a queue or an operator"))
        previous_queue = ticket.queue
        ticket = await self.store.update_ticket(
            ticket.id, operator.username, "ticket.transferred",
            {"reason": reason, "to_operator": assignee.username if assignee else None}, **changes)
        await self.store.update_conversation(
            ticket.conversation_id, owner="operator" if ticket.assignee_id else "queue")
        if assignee is not None and assignee.id != operator.id:
            await notices.notify(self.store, self.hub, assignee.id, "assigned", ticket,
                                 operator.display_name,
                                 f"#{ticket.id} {ticket.subject} (from {operator.display_name}:"
                                 f" {reason.strip()})")
        self._changed(ticket, previous_queue=previous_queue)
        return ticket

    async def release(self, actor: Operator, operator: Operator, reason: str) -> list[Ticket]:
        """Put every unclosed ticket of `operator` back in its queue, unassigned: nobody
        would answer them otherwise (an operator who left). The queue's team sees them."""
        released = []
        for ticket in await self.store.tickets_assigned_to(operator.id):
            ticket = await self.store.update_ticket(
                ticket.id, actor.username, "ticket.released",
                {"reason": reason, "from_operator": operator.username}, assignee_id=None)
            await self.store.update_conversation(ticket.conversation_id, owner="queue")
            self._changed(ticket)
            released.append(ticket)
        return released

    async def set_status(self, operator: Operator, ticket_id: int, status: str) -> Ticket:
        """open, pending (waiting on the customer) or solved; a customer reply reopens."""
        ticket = await self.get(operator, ticket_id)
        if status not in SETTABLE_STATUSES:
            raise TicketError(N_("status must be one of %(choices)s"),
                              choices=", ".join(SETTABLE_STATUSES))
        _check(ticket, status)
        changed = ticket.status != status
        ticket = await self.store.update_ticket(ticket.id, operator.username,
                                                f"ticket.{status}", status=status)
        if changed and status in ("pending", "solved"):
            await self._tell_customer(ticket, f"status_{status}")
        if changed and status == "solved" and self.on_solved is not None:
            await self.on_solved(ticket)
        self._changed(ticket)
        return ticket

    async def note(self, operator: Operator, ticket_id: int, text: str) -> None:
        """An internal note: kept on the ticket, never sent to the customer."""
        ticket = await self.get(operator, ticket_id)
        await self.store.add_event(operator.username, "ticket.note", ticket_id=ticket.id,
                                   conversation_id=ticket.conversation_id, data={"text": text})
        if "@" in text:
            for colleague in notices.mentioned(text, await self.store.operators()):
                # only those who may open the ticket are told of it; others stay text
                if colleague.id != operator.id and can_see(colleague, ticket):
                    await notices.notify(self.store, self.hub, colleague.id, "mention", ticket,
                                         operator.display_name,
                                         f"#{ticket.id} {ticket.subject}: {text}")
        self._changed(ticket)

    async def close(self, operator: Operator, ticket_id: int, outcome: str = "",
                    summary: str = "") -> Ticket:
        """Close with a wrap-up (outcome code + summary): with the transcript, the contact record.

        The conversation goes back to the bot for the customer's next question.
        """
        ticket = await self.get(operator, ticket_id)
        _check(ticket, "closed")
        if self.outcome_codes and outcome not in self.outcome_codes:
            raise TicketError(N_("pick an outcome: %(choices)s"),
                              choices=", ".join(self.outcome_codes))
        ticket = await self.store.update_ticket(
            ticket.id, operator.username, "ticket.closed",
            {"outcome": outcome, "summary": summary}, status="closed")
        await self.store.update_conversation(ticket.conversation_id, owner="bot")
        if self.on_solved is not None and outcome != "duplicate":
            await self.on_solved(ticket)  # closed without being solved first: the end too
        self._changed(ticket)
        return ticket

    async def merge(self, operator: Operator, duplicate_id: int, into_id: int) -> Ticket:
        """Close a duplicate ticket into another one of the same customer, linking both."""
        duplicate = await self.get(operator, duplicate_id)
        target = await self.get(operator, into_id)
        if duplicate.id == target.id or duplicate.customer_id != target.customer_id:
            raise TicketError(N_("only another ticket of the same customer can be merged"))
        _check(duplicate, "closed")
        await self.store.update_ticket(duplicate.id, operator.username, "ticket.merged",
                                       {"into": target.id}, status="closed")
        await self.store.add_event(operator.username, "ticket.merged_from", ticket_id=target.id,
                                   conversation_id=target.conversation_id,
                                   data={"from": duplicate.id})
        self._changed(duplicate)
        self._changed(target)
        return target

    async def split(self, operator: Operator, ticket_id: int, message_id: int) -> Ticket:
        """Move a customer message and everything after it on this ticket to a new ticket
        for the same customer (a second matter raised in the same conversation), linked
        both ways. The conversation goes on with the new ticket: while it is open, the
        customer's later messages land there (`open_ticket_of` takes the newest). The new
        ticket keeps the assignee, who is told if someone else split it."""
        ticket = await self.get(operator, ticket_id)
        if ticket.status == "closed":
            raise TicketError(N_("ticket %(id)s is closed"), id=ticket_id)
        message = await self.store.get_message(message_id)
        placed = await self.store.message_tickets(ticket.conversation_id)
        split_off = await self.store.is_split_off(ticket.id)
        shown_here = message is not None and message.conversation_id == \
            ticket.conversation_id and (placed.get(message.id) == ticket.id if split_off
                                        else placed.get(message.id, ticket.id) == ticket.id)
        if message is None or not shown_here or message.author != "customer":
            raise TicketError(N_("pick a customer message of this ticket to split off"))
        def here(message_id: int) -> bool:
            return placed.get(message_id) == ticket.id if split_off \
                else placed.get(message_id, ticket.id) == ticket.id

        if not any(m.direction == "inbound" and m.id < message.id and here(m.id)
                   for m in await self.store.messages(ticket.conversation_id)):
            raise TicketError(N_("this message starts the ticket: split off a later one"))
        new = await self.store.split_ticket(ticket, message.id, actor=operator.username,
                                            subject=subject_from(message.text),
                                            split_off=split_off)
        if new.assignee_id is not None and new.assignee_id != operator.id:
            await notices.notify(self.store, self.hub, new.assignee_id, "assigned", new,
                                 operator.display_name,
                                 f"#{new.id} {new.subject} (split off #{ticket.id})")
        self._changed(ticket)
        self._changed(new)
        return new

    async def _tell_customer(self, ticket: Ticket, template: str, **values: object) -> None:
        """Keep the customer informed, on their own channel and in their language."""
        conversation = await self.store.get_conversation(ticket.conversation_id)
        assert conversation is not None
        await self.store.add_reply(
            conversation, author="system", kind="notice",
            text=self.texts(template, conversation.language, ticket=ticket.id, **values),
            meta={"ticket_id": ticket.id, "notice": template},
        )
        self.wake_outbox()

    def _changed(self, ticket: Ticket, previous_queue: str | None = None) -> None:
        """Tell live views; a transfer also names the queue the ticket left."""
        note: dict[str, object] = {"type": "ticket", "ticket_id": ticket.id,
                                   "queue": ticket.queue}
        if previous_queue is not None and previous_queue != ticket.queue:
            note["previous_queue"] = previous_queue
        self.hub.publish("tickets", note)
        self.hub.publish(f"ticket:{ticket.id}", {"type": "ticket", "ticket_id": ticket.id})
