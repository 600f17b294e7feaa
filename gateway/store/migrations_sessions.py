"""Schema for the absolute lifetime of console sessions (besides the idle one).

Same conventions as `gateway.store.migrations`; versions start at 500. `absolute_expires_at`
is fixed at login; activity slides `expires_at` but never past it. Sessions opened before
this migration had no such limit, so they are ended (their operators log in once more).
"""

from __future__ import annotations

MIGRATIONS_SESSIONS: tuple[tuple[int, str], ...] = (
    (
        500,
        """
ALTER TABLE sessions ADD COLUMN absolute_expires_at TEXT;
DELETE FROM sessions;
""",
    ),
)
