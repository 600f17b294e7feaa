"""The store's half of the satisfaction surveys: scheduled once per ticket, leased by the
sweep (across replicas), sent once, answered once.

The due time is a column, so a survey scheduled before a restart is still sent after it;
the sweep's lease is that same column pushed forward (a sweeper that dies mid-send leaves
the row due again once the lease is over, and the reply key of the survey message keeps
the retry from storing a second one).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.models import Survey, Ticket, utcnow
from gateway.store import codec
from gateway.store.codec import Row
from gateway.store.queries_base import Queries

#: Where the drawn signing secret is kept when HELPDESK_CSAT__SECRET is not set.


def survey(row: Row) -> Survey:
    return Survey(
        id=row["id"], ticket_id=row["ticket_id"], conversation_id=row["conversation_id"],
        customer_id=row["customer_id"], channel=row["channel"], queue=row["queue"],
        operator_id=row["operator_id"], language=row["language"], status=row["status"],
        due_at=codec.parse_ts(row["due_at"]), message_id=row["message_id"],
        sent_at=codec.parse_ts(row["sent_at"]) if row["sent_at"] else None,
        skip_reason=row["skip_reason"],
        score=int(row["score"]) if row["score"] is not None else None,
        comment=row["comment"],
        answered_at=codec.parse_ts(row["answered_at"]) if row["answered_at"] else None,
        created_at=codec.parse_ts(row["created_at"]),
    )


class SurveyQueries(Queries):
    async def schedule_survey(self, ticket: Ticket, channel: str, language: str | None,
                              due_at: datetime) -> Survey | None:
        """Schedule the ticket's survey; None when it already has one (solved twice, a
        reopened and solved again ticket: one survey per ticket)."""
        row = await self.db.fetchone(
            "INSERT INTO csat_surveys (ticket_id, conversation_id, customer_id, channel, queue,"
            " operator_id, language, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (ticket_id) DO NOTHING RETURNING *",
            ticket.id, ticket.conversation_id, ticket.customer_id, channel, ticket.queue,
            ticket.assignee_id, language, codec.ts(due_at), codec.ts(utcnow()),
        )
        return survey(row) if row else None

    async def claim_due_surveys(self, lease: timedelta, limit: int) -> list[Survey]:
        """Lease up to `limit` due surveys (the oldest due first) by moving their due time
        past the lease; the outer re-check makes two replicas skip each other's rows."""
        now = utcnow()
        now_s = codec.ts(now)
        rows = await self.db.fetchall(
            "UPDATE csat_surveys SET due_at = ? WHERE status = 'scheduled' AND due_at <= ?"
            " AND id IN (SELECT id FROM csat_surveys WHERE status = 'scheduled'"
            " AND due_at <= ? ORDER BY due_at LIMIT ?) RETURNING *",
            codec.ts(now + lease), now_s, now_s, limit,
        )
        return sorted((survey(r) for r in rows), key=lambda s: s.id)

    async def survey_sent(self, survey_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE csat_surveys SET status = 'sent', message_id = ?, sent_at = ?"
            " WHERE id = ? AND status = 'scheduled'",
            message_id, codec.ts(utcnow()), survey_id,
        )

    async def survey_skipped(self, survey_id: int, reason: str) -> None:
        """Not sent, for good (reopened ticket, suppressed address...): kept with why."""
        await self.db.execute(
            "UPDATE csat_surveys SET status = 'skipped', skip_reason = ?"
            " WHERE id = ? AND status = 'scheduled'",
            reason, survey_id,
        )

    async def surveyed_since(self, customer_id: int, since: datetime) -> bool:
        """Whether the customer was sent a survey at or after `since` (the quiet period)."""
        row = await self.db.fetchone(
            "SELECT 1 AS found FROM csat_surveys WHERE customer_id = ? AND sent_at >= ?"
            " LIMIT 1",
            customer_id, codec.ts(since),
        )
        return row is not None

    async def answer_survey(self, survey_id: int, score: int,
                            comment: str | None) -> Survey | None:
        """Record the one answer; None when the survey was not waiting for one (already
        answered, never sent, skipped): the conditional UPDATE has exactly one winner."""
        row = await self.db.fetchone(
            "UPDATE csat_surveys SET status = 'answered', score = ?, comment = ?,"
            " answered_at = ? WHERE id = ? AND status = 'sent' RETURNING *",
            score, comment, codec.ts(utcnow()), survey_id,
        )
        return survey(row) if row else None

    async def get_survey(self, survey_id: int) -> Survey | None:
        row = await self.db.fetchone("SELECT * FROM csat_surveys WHERE id = ?", survey_id)
        return survey(row) if row else None

    async def survey_of_ticket(self, ticket_id: int) -> Survey | None:
        row = await self.db.fetchone("SELECT * FROM csat_surveys WHERE ticket_id = ?",
                                     ticket_id)
        return survey(row) if row else None

    async def has_human_message(self, conversation_id: int) -> bool:
        """Whether a person (not an auto-reply, a bounce, list mail) wrote in the
        conversation: a survey to a machine would only start a mail loop."""
        row = await self.db.fetchone(
            "SELECT 1 AS found FROM messages WHERE conversation_id = ? AND direction = 'inbound'"
            " AND meta NOT LIKE ? LIMIT 1",
            conversation_id, '%"automated": "%',
        )
        return row is not None

    async def customer_of_identity(self, channel: str, address: str) -> int | None:
        """The customer behind a channel identity, if known (never creates one): who may
        answer a survey posted where others can see it (a Slack channel thread)."""
        row = await self.db.fetchone(
            "SELECT customer_id FROM identities WHERE channel = ? AND address = ?",
            channel, address)
        return int(row["customer_id"]) if row else None
