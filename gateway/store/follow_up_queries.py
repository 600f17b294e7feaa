"""The store's follow-up half: the address a chat customer left, what they have seen, which
replies wait to be mailed, the browsers linked to a conversation; and the installation's
secret for signed links (chat follow-ups, surveys: gateway/signed_links.py).

Each change is one conditional statement, so two replicas (or a sweep and a customer's
"seen") never undo each other: "seen" clears a due mail only when it covers the newest
reply, and a mail sent clears the due time only when no newer reply came in meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.models import Conversation, utcnow
from gateway.store import codec
from gateway.store.db import Database


@dataclass(frozen=True)
class FollowUp:
    conversation_id: int
    email: str
    consented_at: datetime
    #: The newest message the customer's chat showed them while they looked.
    seen_upto: int
    #: The newest reply already mailed to them.
    mailed_upto: int
    #: The newest operator reply delivered to the chat.
    pending_upto: int
    due_at: datetime | None


def _follow_up(row: dict[str, object]) -> FollowUp:
    due = row["due_at"]
    return FollowUp(int(str(row["conversation_id"])), str(row["email"]),
                    codec.parse_ts(str(row["consented_at"])), int(str(row["seen_upto"])),
                    int(str(row["mailed_upto"])), int(str(row["pending_upto"])),
                    codec.parse_ts(due) if isinstance(due, str) else None)


class FollowUpQueries:
    db: Database

    async def set_follow_up_address(self, conversation_id: int, email: str) -> None:
        """The customer's address for this conversation (their consent is now); a second
        one replaces the first, keeping what was seen and mailed."""
        now = codec.ts(utcnow())
        await self.db.execute(
            "INSERT INTO conversation_follow_ups (conversation_id, email, consented_at)"
            " VALUES (?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET"
            " email = excluded.email, consented_at = excluded.consented_at",
            conversation_id, email, now)

    async def follow_up_of(self, conversation_id: int) -> FollowUp | None:
        row = await self.db.fetchone(
            "SELECT * FROM conversation_follow_ups WHERE conversation_id = ?", conversation_id)
        return _follow_up(row) if row else None

    async def follow_up_seen(self, conversation_id: int, upto: int) -> None:
        """The customer saw the chat up to message `upto`: a mail waiting for replies up to
        there is not needed any more."""
        await self.db.execute(
            "UPDATE conversation_follow_ups SET seen_upto = CASE WHEN seen_upto > ? THEN"
            " seen_upto ELSE ? END, due_at = CASE WHEN pending_upto <= ? THEN NULL"
            " ELSE due_at END WHERE conversation_id = ? AND seen_upto < ?",
            upto, upto, upto, conversation_id, upto)

    async def follow_up_reply(self, conversation_id: int, message_id: int,
                              due: datetime) -> None:
        """An operator's reply reached the chat: mail it at `due` unless it is seen by
        then (a due time already set stays: the first unseen reply sets the clock)."""
        await self.db.execute(
            "UPDATE conversation_follow_ups SET pending_upto = ?, due_at = COALESCE(due_at, ?)"
            " WHERE conversation_id = ? AND pending_upto < ? AND seen_upto < ?",
            message_id, codec.ts(due), conversation_id, message_id, message_id)

    async def due_follow_ups(self, now: datetime, limit: int) -> list[FollowUp]:
        rows = await self.db.fetchall(
            "SELECT * FROM conversation_follow_ups WHERE due_at IS NOT NULL AND due_at <= ?"
            " ORDER BY due_at LIMIT ?", codec.ts(now), limit)
        return [_follow_up(row) for row in rows]

    async def follow_up_mailed(self, conversation_id: int, upto: int) -> None:
        """Replies up to `upto` were put in the outbox for the customer's address."""
        await self.db.execute(
            "UPDATE conversation_follow_ups SET mailed_upto = ?, due_at = CASE WHEN"
            " pending_upto <= ? THEN NULL ELSE due_at END WHERE conversation_id = ?"
            " AND mailed_upto < ?", upto, upto, conversation_id, upto)

    async def link_chat_session(self, address: str, conversation_id: int) -> None:
        """A browser's new session `address` continues `conversation_id` (a follow-up link)."""
        await self.db.execute(
            "INSERT INTO chat_session_links (address, conversation_id, created_at)"
            " VALUES (?, ?, ?) ON CONFLICT (address) DO NOTHING",
            address, conversation_id, codec.ts(utcnow()))

    async def chat_conversation(self, channel: str, address: str) -> Conversation | None:
        """The conversation a chat session's `address` is, or continues through a link."""
        row = await self.db.fetchone(
            "SELECT * FROM conversations WHERE channel = ? AND address = ?", channel, address)
        if row is None:
            row = await self.db.fetchone(
                "SELECT c.* FROM chat_session_links l JOIN conversations c"
                " ON c.id = l.conversation_id WHERE l.address = ?", address)
        return codec.conversation(row) if row else None
