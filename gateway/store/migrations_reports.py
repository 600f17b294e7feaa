"""Indexes for the supervisors' dashboards (issue 17; docs/reports.md), versions from 1700.

Same conventions as `gateway.store.migrations`. Each report reads one period of history:
tickets by creation time, a ticket's first reply or resolution, the events of one type in a
period (replies, closings per operator), the bot's answers and hand-offs in a period. Without
these, every dashboard scans the whole of tickets, events or messages.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

MIGRATIONS_REPORTS: tuple[tuple[int, Migration], ...] = (
    (1700, """
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX events_ticket_type ON events (ticket_id, type, created_at);
CREATE INDEX events_type_created ON events (type, created_at);
CREATE INDEX messages_kind_created ON messages (kind, created_at)
"""),
    # The period's events of one type carry what the reports read of them (ticket, actor):
    # without, SQLite preferred walking all of `events_ticket_type`, which covers them.
    (1710, """
DROP INDEX events_type_created;
CREATE INDEX events_type_created ON events (type, created_at, ticket_id, actor)
"""),
    # Business-time durations, written by `gateway.sla.durations` (its first passes fill in
    # the tickets that were replied to or resolved before this migration).
    (1720, """
ALTER TABLE tickets ADD COLUMN first_response_seconds BIGINT;
ALTER TABLE tickets ADD COLUMN resolution_seconds BIGINT
"""),
    # The business seconds from a ticket's creation to each of its `ticket.closed` events
    # (the per-operator open-to-close times; a ticket reopened and closed again by someone
    # else has one row per closing), written by the same sweep.
    (1730, """
CREATE TABLE closing_durations (
    event_id BIGINT PRIMARY KEY,
    seconds BIGINT NOT NULL
)
"""),
    # Each bot outcome (answer, hand-off) with its article, language and, for an answer,
    # whether it was contained, written by `gateway.sla.outcomes`; the index covers the
    # containment section's read of a period.
    (1740, """
CREATE TABLE bot_outcomes (
    message_id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    article TEXT,
    language TEXT,
    contained INTEGER
);
CREATE INDEX bot_outcomes_kind_created ON bot_outcomes
    (kind, created_at, article, language, contained)
"""),
    # The tickets opened per UTC day, queue, channel, language and category, the tickets
    # resolved per UTC day (of their last solved or closed) and queue, and per ticket the
    # values it is counted under, written by `gateway.sla.daily` (its first passes count
    # the existing tickets): the volume and backlog sections read a few rows per day.
    (1750, """
CREATE TABLE daily_tickets (
    day TEXT NOT NULL,
    queue TEXT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    opened INTEGER NOT NULL,
    PRIMARY KEY (day, queue, channel, language, category)
);
CREATE TABLE daily_resolved (
    day TEXT NOT NULL,
    queue TEXT NOT NULL,
    resolved INTEGER NOT NULL,
    PRIMARY KEY (day, queue)
);
CREATE TABLE ticket_days (
    ticket_id BIGINT PRIMARY KEY,
    day TEXT NOT NULL,
    queue TEXT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    resolved TEXT NOT NULL
)
"""),
)
