"""Notifications from the company's systems: one request, at most one message, on the
customer's own channel, through the outbox.

Exactly once: the request is recorded under (integration, idempotency key) and its
message under a `reply_key` and a conversation address both derived from that key, so a
repeat, a concurrent duplicate or a replica doing the same finds what the first did and
answers with the same response. Nothing is sent here: the outbox worker delivers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from gateway.channels import Connector, ConversationKey, Identity
from gateway.config.settings import Settings
from gateway.models import Conversation, Customer, Ticket
from gateway.outreach.channel_choice import API, EMAIL, NoRoute, choose
from gateway.outreach.templates import Templates
from gateway.store import Store

log = structlog.get_logger(__name__)


class NotificationError(Exception):
    """The request cannot be taken as it is (nothing recorded): `status` is the HTTP one."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class NotificationRequest:
    integration: str
    #: The integration may link customers by e-mail address (`link_by_email`).
    trusted: bool
    customer_ref: str
    template_id: str
    idempotency_key: str
    customer_name: str = ""
    customer_email: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    ticket_id: int | None = None
    order_ref: str | None = None

    def digest(self) -> str:
        """What makes two requests the same one (a key reused for another is a conflict)."""
        parts = [self.customer_ref, self.customer_email or "", self.template_id,
                 repr(sorted(self.fields.items())), str(self.ticket_id), self.order_ref or ""]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def token(self) -> str:
        return hashlib.sha256(f"{self.integration}\0{self.idempotency_key}".encode()
                              ).hexdigest()[:24]


class Notifier:
    def __init__(self, store: Store, connectors: Mapping[str, Connector], templates: Templates,
                 settings: Settings, wake: Callable[[], None]) -> None:
        self.store = store
        self.connectors = connectors
        self.templates = templates
        self.settings = settings
        self.wake = wake

    async def notify(self, request: NotificationRequest) -> tuple[dict[str, Any], bool]:
        """(response, duplicate). Raises `NotificationError` for what is not recorded."""
        store = self.store
        known = await store.notification_by_key(request.integration, request.idempotency_key)
        if known is not None:
            return self._repeat(known, request)
        template = self.templates.get(request.template_id)
        if template is None:
            raise NotificationError(422, f"no template {request.template_id!r}")
        customer = await self._customer(request)
        if customer is None:
            return await self._record(request, None, "skipped", reason="erased",
                                      detail="this customer's data was erased")
        ticket = await self._ticket(request, customer)
        if await store.opted_out(customer.id, template.category):
            return await self._record(request, customer, "skipped", reason="opted_out",
                                      detail=f"opted out of {template.category!r}")
        ticket_conversation = (await store.get_conversation(ticket.conversation_id)
                               if ticket else None)
        route = await choose(store, self.connectors, customer, request.integration,
                             ticket_conversation)
        if isinstance(route, NoRoute):
            return await self._record(request, customer, "skipped", reason=route.reason,
                                      detail=route.detail)
        language = customer.language or (ticket.language if ticket else None) or next(
            (c.language for c in await store.recent_conversations(customer.id) if c.language),
            None)
        rendered = template.render(language, self.settings.languages.default,
                                   self._context(request, customer, ticket))
        conversation = route.conversation or await store.conversation_for(
            ConversationKey(route.channel,
                            route.connector.first_address(route.identity, request.token())),
            customer.id, rendered.language)
        meta = {"subject": rendered.subject, "notification": template.id,
                "language": rendered.language, "auto_submitted": "auto-generated"}
        if request.order_ref:
            meta["order_ref"] = request.order_ref
        message = await self._store_message(conversation, rendered.body, meta, request)
        actor = f"integration:{request.integration}"
        data = {"template": template.id, "message_id": message, "channel": route.channel}
        await store.add_event(actor, "notification.queued", conversation_id=conversation.id,
                              ticket_id=ticket.id if ticket else None, data=data)
        response, duplicate = await self._record(
            request, customer, "queued", channel=route.channel, conversation=conversation,
            message_id=message, ticket=ticket, language=rendered.language)
        self.wake()
        log.info("notification.queued", conversation_id=conversation.id,
                 template=template.id, channel=route.channel, integration=request.integration)
        return response, duplicate

    @staticmethod
    def _repeat(known: dict[str, Any], request: NotificationRequest) -> tuple[dict[str, Any], bool]:
        if known["request_digest"] != request.digest():
            raise NotificationError(409, "this idempotency_key was used for another"
                                         " notification")
        return known["response"], True

    async def _customer(self, request: NotificationRequest) -> Customer | None:
        """The integration's own customer (its id, or its trusted e-mail address, the same
        rules as `POST /api/v1/messages`); None when erased. Raises 404 for a stranger."""
        store = self.store
        address = f"{request.integration}:{request.customer_ref}"
        found = await store.customer_by_identity(API, address)
        if found is not None:
            return found
        email = request.customer_email if request.trusted else None
        refs = [(API, address)] + ([(EMAIL, email)] if email else [])
        if await store.was_erased(refs):
            return None
        if email is None:
            raise NotificationError(404, f"no customer {request.customer_ref!r} of this"
                                         " integration")
        return await store.resolve_customer(Identity(API, address, request.customer_name,
                                                     email))

    async def _ticket(self, request: NotificationRequest, customer: Customer) -> Ticket | None:
        if request.ticket_id is None:
            return None
        ticket = await self.store.get_ticket(request.ticket_id)
        if ticket is None or ticket.customer_id != customer.id:  # an id grants nothing
            raise NotificationError(404, f"no ticket {request.ticket_id} for this customer")
        return ticket

    def _context(self, request: NotificationRequest, customer: Customer,
                 ticket: Ticket | None) -> dict[str, dict[str, object]]:
        company = self.settings.company
        return {"customer": {"name": customer.name, "number": customer.number},
                "company": {"name": company.name, "email": company.email,
                            "phone": company.phone},
                "ticket": {"id": ticket.id if ticket else None},
                "order": {"ref": request.order_ref},
                "fields": dict(request.fields)}

    async def _store_message(self, conversation: Conversation, text: str, meta: dict[str, Any],
                             request: NotificationRequest) -> int:
        # add_reply returns the stored one when a concurrent duplicate was first (ON CONFLICT)
        message, _ = await self.store.add_reply(
            conversation, author="system", text=text, kind="notification", meta=meta,
            reply_key=f"notification:{request.token()}")
        return message.id

    async def _record(self, request: NotificationRequest, customer: Customer | None,
                      status: str, *, reason: str | None = None, detail: str | None = None,
                      channel: str | None = None, conversation: Conversation | None = None,
                      message_id: int | None = None, ticket: Ticket | None = None,
                      language: str | None = None) -> tuple[dict[str, Any], bool]:
        response: dict[str, Any] = {
            "status": status, "reason": reason, "detail": detail, "channel": channel,
            "language": language, "template_id": request.template_id,
            "conversation_id": conversation.id if conversation else None,
            "message_id": message_id, "ticket_id": ticket.id if ticket else None,
        }
        row, created = await self.store.record_notification(
            integration=request.integration, idempotency_key=request.idempotency_key,
            request_digest=request.digest(), customer_id=customer.id if customer else None,
            template_id=request.template_id, status=status, reason=reason, channel=channel,
            conversation_id=response["conversation_id"], message_id=message_id,
            ticket_id=response["ticket_id"], order_ref=request.order_ref, response=response)
        if not created:
            log.info("notification.duplicate", integration=request.integration)
        return row["response"], not created
