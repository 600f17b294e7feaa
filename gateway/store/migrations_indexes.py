"""Partial indexes for the background jobs' hot queries (issue 21: 100,000 closed tickets).

Same conventions as `gateway.store.migrations`; versions start at 2100. The resume sweep and
the outbox claim look for the few rows still in work among all of history: an index over
every row (`messages_unhandled`, `outbox_due`) grows with history, and after `ANALYZE` SQLite
judged `status = 'pending'` unselective and scanned the whole outbox in id order. These
indexes hold only the rows in work, so each probe reads what is due and nothing else. The
`WHERE` clauses repeat the queries' own predicates: SQLite uses a partial index only then.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

MIGRATIONS_INDEXES: tuple[tuple[int, Migration], ...] = (
    (2100, "CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending'"),
    (2110, "CREATE INDEX messages_in_work ON messages (id)"
           " WHERE direction = 'inbound' AND handled = 0"),
)
