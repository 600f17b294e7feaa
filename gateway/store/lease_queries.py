"""The store's lease half: handling claims on inbound messages.

A claim (`claimed_until`, `claim_owner`) says "a handler is deciding this message": a
handler takes it, renews it while it works, and marks the message handled; when the
handler dies the claim runs out and the resume sweep (or a resend) takes it over. Every
statement is one conditional UPDATE, so exactly one caller wins on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.models import utcnow
from gateway.store import codec
from gateway.store.db import Database


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
