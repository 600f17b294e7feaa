"""Schema of reaching out (issue 20): notifications sent once per idempotency key (2600),
what customers chose about being contacted (2600), what an erasure leaves to recognise an
erased customer by (2600), and call-backs and follow-ups (2610).

Versions start at 2600. Every list or sweep over these tables reads an index: the due
call-backs by due time, a customer's notifications by customer.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

_NOTIFICATIONS = """
ALTER TABLE customers ADD COLUMN preferred_channel TEXT;
CREATE TABLE notifications (
    id {pk},
    integration TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id),
    template_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    channel TEXT,
    conversation_id INTEGER,
    message_id INTEGER,
    ticket_id INTEGER,
    order_ref TEXT,
    response TEXT NOT NULL DEFAULT '{{}}',
    created_at TEXT NOT NULL,
    UNIQUE (integration, idempotency_key)
);
CREATE INDEX notifications_customer ON notifications (customer_id, id);
CREATE TABLE contact_optouts (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    category TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, category)
);
CREATE TABLE erased_refs (
    digest TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
)
"""

MIGRATIONS_OUTREACH: tuple[tuple[int, Migration], ...] = (
    (2600, _NOTIFICATIONS),
)
