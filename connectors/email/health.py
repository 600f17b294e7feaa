"""How the mailbox loop is doing, for /readyz: connected, in which state, since when.

`ok` needs a connection *and* a completed sync, IDLE round or catch-up window within the
loop's expected interval: a loop stuck without an error (issue 11: a backlog that hung
the parser kept saying "connected") shows as `state: "stale"`. A replica waiting while
another one holds the mailbox lease is `standby`, and fine.

A loop that completes its steps can still fall behind (a starved machine, a flood of
mail): `behind` is how many listed mails wait above the position and
`oldest_waiting_seconds` for how long the oldest of them has been known (backlog.py says
why that is the process's own clock, not INTERNALDATE). Past `max_waiting_seconds` the
channel is not `ok`: `behind` while mails are still being taken in (within the last
`max_waiting_seconds`: slow, working), `stuck` when none was (waiting, nothing moves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.email.backlog import Backlog
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
    backlog: Backlog = field(default_factory=Backlog)

    def report(self, expected_interval: float, lease: MailboxLease,
               mailbox: str, max_waiting: float = 300.0) -> dict[str, Any]:
        """Is the mailbox being read, since when, how far behind, what went wrong last."""
        now = utcnow()
        since = (now - (self.last_progress or self.started_at)).total_seconds()
        stale = since > expected_interval
        standby = lease.standing_by  # another replica reads the mailbox
        waited = self.backlog.oldest_waiting()
        late = waited > max_waiting
        quiet = self.backlog.since_taken_in()
        moving = quiet is not None and quiet <= max_waiting
        state = ("standby" if standby else "disconnected" if not self.connected
                 else "stale" if stale else "behind" if late and moving
                 else "stuck" if late else "syncing" if self.syncing
                 else "idle" if self.idle else "polling")
        last_success = self.last_success.isoformat() if self.last_success else None
        dated = self.backlog.oldest_internal_date()
        taken = (now - timedelta(seconds=quiet)).isoformat() if quiet is not None else None
        return {
            "ok": standby or (self.connected and not stale and not late),
            "state": state,
            # None on a replica standing by: the other one knows, this one does not.
            "behind": None if standby else self.backlog.behind(),
            "oldest_waiting_seconds": None if standby else round(waited, 1),
            "oldest_internal_date": dated.isoformat() if dated and not standby else None,
            "max_waiting_seconds": max_waiting,
            "last_taken_in_at": taken,
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
