"""Schema for operators' presence and capacity, and the SLA timers the watcher keeps.

Same conventions as `gateway.store.migrations` (portable types, ISO-UTC text timestamps);
versions start at 100 so they can follow the core list in any order of growth.
"""

from __future__ import annotations

MIGRATIONS_SLA: tuple[tuple[int, str], ...] = (
    (
        100,
        """
CREATE TABLE operator_status (
    operator_id INTEGER PRIMARY KEY REFERENCES operators (id),
    presence TEXT NOT NULL DEFAULT 'away',
    capacity INTEGER NOT NULL DEFAULT 5,
    skills TEXT NOT NULL DEFAULT '[]',
    schedule TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE sla_timers (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    priority TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'ok',
    paused INTEGER NOT NULL DEFAULT 0,
    paused_seconds INTEGER NOT NULL DEFAULT 0,
    first_response_due TEXT NOT NULL,
    resolution_due TEXT NOT NULL,
    next_check_at TEXT NOT NULL,
    ticket_updated_at TEXT NOT NULL,
    first_response_warned INTEGER NOT NULL DEFAULT 0,
    first_response_breached INTEGER NOT NULL DEFAULT 0,
    resolution_warned INTEGER NOT NULL DEFAULT 0,
    resolution_breached INTEGER NOT NULL DEFAULT 0,
    computed_at TEXT NOT NULL
);
CREATE INDEX sla_timers_next_check ON sla_timers (next_check_at);
CREATE INDEX sla_timers_state ON sla_timers (state);
""",
    ),
    (
        101,
        # The moments a ticket's state changes by itself (the earliest warning and breach of
        # its running clocks) and the due time that matters now, so the console filters,
        # counts and sorts by SLA in SQL over every ticket. Existing rows look changed, so
        # the watcher fills them in at its next pass.
        """
ALTER TABLE sla_timers ADD COLUMN warning_at TEXT;
ALTER TABLE sla_timers ADD COLUMN breach_at TEXT;
ALTER TABLE sla_timers ADD COLUMN due_at TEXT;
ALTER TABLE sla_timers ADD COLUMN due_clock TEXT;
UPDATE sla_timers SET ticket_updated_at = ''
""",
    ),
)
