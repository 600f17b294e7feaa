"""The store's outbox half: leasing due entries, recording outcomes, re-driving failures.

Kept apart from `store.py` so the delivery rules read in one place. Every statement is
portable SQL with `?` placeholders, run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.models import OutboxEntry, utcnow
from gateway.store import codec
from gateway.store.queries_base import Queries

#: The outcomes an operator can re-drive: nothing more will happen to them on its own.
STOPPED = ("failed", "uncertain")


class OutboxQueries(Queries):
    async def claim_outbox(self, owner: str, lease: timedelta,
                           limit: int = 20) -> list[OutboxEntry]:
        """Lease due entries to one worker; the outer lease check makes replicas skip each other.

        A conversation with an entry under a live lease (being sent, by this worker or
        another replica) is skipped: its next reply waits for the one before it, so replies
        arrive in order however many conversations are sent at once.
        """
        now = utcnow()
        now_s, until = codec.ts(now), codec.ts(now + lease)
        rows = await self.db.fetchall(
            "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1"
            " WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < ?) AND id IN ("
            " SELECT id FROM outbox due WHERE status = 'pending' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until < ?) AND NOT EXISTS ("
            " SELECT 1 FROM outbox busy WHERE busy.conversation_id = due.conversation_id"
            " AND busy.status = 'pending' AND busy.lease_until >= ?) ORDER BY id LIMIT ?)"
            " RETURNING *",
            owner, until, now_s, now_s, now_s, now_s, limit,
        )
        return sorted((codec.outbox(r) for r in rows), key=lambda e: e.id)

    async def lease_outbox(self, entry_id: int, owner: str, lease: timedelta,
                           along: Sequence[int] = ()) -> OutboxEntry | None:
        """Lease one entry to one worker now (a reply pushed right after its commit), by
        the rule of `claim_outbox`: pending, due, under no live lease, and no other entry
        of its conversation under one (being sent). And one more: no older pending entry of
        the conversation waits, so a pushed reply never overtakes an earlier one; those in
        `along` (the replies pushed with it, leased and sent one after the other, in id
        order) do not count. None: the entry is the worker's.

        One row per statement: it never waits for a row while holding another, whatever
        `claim_outbox` locks meanwhile (no deadlock on PostgreSQL). Several replies are
        leased last first (`OutboxWorker.deliver_now`): a claim racing them can only take
        a first part of them (it leases in id order), which the pusher then leaves to it.
        """
        now = utcnow()
        now_s, until = codec.ts(now), codec.ts(now + lease)
        others = sorted({entry_id, *along})
        marks = ", ".join("?" for _ in others)
        row = await self.db.fetchone(
            "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1"
            " WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until < ?) AND NOT EXISTS ("
            " SELECT 1 FROM outbox busy WHERE busy.conversation_id = outbox.conversation_id"
            f" AND busy.status = 'pending' AND busy.id NOT IN ({marks})"
            " AND (busy.lease_until >= ? OR busy.id < outbox.id)) RETURNING *",
            owner, until, entry_id, now_s, now_s, *others, now_s,
        )
        return codec.outbox(row) if row is not None else None

    async def release_outbox_lease(self, entry_id: int, owner: str) -> None:
        """Give back a lease taken by `lease_outbox` and not used (the reply before it
        went to another worker): due again at once, the attempt not counted."""
        await self.db.execute(
            "UPDATE outbox SET lease_until = NULL, attempts = attempts - 1"
            " WHERE id = ? AND lease_owner = ? AND status = 'pending'", entry_id, owner)

    async def extend_outbox_lease(self, entry_id: int, owner: str, lease: timedelta) -> bool:
        """Keep holding an entry whose send is still running; False if it is not ours."""
        return await self.db.execute(
            "UPDATE outbox SET lease_until = ? WHERE id = ? AND lease_owner = ?"
            " AND status = 'pending'", codec.ts(utcnow() + lease), entry_id, owner) == 1

    async def outbox_done(self, entry_id: int, result: dict[str, Any] | None) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, result = ?, lease_until = NULL,"
            " last_error = NULL WHERE id = ?",
            codec.ts(utcnow()), json.dumps(result or {}), entry_id,
        )

    async def outbox_progress(self, entry_id: int, result: dict[str, Any]) -> None:
        """Record what a send under way already did (a pending entry only): a resend after
        a crash or a failure reads it from `OutboxEntry.result` and does not repeat it."""
        await self.db.execute(
            "UPDATE outbox SET result = ? WHERE id = ? AND status = 'pending'",
            json.dumps(result), entry_id,
        )

    async def outbox_retry(self, entry_id: int, error: str, at: datetime,
                           *, resend: bool = False) -> None:
        """Try again at `at`; `resend` counts a resend after an uncertain outcome."""
        await self.db.execute(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ?, lease_until = NULL,"
            " resends = resends + ? WHERE id = ?",
            codec.ts(at), error, int(resend), entry_id,
        )

    async def outbox_give_up(self, entry_id: int, status: str, error: str) -> None:
        """Stop trying: `failed` (permanent error) or `uncertain` (may have been delivered)."""
        await self.db.execute(
            "UPDATE outbox SET status = ?, last_error = ?, lease_until = NULL WHERE id = ?",
            status, error, entry_id,
        )

    async def outbox_redrive(self, entry_ids: Iterable[int]) -> list[OutboxEntry]:
        """Put stopped entries (`failed`, `uncertain`) back in line now, with a new retry
        period; return those that were stopped (a sent or pending one is left alone)."""
        now = codec.ts(utcnow())
        redriven: list[OutboxEntry] = []
        for entry_id in entry_ids:
            row = await self.db.fetchone(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, retry_since = ?,"
                " lease_until = NULL WHERE id = ? AND status IN (?, ?) RETURNING *",
                now, now, entry_id, *STOPPED,
            )
            if row is not None:
                redriven.append(codec.outbox(row))
        return redriven

    async def outbox_entry(self, entry_id: int) -> OutboxEntry | None:
        row = await self.db.fetchone("SELECT * FROM outbox WHERE id = ?", entry_id)
        return codec.outbox(row) if row else None

    async def outbox_entries(self, status: str | None = None,
                             conversation_id: int | None = None) -> list[OutboxEntry]:
        sql, args = "SELECT * FROM outbox WHERE 1 = 1", list[Any]()
        if status is not None:
            sql, args = sql + " AND status = ?", [*args, status]
        if conversation_id is not None:
            sql, args = sql + " AND conversation_id = ?", [*args, conversation_id]
        rows = await self.db.fetchall(sql + " ORDER BY id", *args)
        return [codec.outbox(r) for r in rows]

    async def outbox_pending_count(self) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
        return int(row["n"]) if row else 0
