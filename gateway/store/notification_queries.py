"""The store's half of operators' notifications: each operator reads and marks only their
own (every query is by `operator_id`), newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.models import OperatorNotification, utcnow
from gateway.store import codec
from gateway.store.db import Database, Row

#: The most notifications one page (or one toast check) returns.
PAGE_SIZE = 20
#: Longest text kept for one notification (a mention quotes the start of the note).
MAX_TEXT = 300


def _notification(row: Row) -> OperatorNotification:
    return OperatorNotification(
        id=row["id"], operator_id=row["operator_id"], kind=row["kind"],
        ticket_id=row["ticket_id"], actor=row["actor"], text=row["text"],
        read_at=codec.parse_ts(row["read_at"]) if row["read_at"] else None,
        created_at=codec.parse_ts(row["created_at"]))


class NotificationQueries:
    db: Database

    async def add_notification(self, operator_id: int, kind: str, ticket_id: int | None,
                               actor: str, text: str) -> None:
        await self.db.execute(
            "INSERT INTO operator_notifications (operator_id, kind, ticket_id, actor, text,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            operator_id, kind, ticket_id, actor, text[:MAX_TEXT], codec.ts(utcnow()))

    async def notifications(self, operator_id: int, *, before: int | None = None,
                            after: int = 0, unread: bool = False,
                            limit: int = PAGE_SIZE) -> list[OperatorNotification]:
        """A page of the operator's notifications, newest first (keyset: ids below `before`,
        above `after`)."""
        sql = "SELECT * FROM operator_notifications WHERE operator_id = ? AND id > ?"
        args: list[object] = [operator_id, after]
        if before is not None:
            sql += " AND id < ?"
            args.append(before)
        if unread:
            sql += " AND read_at IS NULL"
        rows = await self.db.fetchall(sql + " ORDER BY id DESC LIMIT ?", *args,
                                      min(limit, PAGE_SIZE))
        return [_notification(r) for r in rows]

    async def unread_notifications(self, operator_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM operator_notifications WHERE operator_id = ?"
            " AND read_at IS NULL", operator_id)
        return int(row["n"]) if row else 0

    async def mark_notifications_read(self, operator_id: int,
                                      ids: Sequence[int] | None = None,
                                      ticket_id: int | None = None) -> int:
        """Mark the operator's own notifications read (`ids`, those of `ticket_id`, or all);
        how many changed. Someone else's id changes nothing: the operator is part of every
        condition."""
        sql = ("UPDATE operator_notifications SET read_at = ? WHERE operator_id = ?"
               " AND read_at IS NULL")
        args: list[object] = [codec.ts(utcnow()), operator_id]
        if ticket_id is not None:
            sql += " AND ticket_id = ?"
            args.append(ticket_id)
        if ids is not None:
            if not ids:
                return 0
            sql += f" AND id IN ({', '.join('?' for _ in ids)})"
            args += list(ids)
        return await self.db.execute(sql, *args)

    async def purge_notifications(self, read_before: datetime | None, unread_max: int,
                                  batch: int, batches: int) -> int:
        """Delete read notifications created before `read_before`, and each operator's
        unread ones beyond the newest `unread_max` (0: no cap), oldest first, `batch` rows
        a statement and at most `batches` statements (the next pass goes on); how many."""
        gone, budget = 0, batches
        if read_before is not None:
            cutoff = codec.ts(read_before)
            while budget > 0:  # operator_notifications_created (migration 3430)
                budget -= 1
                done = await self.db.execute(
                    "DELETE FROM operator_notifications WHERE id IN (SELECT id FROM"
                    " operator_notifications WHERE created_at < ? AND read_at IS NOT NULL"
                    " ORDER BY created_at LIMIT ?)", cutoff, batch)
                gone += done
                if done < batch:
                    break
        if not unread_max:
            return gone
        over = await self.db.fetchall(
            "SELECT operator_id FROM operator_notifications WHERE read_at IS NULL"
            " GROUP BY operator_id HAVING COUNT(*) > ? ORDER BY operator_id", unread_max)
        for row in over:
            edge = await self.db.fetchone(  # the newest of those beyond the cap
                "SELECT id FROM operator_notifications WHERE operator_id = ?"
                " AND read_at IS NULL ORDER BY id DESC LIMIT 1 OFFSET ?",
                row["operator_id"], unread_max)
            while edge is not None and budget > 0:
                budget -= 1
                done = await self.db.execute(
                    "DELETE FROM operator_notifications WHERE id IN (SELECT id FROM"
                    " operator_notifications WHERE operator_id = ? AND read_at IS NULL"
                    " AND id <= ? ORDER BY id LIMIT ?)", row["operator_id"], edge["id"], batch)
                gone += done
                if done < batch:
                    break
        return gone
