"""The figures /metrics reads at scrape time: counts the indexes answer, nothing kept aside
that could drift from the tables."""

from __future__ import annotations

from datetime import datetime

from gateway.models import OPEN_TICKET_STATUSES
from gateway.store import codec
from gateway.store.queries_base import Queries


class MetricsQueries(Queries):
    async def outbox_by_status(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}

    async def oldest_pending_outbox(self) -> datetime | None:
        """When the longest-waiting undelivered reply was queued."""
        row = await self.db.fetchone(
            "SELECT MIN(created_at) AS at FROM outbox WHERE status = 'pending'")
        return codec.parse_ts(row["at"]) if row and row["at"] else None

    async def open_tickets_by_queue(self) -> dict[str, int]:
        marks = ", ".join("?" for _ in OPEN_TICKET_STATUSES)
        rows = await self.db.fetchall(
            f"SELECT queue, COUNT(*) AS n FROM tickets WHERE status IN ({marks})"
            " GROUP BY queue", *OPEN_TICKET_STATUSES)
        return {str(r["queue"]): int(r["n"]) for r in rows}

    async def unhandled_inbound_count(self) -> int:
        """Customer messages not yet decided (being handled now, or waiting for the sweep)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM messages WHERE handled = 0 AND direction = 'inbound'")
        return int(row["n"]) if row else 0
