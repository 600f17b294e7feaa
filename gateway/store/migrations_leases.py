"""Schema for leases: who holds an inbound message's handling claim.

Same conventions as `gateway.store.migrations`; versions start at 600. `claim_owner` is a
token drawn fresh by each handler that takes a message's claim (`claimed_until`): only
that handler can renew it, so a handler that stalled past its claim cannot extend a
claim another replica took over meanwhile.
"""

from __future__ import annotations

MIGRATIONS_LEASES: tuple[tuple[int, str], ...] = (
    (
        600,
        """
ALTER TABLE messages ADD COLUMN claim_owner TEXT;
""",
    ),
)
