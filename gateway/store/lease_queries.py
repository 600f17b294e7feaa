"""The store's lease half: handling claims on inbound messages, and mailbox leases.

A claim (`claimed_until`, `claim_owner`) says "a handler is deciding this message": a
handler takes it, renews it while it works, and marks the message handled; when the
handler dies the claim runs out and the resume sweep (or a resend) takes it over. Every
statement is one conditional UPDATE, so exactly one caller wins on SQLite and PostgreSQL.

A mailbox lease says "this replica reads this mailbox": the poller renews it, another
replica takes it over only once it expired (its holder died or lost the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.models import utcnow
from gateway.store import codec
from gateway.store.db import Database


@dataclass(frozen=True)
class Lease:
    """Who holds a mailbox lease, until when, and since when (the current holder's turn)."""

    name: str
    holder: str
    expires_at: datetime
    acquired_at: datetime


class LeaseQueries:
    db: Database

    async def reclaim_unhandled(self, message_id: int, claim: timedelta = timedelta(seconds=60),
                                owner: str | None = None, *, fresh: bool = False) -> bool:
        """Take over an unhandled message whose claim expired; True for exactly one caller.

        This is how a retry finishes a message whose first handling died (database outage,
        crash) without racing a handler that is still at work, in this process or another.
        `fresh`: the caller just stored the message (`add_inbound` claimed it for nobody
        in particular) and puts its `owner` token on that claim.
        """
        now = utcnow()
        changed = await self.db.execute(
            "UPDATE messages SET claimed_until = ?, claim_owner = ? WHERE id = ? AND handled = 0"
            " AND (claimed_until IS NULL OR claimed_until < ? OR (? = 1 AND claim_owner IS NULL))",
            codec.ts(now + claim), owner, message_id, codec.ts(now), int(fresh),
        )
        return changed == 1

    async def renew_claim(self, message_id: int, owner: str, claim: timedelta) -> bool:
        """Extend `owner`'s claim by `claim` from now; False when it is not theirs any more
        (taken over after it expired, or the message was handled)."""
        changed = await self.db.execute(
            "UPDATE messages SET claimed_until = ? WHERE id = ? AND handled = 0"
            " AND claim_owner = ?",
            codec.ts(utcnow() + claim), message_id, owner,
        )
        return changed == 1

    async def release_claim(self, message_id: int, owner: str) -> bool:
        """Give up `owner`'s claim at once (its handling failed): a retry or the next sweep
        takes the message over without waiting for the claim to run out."""
        changed = await self.db.execute(
            "UPDATE messages SET claimed_until = ? WHERE id = ? AND handled = 0"
            " AND claim_owner = ?",
            codec.ts(utcnow()), message_id, owner,
        )
        return changed == 1

    async def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> Lease:
        """Take, renew or take over the lease `name` for `ttl`; return it as it stands now.

        `holder` has it when the returned lease names it: the row was missing, `holder`
        already held it (renewed), or the last holder let it expire (taken over).
        """
        now = utcnow()
        now_s, until = codec.ts(now), codec.ts(now + ttl)
        await self.db.execute(
            "INSERT INTO mailbox_leases (name, holder, expires_at, acquired_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING", name, holder, until, now_s)
        await self.db.execute(
            "UPDATE mailbox_leases SET expires_at = ?, acquired_at = CASE WHEN holder = ?"
            " THEN acquired_at ELSE ? END, holder = ? WHERE name = ?"
            " AND (holder = ? OR expires_at < ?)",
            until, holder, now_s, holder, name, holder, now_s)
        lease = await self.lease(name)
        assert lease is not None
        return lease

    async def take_over_lease(self, name: str, dead: str, holder: str,
                              ttl: timedelta) -> bool:
        """Take the lease from `dead`, known to have died before it expired; True when
        `holder` has it now (False: somebody else took or renewed it first)."""
        now = utcnow()
        changed = await self.db.execute(
            "UPDATE mailbox_leases SET holder = ?, expires_at = ?, acquired_at = ?"
            " WHERE name = ? AND holder = ?",
            holder, codec.ts(now + ttl), codec.ts(now), name, dead)
        return changed == 1

    async def release_lease(self, name: str, holder: str) -> None:
        """Let the lease go now (a clean shutdown): another replica takes it at once."""
        await self.db.execute(
            "UPDATE mailbox_leases SET expires_at = ? WHERE name = ? AND holder = ?",
            codec.ts(utcnow() - timedelta(microseconds=1)), name, holder)

    async def lease(self, name: str) -> Lease | None:
        row = await self.db.fetchone("SELECT * FROM mailbox_leases WHERE name = ?", name)
        if row is None:
            return None
        return Lease(row["name"], row["holder"], codec.parse_ts(row["expires_at"]),
                     codec.parse_ts(row["acquired_at"]))
