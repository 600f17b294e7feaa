"""The store's campaigns: the audience written once per customer, recipients taken in
order and marked as they are queued, pause and resume as a status, counts in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from gateway.models import utcnow
from gateway.store import codec
from gateway.store.queries_base import Queries


class CampaignQueries(Queries):
    async def create_campaign(self, name: str, template_id: str, rate_per_minute: float,
                              start_at: datetime, created_by: str,
                              customer_ids: Iterable[int]) -> int:
        now = codec.ts(utcnow())
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO campaigns (name, template_id, rate_per_minute, start_at, budget_at,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                name, template_id, rate_per_minute, codec.ts(start_at), codec.ts(start_at),
                created_by, now)
            assert row is not None
            for customer_id in dict.fromkeys(customer_ids):
                await tx.execute(
                    "INSERT INTO campaign_recipients (campaign_id, customer_id) VALUES (?, ?)"
                    " ON CONFLICT DO NOTHING", row["id"], customer_id)
        return int(row["id"])

    async def audience_segment(self, segment: str | None, language: str | None,
                               limit: int = 100_000) -> list[int]:
        """Customers of the directory by segment and language (not erased: with an address
        or an identity)."""
        sql, args = "SELECT id FROM customers WHERE name <> '[erased]'", list[Any]()
        if segment:
            sql, args = sql + " AND segment = ?", [*args, segment]
        if language:
            sql, args = sql + " AND language = ?", [*args, language]
        rows = await self.db.fetchall(sql + " ORDER BY id LIMIT ?", *args, limit)
        return [r["id"] for r in rows]

    async def campaign(self, campaign_id: int) -> dict[str, Any] | None:
        return await self.db.fetchone("SELECT * FROM campaigns WHERE id = ?", campaign_id)

    async def campaigns(self, limit: int = 50) -> list[dict[str, Any]]:
        return await self.db.fetchall("SELECT * FROM campaigns ORDER BY id DESC LIMIT ?", limit)

    async def set_campaign_status(self, campaign_id: int, status: str, *, was: str) -> bool:
        return await self.db.execute("UPDATE campaigns SET status = ? WHERE id = ? AND status = ?",
                                     status, campaign_id, was) == 1

    async def running_campaigns(self, now: datetime) -> list[dict[str, Any]]:
        """Scheduled or running campaigns whose start has come (scheduled ones start)."""
        await self.db.execute("UPDATE campaigns SET status = 'running' WHERE status ="
                              " 'scheduled' AND start_at <= ?", codec.ts(now))
        return await self.db.fetchall("SELECT * FROM campaigns WHERE status = 'running'"
                                      " ORDER BY id LIMIT 20")

    async def take_budget(self, campaign_id: int, budget_at: str, new_budget_at: datetime
                          ) -> bool:
        """Spend the sending budget up to `new_budget_at`, once (one replica per round)."""
        return await self.db.execute(
            "UPDATE campaigns SET budget_at = ? WHERE id = ? AND budget_at = ?",
            codec.ts(new_budget_at), campaign_id, budget_at) == 1

    async def pending_recipients(self, campaign_id: int, limit: int) -> list[dict[str, Any]]:
        return await self.db.fetchall(
            "SELECT * FROM campaign_recipients WHERE campaign_id = ? AND status = 'pending'"
            " ORDER BY id LIMIT ?", campaign_id, limit)

    async def mark_recipient(self, recipient_id: int, status: str, *, reason: str | None = None,
                             conversation_id: int | None = None,
                             message_id: int | None = None) -> None:
        await self.db.execute(
            "UPDATE campaign_recipients SET status = ?, reason = ?, conversation_id = ?,"
            " message_id = ? WHERE id = ?", status, reason, conversation_id, message_id,
            recipient_id)

    async def campaign_of_conversation(self, conversation_id: int) -> int | None:
        """The campaign whose message opened this conversation, if one did."""
        row = await self.db.fetchone(
            "SELECT campaign_id FROM campaign_recipients WHERE conversation_id = ? LIMIT 1",
            conversation_id)
        return int(row["campaign_id"]) if row else None

    async def finish_if_done(self, campaign_id: int) -> None:
        await self.db.execute(
            "UPDATE campaigns SET status = 'done' WHERE id = ? AND status = 'running' AND NOT"
            " EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = ? AND status ="
            " 'pending')", campaign_id, campaign_id)

    async def recipient(self, recipient_id: int) -> dict[str, Any] | None:
        return await self.db.fetchone("SELECT * FROM campaign_recipients WHERE id = ?",
                                      recipient_id)

    async def mark_unsubscribed(self, recipient_id: int) -> None:
        await self.db.execute("UPDATE campaign_recipients SET unsubscribed_at = ? WHERE id = ?"
                              " AND unsubscribed_at IS NULL", codec.ts(utcnow()), recipient_id)

    async def campaign_counts(self, campaign_id: int) -> dict[str, int]:
        """queued, skipped, pending, delivered, failed, replied, unsubscribed."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS total,"
            " SUM(CASE WHEN r.status = 'pending' THEN 1 ELSE 0 END) AS pending,"
            " SUM(CASE WHEN r.status = 'queued' THEN 1 ELSE 0 END) AS queued,"
            " SUM(CASE WHEN r.status = 'skipped' THEN 1 ELSE 0 END) AS skipped,"
            " SUM(CASE WHEN o.status = 'sent' THEN 1 ELSE 0 END) AS delivered,"
            " SUM(CASE WHEN o.status IN ('failed', 'uncertain') THEN 1 ELSE 0 END) AS failed,"
            " SUM(CASE WHEN r.unsubscribed_at IS NOT NULL THEN 1 ELSE 0 END) AS unsubscribed,"
            " SUM(CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id ="
            " r.conversation_id AND m.direction = 'inbound' AND m.id > r.message_id)"
            " THEN 1 ELSE 0 END) AS replied"
            " FROM campaign_recipients r LEFT JOIN outbox o ON o.message_id = r.message_id"
            " WHERE r.campaign_id = ?", campaign_id)
        return {k: int(v or 0) for k, v in (row or {}).items()}
