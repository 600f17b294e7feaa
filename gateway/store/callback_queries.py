"""The store's call-backs and follow-ups: created once per customer message, listed due
in SQL (filtered by queue, paginated), attempts logged, and the watcher's sweeps, each
bounded per round, indexed, and claimed by one replica with a conditional UPDATE."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.models import Callback, utcnow
from gateway.store import codec
from gateway.store.queries_base import Queries

#: Attempt outcomes; the first two close the call-back.
OUTCOMES = ("reached", "wrong_number", "no_answer", "call_back_at")


def callback(row: dict[str, Any]) -> Callback:
    return Callback(
        id=row["id"], ticket_id=row["ticket_id"], kind=row["kind"],
        window_start=codec.parse_ts(row["window_start"]),
        window_end=codec.parse_ts(row["window_end"]), phrase=row["phrase"],
        status=row["status"], attempts=row["attempts"],
        reminded_at=codec.parse_ts(row["reminded_at"]) if row["reminded_at"] else None,
        created_by=row["created_by"], created_at=codec.parse_ts(row["created_at"]))


class CallbackQueries(Queries):
    async def add_callback(self, ticket_id: int, kind: str, start: datetime, end: datetime, *,
                           phrase: str = "", created_by: str,
                           source_message_id: int | None = None) -> Callback:
        """Insert; a second call for the same customer message returns the first one."""
        now = codec.ts(utcnow())
        await self.db.execute(
            "INSERT INTO callbacks (ticket_id, kind, window_start, window_end, phrase,"
            " source_message_id, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            ticket_id, kind, codec.ts(start), codec.ts(end), phrase[:200], source_message_id,
            created_by, now, now)
        if source_message_id is not None:
            row = await self.db.fetchone("SELECT * FROM callbacks WHERE source_message_id = ?",
                                         source_message_id)
        else:
            row = await self.db.fetchone(
                "SELECT * FROM callbacks WHERE ticket_id = ? ORDER BY id DESC LIMIT 1",
                ticket_id)
        assert row is not None
        if row["created_at"] == now:  # this call made it: on the ticket's trail
            await self.db.execute(
                "INSERT INTO events (conversation_id, ticket_id, actor, type, data, created_at)"
                " VALUES (NULL, ?, ?, ?, ?, ?)", ticket_id, created_by, f"{kind}.planned",
                json.dumps({"callback_id": row["id"], "from": row["window_start"],
                            "until": row["window_end"]}), now)
        return callback(row)

    async def get_callback(self, callback_id: int) -> Callback | None:
        row = await self.db.fetchone("SELECT * FROM callbacks WHERE id = ?", callback_id)
        return callback(row) if row else None

    async def callbacks_of(self, ticket_id: int) -> list[Callback]:
        rows = await self.db.fetchall(
            "SELECT * FROM callbacks WHERE ticket_id = ? ORDER BY id DESC LIMIT 50", ticket_id)
        return [callback(r) for r in rows]

    async def due_callbacks(self, queues: Sequence[str] | None, until: datetime, *,
                            limit: int = 50, offset: int = 0
                            ) -> tuple[list[dict[str, Any]], int]:
        """Open call-backs whose window starts by `until`, earliest first, with their
        ticket; (page, total). `queues` None: every queue (supervisors)."""
        where = (" FROM callbacks c JOIN tickets t ON t.id = c.ticket_id"
                 " WHERE c.status = 'open' AND c.kind = 'call_back' AND c.window_start <= ?")
        args: list[Any] = [codec.ts(until)]
        if queues is not None:
            where += f" AND t.queue IN ({', '.join('?' for _ in queues) or 'NULL'})"
            args += list(queues)
        count = await self.db.fetchone("SELECT COUNT(*) AS n" + where, *args)
        rows = await self.db.fetchall(
            "SELECT c.*, t.subject, t.queue, t.assignee_id, t.customer_id" + where
            + " ORDER BY c.window_start, c.id LIMIT ? OFFSET ?", *args, limit, offset)
        return ([{**r, "callback": callback(r)} for r in rows],
                int(count["n"]) if count else 0)

    async def log_callback_attempt(self, callback_id: int, operator_id: int | None,
                                   outcome: str, note: str = "",
                                   again: tuple[datetime, datetime] | None = None) -> None:
        """Record one try; reached or a wrong number close it, "call back at" moves it."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = codec.ts(utcnow())
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO callback_attempts (callback_id, operator_id, outcome, note,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                callback_id, operator_id, outcome, note[:500], now)
            status = "done" if outcome in ("reached", "wrong_number") else "open"
            await tx.execute(
                "UPDATE callbacks SET attempts = attempts + 1, status = ?, updated_at = ?"
                " WHERE id = ?", status, now, callback_id)
            if again is not None:
                await tx.execute(
                    "UPDATE callbacks SET window_start = ?, window_end = ?, reminded_at = NULL"
                    " WHERE id = ?", codec.ts(again[0]), codec.ts(again[1]), callback_id)

    async def callback_attempts(self, callback_id: int) -> list[dict[str, Any]]:
        return await self.db.fetchall(
            "SELECT * FROM callback_attempts WHERE callback_id = ? ORDER BY id LIMIT 100",
            callback_id)

    async def claim_reminders(self, window_ends_by: datetime,
                              limit: int = 100) -> list[Callback]:
        """Open call-backs whose window ends by then, not reminded yet: each one is taken
        by one process (the conditional UPDATE), at most `limit` a round."""
        rows = await self.db.fetchall(
            "SELECT * FROM callbacks WHERE status = 'open' AND window_end <= ?"
            " AND kind = 'call_back' AND reminded_at IS NULL ORDER BY window_end LIMIT ?",
            codec.ts(window_ends_by), limit)
        now = codec.ts(utcnow())
        claimed = []
        for row in rows:
            if await self.db.execute("UPDATE callbacks SET reminded_at = ? WHERE id = ?"
                                     " AND reminded_at IS NULL", now, row["id"]) == 1:
                claimed.append(callback(row))
        return claimed

    async def claim_follow_ups(self, now: datetime, limit: int = 100) -> list[Callback]:
        """Follow-ups whose date has come, each closed by the one process that takes it."""
        rows = await self.db.fetchall(
            "SELECT * FROM callbacks WHERE status = 'open' AND window_start <= ?"
            " AND kind = 'follow_up' ORDER BY window_start LIMIT ?", codec.ts(now), limit)
        stamp = codec.ts(utcnow())
        claimed = []
        for row in rows:
            if await self.db.execute("UPDATE callbacks SET status = 'done', updated_at = ?"
                                     " WHERE id = ? AND status = 'open'", stamp,
                                     row["id"]) == 1:
                claimed.append(callback(row))
        return claimed
