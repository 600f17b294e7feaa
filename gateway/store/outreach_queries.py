"""The store's outreach half: notifications recorded once per idempotency key, what
customers chose about being contacted, and the marks an erasure leaves behind."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from gateway.models import Conversation, Customer, utcnow
from gateway.store import codec
from gateway.store.db import Connection
from gateway.store.queries_base import Queries

#: How many of a customer's latest conversations the channel choice looks at.
RECENT_CONVERSATIONS = 20


def erased_digest(kind: str, value: str) -> str:
    """What is kept of an erased customer's address: a digest, never the address."""
    return hashlib.sha256(f"{kind}\0{value.lower()}".encode()).hexdigest()


async def remember_erased(conn: Connection, refs: Iterable[tuple[str, str]]) -> None:
    """Inside the erasure's transaction: the digests that tell a later notification for
    the same identity or address that this person was erased (not a new customer)."""
    now = codec.ts(utcnow())
    for kind, value in refs:
        await conn.execute("INSERT INTO erased_refs (digest, created_at) VALUES (?, ?)"
                           " ON CONFLICT DO NOTHING", erased_digest(kind, value), now)


class OutreachQueries(Queries):
    # -- notifications -------------------------------------------------------------------

    async def notification_by_key(self, integration: str, key: str) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            "SELECT * FROM notifications WHERE integration = ? AND idempotency_key = ?",
            integration, key)
        return _notification(row) if row else None

    async def record_notification(self, **fields: Any) -> tuple[dict[str, Any], bool]:
        """Insert once per (integration, idempotency key); `(row, False)` when it existed."""
        fields = {**fields, "response": json.dumps(fields.get("response", {})),
                  "created_at": codec.ts(utcnow())}
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        inserted = await self.db.execute(
            f"INSERT INTO notifications ({names}) VALUES ({marks})"
            " ON CONFLICT (integration, idempotency_key) DO NOTHING", *fields.values())
        found = await self.notification_by_key(fields["integration"], fields["idempotency_key"])
        assert found is not None
        return found, inserted == 1

    # -- who the customer is, where they can be reached ------------------------------------

    async def customer_by_identity(self, channel: str, address: str) -> Customer | None:
        row = await self.db.fetchone(
            "SELECT c.* FROM customers c JOIN identities i ON i.customer_id = c.id"
            " WHERE i.channel = ? AND i.address = ?", channel, address)
        return codec.customer(row) if row else None

    async def customer_by_email(self, email: str) -> Customer | None:
        row = await self.db.fetchone("SELECT * FROM customers WHERE email = ?", email.lower())
        return codec.customer(row) if row else None

    async def identities_of(self, customer_id: int) -> list[tuple[str, str]]:
        rows = await self.db.fetchall(
            "SELECT channel, address FROM identities WHERE customer_id = ? ORDER BY id",
            customer_id)
        return [(r["channel"], r["address"]) for r in rows]

    async def recent_conversations(self, customer_id: int) -> list[Conversation]:
        """The customer's latest conversations, last active first (bounded)."""
        rows = await self.db.fetchall(
            "SELECT * FROM conversations WHERE customer_id = ? ORDER BY updated_at DESC, id DESC"
            " LIMIT ?", customer_id, RECENT_CONVERSATIONS)
        return [codec.conversation(r) for r in rows]

    async def readdress_conversation(self, conversation_id: int, address: str) -> bool:
        """Move a conversation to the address its channel gave it at the first send (a Slack
        thread exists only once its first message is posted); False when taken."""
        taken = await self.db.fetchone(
            "SELECT id FROM conversations WHERE channel = (SELECT channel FROM conversations"
            " WHERE id = ?) AND address = ?", conversation_id, address)
        if taken is not None:
            return False
        await self.db.execute("UPDATE conversations SET address = ? WHERE id = ?",
                              address, conversation_id)
        await self.db.execute("UPDATE outbox SET address = ? WHERE conversation_id = ?"
                              " AND status = 'pending'", address, conversation_id)
        return True

    async def was_erased(self, refs: Iterable[tuple[str, str]]) -> bool:
        digests = [erased_digest(kind, value) for kind, value in refs]
        if not digests:
            return False
        row = await self.db.fetchone(
            f"SELECT COUNT(*) AS n FROM erased_refs WHERE digest IN"
            f" ({', '.join('?' for _ in digests)})", *digests)
        return bool(row and row["n"])

    # -- what the customer chose -----------------------------------------------------------

    async def set_preferred_channel(self, customer_id: int, channel: str | None) -> None:
        await self.db.execute("UPDATE customers SET preferred_channel = ? WHERE id = ?",
                              channel, customer_id)

    async def set_opt_out(self, customer_id: int, category: str, opted_out: bool) -> None:
        if opted_out:
            await self.db.execute(
                "INSERT INTO contact_optouts (customer_id, category, created_at)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                customer_id, category, codec.ts(utcnow()))
        else:
            await self.db.execute(
                "DELETE FROM contact_optouts WHERE customer_id = ? AND category = ?",
                customer_id, category)

    async def opted_out(self, customer_id: int, category: str) -> bool:
        """Out of this category, or of everything (`all`)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM contact_optouts WHERE customer_id = ?"
            " AND category IN (?, 'all')", customer_id, category)
        return bool(row and row["n"])

    async def opt_outs(self, customer_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT category FROM contact_optouts WHERE customer_id = ? ORDER BY category",
            customer_id)
        return [r["category"] for r in rows]


def _notification(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "response": json.loads(row["response"] or "{}")}
