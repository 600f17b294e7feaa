"""Schema for delivery that retries for a period and resends an uncertain e-mail once.

Same conventions as `gateway.store.migrations`; versions start at 300. `retry_since` is when
the current retry period began (NULL: when the entry was created; an operator's re-drive
starts a new one); `resends` counts resends after an uncertain outcome (at most one).
"""

from __future__ import annotations

MIGRATIONS_OUTBOX: tuple[tuple[int, str], ...] = (
    (
        300,
        """
ALTER TABLE outbox ADD COLUMN retry_since TEXT;
ALTER TABLE outbox ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
""",
    ),
)
