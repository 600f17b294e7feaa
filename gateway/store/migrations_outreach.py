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

#: A call-back (kind `call_back`: call the customer within the window) or a follow-up
#: (kind `follow_up`: the ticket comes back to its assignee at `window_start`) on a ticket.
#: `source_message_id` makes the bot's call-back once per customer message.
_CALLBACKS = """
CREATE TABLE callbacks (
    id {pk},
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    phrase TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    attempts INTEGER NOT NULL DEFAULT 0,
    reminded_at TEXT,
    source_message_id INTEGER UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX callbacks_open_start ON callbacks (status, window_start);
CREATE INDEX callbacks_open_end ON callbacks (status, window_end);
CREATE INDEX callbacks_ticket ON callbacks (ticket_id, id);
CREATE TABLE callback_attempts (
    id {pk},
    callback_id INTEGER NOT NULL REFERENCES callbacks (id),
    operator_id INTEGER,
    outcome TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX callback_attempts_callback ON callback_attempts (callback_id, id)
"""

#: Campaigns: a template sent to an audience at a rate; one recipient row per customer,
#: so a pause, a resume or a second replica never sends one customer two copies.
_CAMPAIGNS = """
CREATE TABLE campaigns (
    id {pk},
    name TEXT NOT NULL,
    template_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled',
    rate_per_minute REAL NOT NULL,
    start_at TEXT NOT NULL,
    budget_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX campaigns_status ON campaigns (status, start_at);
CREATE TABLE campaign_recipients (
    id {pk},
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL DEFAULT 'pending',
    reason TEXT,
    conversation_id INTEGER,
    message_id INTEGER,
    unsubscribed_at TEXT,
    UNIQUE (campaign_id, customer_id)
);
CREATE INDEX campaign_recipients_pending ON campaign_recipients (campaign_id, status, id)
"""

MIGRATIONS_OUTREACH: tuple[tuple[int, Migration], ...] = (
    (2600, _NOTIFICATIONS),
    (2610, _CALLBACKS),
    (2620, _CAMPAIGNS),
    # a reply's ticket is tagged with the campaign it answers (campaign_of_conversation)
    (2630, "CREATE INDEX campaign_recipients_conversation ON campaign_recipients"
           " (conversation_id)"),
)
