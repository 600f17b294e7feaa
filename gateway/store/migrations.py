"""Schema migrations, applied in order at start-up; one list serves SQLite and PostgreSQL.

`{pk}` becomes each dialect's auto-increment primary key. Columns keep to types both
engines share (INTEGER, TEXT, REAL); timestamps are ISO-8601 UTC text so they sort.
"""

from __future__ import annotations

from collections.abc import Mapping

#: A migration: portable SQL (statements separated by `;`, `{pk}`/`{blob}` filled in), or
#: per dialect the statements verbatim, one each (triggers and `DO` blocks hold `;` inside).
Migration = str | Mapping[str, tuple[str, ...]]

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
CREATE TABLE customers (
    id {pk},
    name TEXT NOT NULL DEFAULT '',
    email TEXT,
    language TEXT,
    segment TEXT NOT NULL DEFAULT 'consumer',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX customers_email ON customers (email);
CREATE TABLE identities (
    id {pk},
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (channel, address)
);
CREATE TABLE conversations (
    id {pk},
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    language TEXT,
    owner TEXT NOT NULL DEFAULT 'bot',
    category TEXT,
    last_article_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (channel, address)
);
CREATE TABLE messages (
    id {pk},
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT,
    operator_id INTEGER,
    channel_message_id TEXT,
    meta TEXT NOT NULL DEFAULT '{{}}',
    handled INTEGER NOT NULL DEFAULT 0,
    claimed_until TEXT,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_channel_id ON messages (channel, channel_message_id);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_unhandled ON messages (handled, claimed_until);
CREATE TABLE operators (
    id {pk},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    languages TEXT NOT NULL DEFAULT '[]',
    queues TEXT NOT NULL DEFAULT '[]',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE tickets (
    id {pk},
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    queue TEXT NOT NULL,
    assignee_id INTEGER REFERENCES operators (id),
    subject TEXT NOT NULL,
    language TEXT,
    category TEXT,
    bot_attempts TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tickets_status ON tickets (status, queue);
CREATE INDEX tickets_conversation ON tickets (conversation_id);
CREATE TABLE events (
    id {pk},
    conversation_id INTEGER,
    ticket_id INTEGER,
    actor TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{{}}',
    created_at TEXT NOT NULL
);
CREATE INDEX events_ticket ON events (ticket_id, id);
CREATE INDEX events_conversation ON events (conversation_id, id);
CREATE TABLE outbox (
    id {pk},
    message_id INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    conversation_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{{}}',
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    result TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators (id),
    csrf_token TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE connector_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE dedup (
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (source, key)
);
""",
    ),
    (
        2,
        # What a bot reply answers: "<inbound message id>:<position>". Deciding a message
        # again after a crash between storing its replies and marking it handled finds
        # them instead of sending them twice.
        """
ALTER TABLE messages ADD COLUMN reply_key TEXT;
CREATE UNIQUE INDEX messages_reply_key ON messages (reply_key);
""",
    ),
    (
        3,
        # The customer number from the company's customer directory, once a conversation
        # verified it (number + postal code); `verified_number` is per conversation.
        """
ALTER TABLE customers ADD COLUMN number TEXT;
ALTER TABLE conversations ADD COLUMN verified_number TEXT;
""",
    ),
    (
        4,
        # A customer card, a customer's identities and a conversation's deliveries read by
        # customer or conversation: without these, each read scans the whole table. Mine
        # (assignee) and the SLA alerts read an operator's tickets in work.
        """
CREATE INDEX tickets_customer ON tickets (customer_id, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, status);
CREATE INDEX conversations_customer ON conversations (customer_id, id);
CREATE INDEX identities_customer ON identities (customer_id);
CREATE INDEX outbox_conversation ON outbox (conversation_id)
""",
    ),
)


def render(sql: str, dialect: str) -> str:
    """Fill the dialect-specific parts of a migration."""
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return sql.format(pk=pk, blob=blob)


def statements(migration: Migration, dialect: str) -> list[str]:
    """The statements one migration runs on `dialect`."""
    if isinstance(migration, str):
        return [s for s in render(migration, dialect).split(";") if s.strip()]
    return list(migration[dialect])
