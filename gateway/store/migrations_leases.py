"""Schema for leases: who holds an inbound message's handling claim, and which replica
reads which mailbox.

Same conventions as `gateway.store.migrations`; versions start at 600. `claim_owner` is a
token drawn fresh by each handler that takes a message's claim (`claimed_until`): only
that handler can renew it, so a handler that stalled past its claim cannot extend a
claim another replica took over meanwhile. `mailbox_leases` has one row per mailbox
(the connector's position key): the replica `holder` polls it until `expires_at`.
"""

from __future__ import annotations

MIGRATIONS_LEASES: tuple[tuple[int, str], ...] = (
    (
        600,
        """
ALTER TABLE messages ADD COLUMN claim_owner TEXT;
""",
    ),
    (
        601,
        """
CREATE TABLE mailbox_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    acquired_at TEXT NOT NULL
);
""",
    ),
)
