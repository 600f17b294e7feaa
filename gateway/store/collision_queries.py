"""What changed on a ticket while an operator had its page open (collision detection)."""

from __future__ import annotations

from gateway.models import Message
from gateway.store import codec
from gateway.store.db import Database


class CollisionQueries:
    db: Database

    async def replies_since(self, conversation_id: int, after_id: int,
                            operator_id: int) -> list[Message]:
        """Replies of other operators in the conversation after message `after_id` (the
        newest the page showed): read on the conversation's own index, never its history."""
        rows = await self.db.fetchall(
            "SELECT * FROM messages WHERE conversation_id = ? AND id > ? AND author = 'operator'"
            " AND (operator_id IS NULL OR operator_id <> ?) ORDER BY id",
            conversation_id, after_id, operator_id)
        return [codec.message(row) for row in rows]
