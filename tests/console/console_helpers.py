"""Plain helpers shared by the console tests (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from gateway.channels import ConversationKey, Identity
from gateway.models import utcnow
from gateway.store import Store, codec

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
AGENT_PASSWORD = "agent-password-1"

Login = Callable[..., Awaitable[str]]
Handoff = Callable[..., Awaitable[dict[str, Any]]]


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


async def bulk_tickets(store: Store, count: int, prefix: str, *, queue: str = "general",
                       priority: str = "P3", email: str | None = None) -> list[int]:
    """`count` tickets of as many API customers (or of the one with `email`), straight
    through the store (a desk's backlog is set up, not clicked together); their numbers,
    oldest first."""
    ids = []
    for i in range(count):
        address = f"{prefix}-{i}"
        customer = await store.resolve_customer(
            Identity("api", address, f"Customer {address}", email))
        conversation = await store.conversation_for(ConversationKey("api", address),
                                                    customer.id, "en")
        ticket = await store.create_ticket(conversation, queue=queue, priority=priority,
                                           subject=f"Question {address}", bot_attempts=[],
                                           actor="bot")
        ids.append(ticket.id)
    return ids


async def backdate(store: Store, ticket_ids: list[int], age: timedelta) -> None:
    """Make tickets `age` old (and changed, so the SLA timers are recomputed)."""
    created = codec.ts(utcnow() - age)
    for ticket_id in ticket_ids:
        await store.db.execute("UPDATE tickets SET created_at = ?, updated_at = ? WHERE id = ?",
                               created, codec.ts(utcnow()), ticket_id)
