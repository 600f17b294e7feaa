"""The store's customers and conversations: who wrote, and where the conversation lives."""

from __future__ import annotations

import json
from typing import Any

from gateway.channels import ConversationKey, Identity
from gateway.models import (
    Conversation,
    Customer,
    utcnow,
)
from gateway.store import codec
from gateway.store.db import Connection
from gateway.store.queries_base import Queries

_CONVERSATION_FIELDS = frozenset({"owner", "language", "category", "last_article_id",
                                  "verified_number"})
#: The customer row's columns `codec.customer` reads, as one JSON object's key/value list.
CUSTOMER_JSON = ", ".join(f"'{column}', c.{column}" for column in (
    "id", "name", "email", "language", "segment", "created_at", "number", "preferred_channel"))


class PeopleQueries(Queries):
    # -- customers -----------------------------------------------------------------------------

    async def resolve_customer(self, identity: Identity, *, read_first: bool = True,
                               unlinked: bool = False) -> Customer:
        """The customer behind a channel identity, linked by e-mail address across channels.

        Safe when replicas (or concurrent requests) see one new customer's first messages at
        once: the inserts are `ON CONFLICT` and the loser of the race gets the winner's
        customer instead of a unique violation. `unlinked`: the caller has just found the
        identity linked to nobody (`open_as` returned None), so it is not read again: one
        that another transaction links meanwhile is read once `identities` conflicts.
        """
        email = identity.email.lower() if identity.email else None
        # The common case, a customer seen before, is one read outside any transaction
        # (`read_first=False`: the caller has just found them unknown, see `open_as`).
        known = await self._customer_of(self.db, identity) if read_first and not unlinked \
            else None
        if known is not None and (not email or known["email"]):
            return codec.customer(known)
        async with self.db.transaction() as tx:
            row = None if unlinked else await self._customer_of(tx, identity)
            if row is not None:
                # Learn the address late (e.g. Slack's users.info answered only now), unless
                # another customer already has it: two records are never merged silently.
                if email and not row["email"] and await tx.fetchone(
                        "SELECT id FROM customers WHERE email = ?", email) is None:
                    await tx.execute("UPDATE customers SET email = ? WHERE id = ?",
                                     email, row["id"])
                    row["email"] = email
                return codec.customer(row)
            now = codec.ts(utcnow())
            created = None
            if email:
                # The address's customer, new or not, in one statement (a no-op update on
                # conflict, so that RETURNING gives the existing row).
                row = await tx.fetchone(
                    "INSERT INTO customers (name, email, created_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (email) DO UPDATE SET email = customers.email RETURNING *",
                    identity.name, email, now)
            else:
                row = created = await tx.fetchone(
                    "INSERT INTO customers (name, email, created_at) VALUES (?, NULL, ?)"
                    " RETURNING *", identity.name, now)
            assert row is not None
            linked = await tx.execute(
                "INSERT INTO identities (customer_id, channel, address, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (channel, address) DO NOTHING",
                row["id"], identity.channel, identity.address, now,
            )
            if linked == 0:  # another transaction linked this identity first: theirs wins
                if created is not None:
                    await tx.execute("DELETE FROM customers WHERE id = ?", created["id"])
                row = await self._customer_of(tx, identity)
                assert row is not None
            return codec.customer(row)

    @staticmethod
    async def _customer_of(tx: Connection, identity: Identity) -> dict[str, Any] | None:
        return await tx.fetchone(
            "SELECT c.* FROM customers c JOIN identities i ON i.customer_id = c.id"
            " WHERE i.channel = ? AND i.address = ?",
            identity.channel, identity.address,
        )

    async def get_customer(self, customer_id: int) -> Customer | None:
        row = await self.db.fetchone("SELECT * FROM customers WHERE id = ?", customer_id)
        return codec.customer(row) if row else None

    async def update_customer(self, customer_id: int, **fields: Any) -> None:
        allowed = {"name", "language", "segment", "number"}
        await self._update("customers", customer_id, fields, allowed)

    # -- conversations -----------------------------------------------------------------------

    async def conversation_at(self, key: ConversationKey) -> Conversation | None:
        row = await self.db.fetchone(
            "SELECT * FROM conversations WHERE channel = ? AND address = ?",
            key.channel, key.address,
        )
        return codec.conversation(row) if row else None

    async def conversation_for(
        self, key: ConversationKey, customer_id: int, language: str | None
    ) -> Conversation:
        """The conversation at this channel address, created on first contact."""
        return (await self.open_conversation(key, customer_id, language))[0]

    async def open_conversation(
        self, key: ConversationKey, customer_id: int, language: str | None
    ) -> tuple[Conversation, bool]:
        """The conversation at this channel address, created on first contact, and whether
        this call created it; a message arrived, so its `updated_at` is now.

        One upsert whether it exists or not, safe when replicas open it at once (ON
        CONFLICT, not a caught unique violation, which inside a transaction on PostgreSQL
        would abort the whole transaction)."""
        now = codec.ts(utcnow())
        row = await self.db.fetchone(
            "INSERT INTO conversations (customer_id, channel, address, language, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, address)"
            " DO UPDATE SET updated_at = excluded.updated_at RETURNING *",
            customer_id, key.channel, key.address, language, now, now,
        )
        assert row is not None
        return codec.conversation(row), row["created_at"] == now

    async def open_as(self, identity: Identity, key: ConversationKey, language: str | None
                      ) -> tuple[Customer | None, Conversation, bool] | None:
        """`resolve_customer` and `open_conversation` in one statement, for a customer seen
        before (issue 21: a statement less per message): the customer behind `identity`,
        the conversation at `key` (created on first contact in the customer's language
        unless `language` says otherwise) and whether this call created it. None when
        `identity` is nobody's yet (`resolve_customer(identity, read_first=False)`, then
        `open_conversation`); the customer is None when the identity brings an e-mail
        address their record lacks (`resolve_customer(identity, read_first=False)` learns
        it; the conversation is open)."""
        now = codec.ts(utcnow())
        build = "json_build_object" if self.db.dialect == "postgresql" else "json_object"
        # INSERT … SELECT: no identity, no row, nothing inserted and nothing returned. The
        # customer comes back beside the conversation from the identity (not from the
        # conversation's customer_id), as resolve_customer would read it.
        row = await self.db.fetchone(
            "INSERT INTO conversations (customer_id, channel, address, language, created_at,"
            " updated_at) SELECT c.id, ?, ?, COALESCE(?, c.language), ?, ? FROM customers c"
            " JOIN identities i ON i.customer_id = c.id WHERE i.channel = ? AND i.address = ?"
            " ON CONFLICT (channel, address) DO UPDATE SET updated_at = excluded.updated_at"
            f" RETURNING *, (SELECT {build}({CUSTOMER_JSON}) FROM customers c JOIN identities i"
            " ON i.customer_id = c.id WHERE i.channel = ? AND i.address = ?) AS customer_row",
            key.channel, key.address, language, now, now, identity.channel, identity.address,
            identity.channel, identity.address,
        )
        if row is None:
            return None
        customer_row = row.pop("customer_row")
        customer = codec.customer(json.loads(customer_row) if isinstance(customer_row, str)
                                  else customer_row)
        learn = identity.email is not None and not customer.email
        return None if learn else customer, codec.conversation(row), row["created_at"] == now

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        row = await self.db.fetchone("SELECT * FROM conversations WHERE id = ?", conversation_id)
        return codec.conversation(row) if row else None

    async def update_conversation(self, conversation_id: int, **fields: Any) -> None:
        fields["updated_at"] = utcnow()
        await self._update("conversations", conversation_id, fields,
                           _CONVERSATION_FIELDS | {"updated_at"})

    async def conversations_of(self, customer_id: int) -> list[Conversation]:
        rows = await self.db.fetchall(
            "SELECT * FROM conversations WHERE customer_id = ? ORDER BY id DESC", customer_id
        )
        return [codec.conversation(r) for r in rows]
