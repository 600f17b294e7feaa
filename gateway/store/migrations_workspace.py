"""Schema for splitting tickets (3400), operators' notifications (3410) and the tickets in
work (3440), issue 16.

A conversation is one thread per customer and channel, so a ticket split off it shares the
conversation: `ticket_messages` says which ticket a message of a split conversation belongs
to (a conversation never split has no rows and reads as before). `operator_notifications`
holds what each operator is told (an assignment, a mention, a customer reply, an SLA
warning), read newest first and unread first, so both orders have an index (3420: by
ticket, for a customer's erasure; 3430: by age, for retention).

`tickets_open` (3440) holds only the tickets in work, by number: the console's newest-first
list walks it backwards, so on a desk where old tickets stay open it never reads the closed
ones between them (`tickets_pkey` backwards did, until it had a page). The list writes the
statuses as literals (`console.listing`), the same term as the index's, which SQLite needs
to use a partial index.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

_SPLITS = """
CREATE TABLE ticket_messages (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    ticket_id INTEGER NOT NULL REFERENCES tickets (id)
);
CREATE INDEX ticket_messages_conversation ON ticket_messages (conversation_id, message_id);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, message_id)
"""

_NOTIFICATIONS = """
CREATE TABLE operator_notifications (
    id {pk},
    operator_id INTEGER NOT NULL REFERENCES operators (id),
    kind TEXT NOT NULL,
    ticket_id INTEGER REFERENCES tickets (id),
    actor TEXT NOT NULL,
    text TEXT NOT NULL,
    read_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX operator_notifications_operator ON operator_notifications (operator_id, id);
CREATE INDEX operator_notifications_unread ON operator_notifications (operator_id, id)
    WHERE read_at IS NULL
"""

MIGRATIONS_WORKSPACE: tuple[tuple[int, Migration], ...] = (
    (3400, _SPLITS),
    (3410, _NOTIFICATIONS),
    # erasing a customer rewrites what the notifications of their tickets quoted
    (3420, "CREATE INDEX operator_notifications_ticket ON operator_notifications (ticket_id)"),
    # retention deletes the read ones by age, oldest first (privacy/retention.py)
    (3430, "CREATE INDEX operator_notifications_created ON operator_notifications"
           " (created_at)"),
    # the tickets in work, newest first (the console's list; docstring)
    (3440, "CREATE INDEX tickets_open ON tickets (id)"
           " WHERE status IN ('new', 'open', 'pending')"),
)
