"""Schema for the files customers attach to their messages (e-mail attachments).

Same conventions as `gateway.store.migrations`; `{blob}` is the dialect's byte column
(BLOB on SQLite, BYTEA on PostgreSQL). An attachment above the channel's size limit keeps
its row (name, type, size) with `too_large = 1` and no data, so the operator is told.
Versions start at 200.
"""

from __future__ import annotations

MIGRATIONS_ATTACHMENTS: tuple[tuple[int, str], ...] = (
    (
        200,
        """
CREATE TABLE attachments (
    id {pk},
    message_id INTEGER NOT NULL REFERENCES messages (id),
    filename TEXT,
    content_type TEXT,
    size INTEGER,
    too_large INTEGER,
    data {blob},
    created_at TEXT
);
CREATE INDEX attachments_message ON attachments (message_id, id);
""",
    ),
)
