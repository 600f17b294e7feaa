"""How the mailbox loop is doing, for /readyz: connected, in which state, since when.

`ok` needs a connection *and* a completed sync, IDLE round or catch-up window within the
loop's expected interval: a loop stuck without an error (issue 11: a backlog that hung
the parser kept saying "connected") shows as `state: "stale"`. A replica waiting while
another one holds the mailbox lease is `standby`, and fine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.email.lease import MailboxLease
from gateway.models import utcnow


@dataclass
class ReaderHealth:
    connected: bool = False
    idle: bool = False
    last_success: datetime | None = None
    #: The last step that completed: a whole sync, or one window of a long catch-up.
    last_progress: datetime | None = None
    syncing: bool = False
    last_error: str | None = None
    last_error_at: datetime | None = None
    quarantined: int = 0
    uidvalidity: int | None = None
    last_uid: int | None = None
    #: Staleness counts from here until the first step completes (the start of a turn).
    started_at: datetime = field(default_factory=utcnow)

    def report(self, expected_interval: float, lease: MailboxLease,
               mailbox: str) -> dict[str, Any]:
        """Is the mailbox being read, since when, and what went wrong last."""
        since = (utcnow() - (self.last_progress or self.started_at)).total_seconds()
        stale = since > expected_interval
        standby = lease.standing_by  # another replica reads the mailbox
        state = ("standby" if standby else "disconnected" if not self.connected
                 else "stale" if stale else "syncing" if self.syncing
                 else "idle" if self.idle else "polling")
        last_success = self.last_success.isoformat() if self.last_success else None
        return {
            "ok": standby or (self.connected and not stale),
            "state": state,
            "connected": self.connected,
            "idle": self.idle,
            "mailbox": mailbox,
            "last_success": last_success,
            "last_sync_at": last_success,
            "seconds_since_sync": round(since, 1),
            "expected_interval": expected_interval,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "quarantined": self.quarantined,
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "lease": lease.health(),
        }
