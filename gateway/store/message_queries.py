"""The store's messages: idempotent ingestion, claims, replies stored once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.channels import ConversationKey
from gateway.models import (
    Conversation,
    Message,
    OutboxEntry,
    utcnow,
)
from gateway.store import codec
from gateway.store.attachment_rows import AttachmentLike, insert_attachments
from gateway.store.queries_base import Queries


class MessageQueries(Queries):
    # -- messages ------------------------------------------------------------------------------

    async def add_inbound(
        self, conversation: Conversation, text: str, channel_message_id: str,
        meta: dict[str, Any] | None = None, claim: timedelta = timedelta(seconds=60),
        owner: str | None = None, touch: bool = True,
    ) -> tuple[Message, bool]:
        """Persist a customer message once; `(existing, False)` when the channel resent it.

        A new message is claimed for `claim` by the caller (`owner`: the caller's claim
        token, so it needs no `reclaim_unhandled` of its own), who must handle it (see
        `reclaim_unhandled` for a retry of a message whose handling was cut short).
        `touch=False`: the caller bumps `conversations.updated_at` itself, with its other
        changes to the conversation (`touch_conversation`).
        """
        now = utcnow()
        row = await self.db.fetchone(
            "INSERT INTO messages (conversation_id, channel, direction, author, text,"
            " channel_message_id, meta, claimed_until, claim_owner, created_at) VALUES (?, ?,"
            " 'inbound', 'customer', ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (channel, channel_message_id) DO NOTHING RETURNING *",
            conversation.id, conversation.channel, text, channel_message_id,
            json.dumps(meta or {}), codec.ts(now + claim), owner, codec.ts(now),
        )
        if row is None:  # the channel resent it (or two replicas got it at once)
            existing = await self.db.fetchone(
                "SELECT * FROM messages WHERE channel = ? AND channel_message_id = ?",
                conversation.channel, channel_message_id,
            )
            assert existing is not None
            return codec.message(existing), False
        if touch:
            await self.touch_conversation(conversation.id, now)
        return codec.message(row), True

    async def add_reply(
        self, conversation: Conversation, *, author: str, text: str, kind: str,
        operator_id: int | None = None, meta: dict[str, Any] | None = None,
        reply_key: str | None = None, via: ConversationKey | None = None,
        files: Sequence[AttachmentLike] = (),
    ) -> tuple[Message, OutboxEntry]:
        """Persist a reply and its outbox entry in one transaction: it is stored before sent.

        The outbox payload is self-contained (text, author, kind, when it was written and the
        message's meta) so the sender needs nothing else to deliver it after a restart. A
        reply with a `reply_key` that is already stored is not stored again: the existing one
        is returned. `via` sends it on another channel than the conversation's own (a chat's
        reply mailed to the address its customer left). `files` are stored in the same
        transaction and listed in the message's meta and the payload (`files`: id, name,
        type, size), so the channel finds them when it sends.
        """
        now = codec.ts(utcnow())
        channel, address = (via.channel, via.address) if via else (conversation.channel,
                                                                   conversation.address)
        async with self.db.transaction() as tx:
            # A reply stored before (the message decided again) wins: ON CONFLICT rather
            # than a SELECT before every insert, the common case is one statement.
            msg = await tx.fetchone(
                "INSERT INTO messages (conversation_id, channel, direction, author, text, kind,"
                " operator_id, meta, reply_key, created_at)"
                " VALUES (?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (reply_key) DO NOTHING RETURNING *",
                conversation.id, channel, author, text, kind, operator_id,
                json.dumps(meta or {}), reply_key, now,
            )
            if msg is None:
                found = await tx.fetchone("SELECT * FROM messages WHERE reply_key = ?",
                                          reply_key)
                assert found is not None
                entry = await tx.fetchone("SELECT * FROM outbox WHERE message_id = ?",
                                          found["id"])
                if entry is not None:
                    return codec.message(found), codec.outbox(entry)
                msg = found
            elif files:
                listed = await insert_attachments(tx, msg["id"], files, now)
                meta = {**(meta or {}), "files": listed}
                await tx.execute("UPDATE messages SET meta = ? WHERE id = ?",
                                 json.dumps(meta), msg["id"])
                msg = {**msg, "meta": json.dumps(meta)}
            entry = await tx.fetchone(
                "INSERT INTO outbox (message_id, conversation_id, channel, address, payload,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                msg["id"], conversation.id, channel, address,
                json.dumps({**(meta or {}), "text": text, "author": author, "kind": kind,
                            "created_at": now}),
                now, now,
            )
            assert entry is not None
            await self.touch_conversation(conversation.id, now)
        return codec.message(msg), codec.outbox(entry)

    async def touch_conversation(self, conversation_id: int, at: datetime | str) -> None:
        """Something happened in the conversation at `at` (in a transaction: merged with
        the conversation's other updates into one UPDATE at commit)."""
        await self._update("conversations", conversation_id,
                           {"updated_at": at}, {"updated_at"})

    async def messages(self, conversation_id: int, after_id: int = 0) -> list[Message]:
        rows = await self.db.fetchall(
            "SELECT * FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id",
            conversation_id, after_id,
        )
        return [codec.message(r) for r in rows]

    async def latest_inbound(self, conversation_id: int, limit: int = 20) -> list[Message]:
        """The conversation's newest inbound messages that carry a channel id, newest
        first, at most `limit` (what a reply threads under; not the whole history)."""
        rows = await self.db.fetchall(
            "SELECT * FROM messages WHERE conversation_id = ? AND direction = 'inbound'"
            " AND channel_message_id IS NOT NULL ORDER BY id DESC LIMIT ?",
            conversation_id, limit)
        return [codec.message(r) for r in rows]

    async def replies_to(self, message_id: int, most: int = 8) -> list[Message]:
        """The replies deciding this inbound message stored (their `reply_key` is
        `<message id>:<n>`, n from 0; a decision writes a few), wherever later messages put
        them in the conversation. Equality on the unique index, whatever the collation."""
        keys = [f"{message_id}:{n}" for n in range(most)]
        rows = await self.db.fetchall(
            f"SELECT * FROM messages WHERE reply_key IN ({', '.join('?' * most)}) ORDER BY id",
            *keys,
        )
        return [codec.message(r) for r in rows]

    async def last_outbound_before(self, conversation_id: int,
                                   message_id: int) -> Message | None:
        """What the desk (bot or operator) said last before this message, in one row
        however long the conversation."""
        row = await self.db.fetchone(
            "SELECT * FROM messages WHERE conversation_id = ? AND direction = 'outbound'"
            " AND id < ? ORDER BY id DESC LIMIT 1", conversation_id, message_id)
        return codec.message(row) if row else None

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
        """In a transaction, deferred to its commit with the other updates (on PostgreSQL
        sent with them as one statement)."""
        await self._update("messages", message_id, {"handled": 1}, {"handled"})

    async def set_message_channel_id(self, message_id: int, channel_message_id: str) -> None:
        """Remember the id the channel gave an outbound message (threading, dedup)."""
        await self.db.execute("UPDATE messages SET channel_message_id = ? WHERE id = ?",
                              channel_message_id, message_id)
