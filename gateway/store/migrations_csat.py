"""The customer-satisfaction surveys (docs/reports.md, "Customer satisfaction (CSAT)").

Same conventions as `gateway.store.migrations`; versions start at 2700. One row per ticket
(the unique `ticket_id` is the "one survey, one answer per ticket" rule). `due_at` is when
the sweep sends a scheduled survey; the partial index holds only the scheduled rows, so
the sweep reads what is due and nothing of history. The other two indexes answer "was
this customer surveyed lately" and the reports by answer time.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

MIGRATIONS_CSAT: tuple[tuple[int, Migration], ...] = (
    (2700, """
CREATE TABLE csat_surveys (
    id {pk},
    ticket_id INTEGER NOT NULL UNIQUE,
    conversation_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    queue TEXT NOT NULL,
    operator_id INTEGER,
    language TEXT,
    status TEXT NOT NULL DEFAULT 'scheduled',
    due_at TEXT NOT NULL,
    message_id INTEGER,
    sent_at TEXT,
    skip_reason TEXT,
    score INTEGER,
    comment TEXT,
    answered_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX csat_due ON csat_surveys (due_at) WHERE status = 'scheduled';
CREATE INDEX csat_customer_sent ON csat_surveys (customer_id, sent_at);
CREATE INDEX csat_answered ON csat_surveys (answered_at) WHERE status = 'answered'
"""),
)
