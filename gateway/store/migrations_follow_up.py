"""Schema for following a chat up by e-mail (issue 18; docs/webchat.md, "Offline follow-up").

Same conventions as `gateway.store.migrations`; versions start at 3100.
`conversation_follow_ups` holds the address a customer left, with their consent, on one
conversation, and how far they have seen its replies: an operator's reply not seen within
`[webchat.follow_up] after_minutes` is mailed there (`due_at`; the partial index holds
only the conversations waiting for that, so the sweep never reads history).
`chat_session_links` lets a browser that opened a follow-up link continue the conversation:
its session's address points at the conversation's own address.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

MIGRATIONS_FOLLOW_UP: tuple[tuple[int, Migration], ...] = (
    (3100, """
CREATE TABLE conversation_follow_ups (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
    email TEXT NOT NULL,
    consented_at TEXT NOT NULL,
    seen_upto INTEGER NOT NULL DEFAULT 0,
    mailed_upto INTEGER NOT NULL DEFAULT 0,
    pending_upto INTEGER NOT NULL DEFAULT 0,
    due_at TEXT
);
CREATE INDEX conversation_follow_ups_due ON conversation_follow_ups (due_at)
    WHERE due_at IS NOT NULL;
CREATE TABLE chat_session_links (
    address TEXT PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    created_at TEXT NOT NULL
);
CREATE INDEX chat_session_links_conversation ON chat_session_links (conversation_id)
"""),
)
