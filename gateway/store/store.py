"""The store: the one async interface the gateway persists through.

It holds the SQL once and runs it on either driver (`SqliteDatabase` or `PostgresDatabase`);
the same contract tests run against both. Every change to a conversation or a ticket
writes an event in the same transaction, so the audit trail cannot miss a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from connectors.base import ConversationKey, Identity
from gateway.models import (
    Conversation,
    Customer,
    Event,
    Message,
    Operator,
    OutboxEntry,
    Ticket,
    utcnow,
)
from gateway.store import codec
from gateway.store.collision_queries import CollisionQueries
from gateway.store.db import Connection, Database, is_unique_violation
from gateway.store.lease_queries import LeaseQueries
from gateway.store.migrations import MIGRATIONS, statements
from gateway.store.migrations_api import MIGRATIONS_API
from gateway.store.migrations_attachments import MIGRATIONS_ATTACHMENTS
from gateway.store.migrations_console import MIGRATIONS_CONSOLE
from gateway.store.migrations_leases import MIGRATIONS_LEASES
from gateway.store.migrations_outbox import MIGRATIONS_OUTBOX
from gateway.store.migrations_sessions import MIGRATIONS_SESSIONS
from gateway.store.migrations_sla import MIGRATIONS_SLA
from gateway.store.outbox_queries import OutboxQueries
from gateway.store.search_queries import SearchQueries
from gateway.store.tag_queries import TagQueries

_TICKET_FIELDS = frozenset({"status", "priority", "queue", "assignee_id", "subject", "category"})
#: How many merges in a row `open_ticket_of` follows to the surviving ticket.
_MAX_MERGE_HOPS = 5
_CONVERSATION_FIELDS = frozenset({"owner", "language", "category", "last_article_id",
                                  "verified_number"})


class Store(OutboxQueries, SearchQueries, LeaseQueries, CollisionQueries, TagQueries):
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        await self.db.open()
        await self.migrate()

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> None:
        """Raise `StoreUnavailable` when the database does not answer."""
        await self.db.fetchone("SELECT 1 AS ok")

    async def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied now."""
        applied: list[int] = []
        async with self.db.transaction() as tx:
            if self.db.dialect == "postgresql":
                # Two replicas starting together must not both migrate.
                await tx.execute("SELECT pg_advisory_xact_lock(4242)")
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " applied_at TEXT NOT NULL)"
            )
            rows = await tx.fetchall("SELECT version FROM schema_migrations")
            done = {row["version"] for row in rows}
            for version, sql in (MIGRATIONS + MIGRATIONS_SLA + MIGRATIONS_ATTACHMENTS
                                 + MIGRATIONS_OUTBOX + MIGRATIONS_API + MIGRATIONS_SESSIONS
                                 + MIGRATIONS_CONSOLE + MIGRATIONS_LEASES):
                if version in done:
                    continue
                for statement in statements(sql, self.db.dialect):
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    version, codec.ts(utcnow()),
                )
                applied.append(version)
        return applied

    # -- customers -----------------------------------------------------------------------------

    async def resolve_customer(self, identity: Identity) -> Customer:
        """The customer behind a channel identity, linked by e-mail address across channels.

        Safe when replicas (or concurrent requests) see one new customer's first messages at
        once: both inserts are `ON CONFLICT DO NOTHING` and the row is read back, so the
        loser of the race gets the winner's customer instead of a unique violation.
        """
        email = identity.email.lower() if identity.email else None
        async with self.db.transaction() as tx:
            row = await self._customer_of(tx, identity)
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
                await tx.execute(
                    "INSERT INTO customers (name, email, created_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (email) DO NOTHING", identity.name, email, now)
                row = await tx.fetchone("SELECT * FROM customers WHERE email = ?", email)
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
        existing = await self.conversation_at(key)
        if existing is not None:
            return existing
        now = codec.ts(utcnow())
        try:
            row = await self.db.fetchone(
                "INSERT INTO conversations (customer_id, channel, address, language, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                customer_id, key.channel, key.address, language, now, now,
            )
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
            # Another replica created it between our SELECT and INSERT.
            raced = await self.conversation_at(key)
            assert raced is not None
            return raced
        assert row is not None
        return codec.conversation(row)

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

    # -- messages ------------------------------------------------------------------------------

    async def add_inbound(
        self, conversation: Conversation, text: str, channel_message_id: str,
        meta: dict[str, Any] | None = None, claim: timedelta = timedelta(seconds=60),
    ) -> tuple[Message, bool]:
        """Persist a customer message once; `(existing, False)` when the channel resent it.

        A new message is claimed for `claim` by the caller, who must handle it (see
        `reclaim_unhandled` for a retry of a message whose handling was cut short).
        """
        now = utcnow()
        try:
            row = await self.db.fetchone(
                "INSERT INTO messages (conversation_id, channel, direction, author, text,"
                " channel_message_id, meta, claimed_until, created_at) VALUES (?, ?, 'inbound',"
                " 'customer', ?, ?, ?, ?, ?) RETURNING *",
                conversation.id, conversation.channel, text, channel_message_id,
                json.dumps(meta or {}), codec.ts(now + claim), codec.ts(now),
            )
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
            existing = await self.db.fetchone(
                "SELECT * FROM messages WHERE channel = ? AND channel_message_id = ?",
                conversation.channel, channel_message_id,
            )
            assert existing is not None
            return codec.message(existing), False
        assert row is not None
        await self.db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                              codec.ts(now), conversation.id)
        return codec.message(row), True

    async def add_reply(
        self, conversation: Conversation, *, author: str, text: str, kind: str,
        operator_id: int | None = None, meta: dict[str, Any] | None = None,
        reply_key: str | None = None,
    ) -> tuple[Message, OutboxEntry]:
        """Persist a reply and its outbox entry in one transaction: it is stored before sent.

        The outbox payload is self-contained (text, author, kind and the message's meta) so the
        sender needs nothing else to deliver it after a restart. A reply with a `reply_key`
        that is already stored is not stored again: the existing one is returned.
        """
        now = codec.ts(utcnow())
        async with self.db.transaction() as tx:
            if reply_key is not None:
                found = await tx.fetchone("SELECT * FROM messages WHERE reply_key = ?",
                                          reply_key)
                entry = found and await tx.fetchone(
                    "SELECT * FROM outbox WHERE message_id = ?", found["id"])
                if found is not None and entry is not None:
                    return codec.message(found), codec.outbox(entry)
            msg = await tx.fetchone(
                "INSERT INTO messages (conversation_id, channel, direction, author, text, kind,"
                " operator_id, meta, reply_key, created_at)"
                " VALUES (?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                conversation.id, conversation.channel, author, text, kind, operator_id,
                json.dumps(meta or {}), reply_key, now,
            )
            assert msg is not None
            entry = await tx.fetchone(
                "INSERT INTO outbox (message_id, conversation_id, channel, address, payload,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                msg["id"], conversation.id, conversation.channel, conversation.address,
                json.dumps({**(meta or {}), "text": text, "author": author, "kind": kind}),
                now, now,
            )
            assert entry is not None
            await tx.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                             now, conversation.id)
        return codec.message(msg), codec.outbox(entry)

    async def messages(self, conversation_id: int, after_id: int = 0) -> list[Message]:
        rows = await self.db.fetchall(
            "SELECT * FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id",
            conversation_id, after_id,
        )
        return [codec.message(r) for r in rows]

    async def find_message(self, channel: str, channel_message_id: str) -> Message | None:
        row = await self.db.fetchone(
            "SELECT * FROM messages WHERE channel = ? AND channel_message_id = ?",
            channel, channel_message_id,
        )
        return codec.message(row) if row else None

    async def unhandled_messages(self, limit: int = 50) -> list[Message]:
        """Inbound messages whose handling claim expired before they were handled."""
        rows = await self.db.fetchall(
            "SELECT * FROM messages WHERE direction = 'inbound' AND handled = 0"
            " AND claimed_until < ? ORDER BY id LIMIT ?",
            codec.ts(utcnow()), limit,
        )
        return [codec.message(r) for r in rows]

    async def mark_handled(self, message_id: int) -> None:
        await self.db.execute("UPDATE messages SET handled = 1 WHERE id = ?", message_id)

    async def set_message_channel_id(self, message_id: int, channel_message_id: str) -> None:
        """Remember the id the channel gave an outbound message (threading, dedup)."""
        await self.db.execute("UPDATE messages SET channel_message_id = ? WHERE id = ?",
                              channel_message_id, message_id)

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

    async def open_ticket_of(self, conversation_id: int) -> Ticket | None:
        """The conversation's ticket that is not closed yet (a solved one can reopen).

        Once that ticket was merged into another, the customer's later messages belong to
        the surviving ticket (while it is not closed), not to a new one."""
        row = await self.db.fetchone(
            "SELECT * FROM tickets WHERE conversation_id = ? AND status <> 'closed'"
            " ORDER BY id DESC LIMIT 1",
            conversation_id,
        )
        if row is None:
            row = await self.db.fetchone(
                "SELECT * FROM tickets WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
                conversation_id)
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
        sql = f"SELECT * FROM tickets WHERE status IN ({_marks(statuses)})"
        args: list[Any] = list(statuses)
        if queues is not None:
            queues = list(queues)
            if not queues:
                return []
            sql += f" AND queue IN ({_marks(queues)})"
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

    @staticmethod
    async def _event(conn: Connection, actor: str, type_: str, conversation_id: int | None,
                     ticket_id: int | None, data: dict[str, Any]) -> None:
        await conn.execute(
            "INSERT INTO events (conversation_id, ticket_id, actor, type, data, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            conversation_id, ticket_id, actor, type_, json.dumps(data, default=str),
            codec.ts(utcnow()),
        )

    # -- operators and sessions ----------------------------------------------------------------

    async def create_operator(self, username: str, display_name: str, password_hash: str,
                              role: str, languages: Sequence[str] = (),
                              queues: Sequence[str] = (),
                              if_missing: bool = False) -> Operator:
        """`if_missing`: the existing operator of that name instead of a unique violation
        (the admin bootstrap of replicas starting together)."""
        row = await self.db.fetchone(
            "INSERT INTO operators (username, display_name, password_hash, role, languages,"
            " queues, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            + (" ON CONFLICT (username) DO NOTHING" if if_missing else "") + " RETURNING *",
            username, display_name, password_hash, role, json.dumps(list(languages)),
            json.dumps(list(queues)), codec.ts(utcnow()),
        )
        if row is None and if_missing:
            existing = await self.operator_by_username(username)
            assert existing is not None
            return existing
        assert row is not None
        return codec.operator(row)

    async def set_operator_password(self, operator_id: int, password_hash: str) -> None:
        await self.db.execute("UPDATE operators SET password_hash = ? WHERE id = ?",
                              password_hash, operator_id)

    async def update_operator(self, operator_id: int, *, display_name: str, role: str,
                              languages: Sequence[str], queues: Sequence[str],
                              active: bool) -> Operator:
        row = await self.db.fetchone(
            "UPDATE operators SET display_name = ?, role = ?, languages = ?, queues = ?,"
            " active = ? WHERE id = ? RETURNING *",
            display_name, role, json.dumps(list(languages)), json.dumps(list(queues)),
            int(active), operator_id,
        )
        if row is None:
            raise LookupError(f"no operator {operator_id}")
        return codec.operator(row)

    async def delete_sessions_of(self, operator_id: int) -> None:
        """Log an operator out everywhere (deactivated, or their password was reset)."""
        await self.db.execute("DELETE FROM sessions WHERE operator_id = ?", operator_id)

    async def operator_by_username(self, username: str) -> Operator | None:
        row = await self.db.fetchone("SELECT * FROM operators WHERE username = ?", username)
        return codec.operator(row) if row else None

    async def get_operator(self, operator_id: int) -> Operator | None:
        row = await self.db.fetchone("SELECT * FROM operators WHERE id = ?", operator_id)
        return codec.operator(row) if row else None

    async def operators(self) -> list[Operator]:
        return [codec.operator(r) for r in await self.db.fetchall(
            "SELECT * FROM operators ORDER BY username")]

    async def create_session(self, token_hash: str, operator_id: int, csrf_token: str,
                             expires_at: datetime,
                             absolute_expires_at: datetime | None = None) -> None:
        """`expires_at` slides with activity, never past `absolute_expires_at` (default: it)."""
        await self.db.execute(
            "INSERT INTO sessions (token_hash, operator_id, csrf_token, expires_at,"
            " absolute_expires_at) VALUES (?, ?, ?, ?, ?)",
            token_hash, operator_id, csrf_token, codec.ts(expires_at),
            codec.ts(absolute_expires_at or expires_at),
        )

    async def session(self, token_hash: str) -> tuple[int, str, datetime] | None:
        """Operator id, CSRF token and when the session ends (the sooner of both limits)."""
        row = await self.db.fetchone("SELECT * FROM sessions WHERE token_hash = ?", token_hash)
        if row is None:
            return None
        expires = codec.parse_ts(row["expires_at"])
        if row["absolute_expires_at"]:
            expires = min(expires, codec.parse_ts(row["absolute_expires_at"]))
        return row["operator_id"], row["csrf_token"], expires

    async def extend_session(self, token_hash: str, expires_at: datetime) -> None:
        await self.db.execute("UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
                              codec.ts(expires_at), token_hash)

    async def delete_session(self, token_hash: str) -> None:
        await self.db.execute("DELETE FROM sessions WHERE token_hash = ?", token_hash)

    # -- connector state and deduplication -----------------------------------------------------

    async def get_state(self, key: str) -> Any:
        row = await self.db.fetchone("SELECT value FROM connector_state WHERE key = ?", key)
        return json.loads(row["value"]) if row else None

    async def set_state(self, key: str, value: Any) -> None:
        await self.db.execute(
            "INSERT INTO connector_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            key, json.dumps(value), codec.ts(utcnow()),
        )

    async def delete_state(self, keys: Iterable[str]) -> int:
        """Forget these state keys altogether (not `set_state(key, None)`, which keeps the
        row); return how many existed."""
        removed = 0
        async with self.db.transaction() as tx:
            for key in keys:
                removed += await tx.execute("DELETE FROM connector_state WHERE key = ?", key)
        return removed

    async def first_time(self, source: str, key: str) -> bool:
        """True exactly once per (source, key), across replicas (e.g. a Slack event_id)."""
        changed = await self.db.execute(
            "INSERT INTO dedup (source, key, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            source, key, codec.ts(utcnow()),
        )
        return changed == 1

    # -- helpers -------------------------------------------------------------------------------

    async def _update(self, table: str, row_id: int, fields: dict[str, Any],
                      allowed: frozenset[str] | set[str]) -> None:
        unknown = set(fields) - set(allowed)
        if unknown:
            raise ValueError(f"not {table} fields: {sorted(unknown)}")
        if not fields:
            return
        values = [codec.ts(v) if isinstance(v, datetime) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", *values, row_id)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


