"""What the e-mail connector keeps in the store's `connector_state`, by key, and the
per-person view of it that access and erasure requests need (gateway/privacy/personal_data.py).

Keys (documented in docs/email.md):
- `email:quarantine` the quarantine index; `email:quarantine:raw:ID` one quarantined
  mail's raw bytes (base64);
- `email:suppressed:ADDRESS` an address that hard-bounced (no such user or domain);
- `email:soft-bounces:ADDRESS` when an address soft-bounced (full mailbox, block...),
  within the last `SOFT_BOUNCE_DAYS`;
- `email:auto-replies:ADDRESS` when the bot last auto-replied to an address.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from connectors.email.bounce import Bounce
from gateway.models import utcnow
from gateway.store import Store

QUARANTINE_INDEX = "email:quarantine"
QUARANTINE_RAW = "email:quarantine:raw:"
SUPPRESSED = "email:suppressed:"
SOFT_BOUNCES = "email:soft-bounces:"
#: A soft bounce (full mailbox, greylisting, a block) says nothing about the address, so
#: mail goes on; only this many within `SOFT_BOUNCE_DAYS` pause it, and each one expires
#: after those days, so the address comes back by itself.
SOFT_BOUNCE_LIMIT = 5
SOFT_BOUNCE_DAYS = 7
AUTO_REPLIES = "email:auto-replies:"


async def recent_auto_replies(store: Store, address: str) -> list[str]:
    """When the bot auto-replied to `address` within the last hour (the per-correspondent
    cap of `[email] auto_replies_per_hour`)."""
    stamps: list[str] = await store.get_state(AUTO_REPLIES + address) or []
    since = (utcnow() - timedelta(hours=1)).isoformat()
    return [s for s in stamps if s > since]


async def quarantined(store: Store) -> list[dict[str, Any]]:
    """The quarantine index (no raw bytes): id, error, size, when, mailbox/UID."""
    return list(await store.get_state(QUARANTINE_INDEX) or [])


async def quarantined_raw(store: Store, entry_id: str) -> bytes | None:
    saved = await store.get_state(QUARANTINE_RAW + entry_id)
    return base64.b64decode(saved["raw"]) if saved else None


async def release(store: Store, entry_id: str) -> bool:
    """Take one mail out of quarantine for good (reprocessed, or deleted by an admin)."""
    return await _drop(store, {entry_id}) == 1


async def record_bounce(store: Store, bounce: Bounce,
                        conversation_id: int | None = None) -> None:
    """Hard: suppress the address for good. Soft: remember when, for `suppression`."""
    if not bounce.recipient:
        return
    address = bounce.recipient.lower()
    now = utcnow()
    if bounce.hard:
        await store.set_state(SUPPRESSED + address, {"status": bounce.status,
                                                     "reason": bounce.reason,
                                                     "at": now.isoformat(),
                                                     "conversation_id": conversation_id})
        return
    stamps = await _recent_soft_bounces(store, address)
    stamps.append(now.isoformat())
    await store.set_state(SOFT_BOUNCES + address, stamps[-SOFT_BOUNCE_LIMIT:])


async def suppression(store: Store, address: str) -> str | None:
    """Why mail to `address` is refused now, or None (both keys read in one statement)."""
    keys = suppression_keys(address)
    return suppression_of(await store.get_states(keys), address)


def suppression_keys(address: str) -> tuple[str, str]:
    """The state keys `suppression_of` reads (a caller may read them with others)."""
    return SUPPRESSED + address.lower(), SOFT_BOUNCES + address.lower()


def suppression_of(states: dict[str, Any], address: str) -> str | None:
    """Why mail to `address` is refused now, or None, from its `suppression_keys` values."""
    hard = states.get(SUPPRESSED + address.lower())
    if hard:
        details = ", ".join(str(v) for v in (hard.get("status"), hard.get("reason")) if v)
        return f"recipient suppressed after a hard bounce ({details or '5.x.x'})"
    if len(_recent(states.get(SOFT_BOUNCES + address.lower()))) >= SOFT_BOUNCE_LIMIT:
        return (f"recipient paused after {SOFT_BOUNCE_LIMIT} soft bounces within "
                f"{SOFT_BOUNCE_DAYS} days")
    return None


def _recent(stamps: list[str] | None) -> list[str]:
    since = (utcnow() - timedelta(days=SOFT_BOUNCE_DAYS)).isoformat()
    return [s for s in stamps or [] if s > since]


async def _recent_soft_bounces(store: Store, address: str) -> list[str]:
    return _recent(await store.get_state(SOFT_BOUNCES + address))


async def about(store: Store, addresses: Sequence[str]) -> dict[str, Any]:
    """What the connector keeps about these addresses: suppression, auto-reply stamps and
    quarantined mails that mention them (raw, base64), for an access request."""
    found: dict[str, Any] = {"suppressed": {}, "soft_bounces": {}, "auto_replies": {},
                             "quarantined": []}
    for address in addresses:
        for prefix, name in ((SUPPRESSED, "suppressed"), (SOFT_BOUNCES, "soft_bounces"),
                             (AUTO_REPLIES, "auto_replies")):
            value = await store.get_state(prefix + address)
            if value is not None:
                found[name][address] = value
    for entry_id, raw in await _quarantined_mentioning(store, addresses):
        found["quarantined"].append({"id": entry_id,
                                     "raw_base64": base64.b64encode(raw).decode("ascii")})
    return found


async def forget(store: Store, addresses: Sequence[str]) -> int:
    """Delete what the connector keeps about these addresses; return how many keys went.

    A quarantined mail that mentions one of them leaves the quarantine for good: it
    cannot be reprocessed afterwards, which is what erasure asks.
    """
    # the connector writes its address keys in lower case
    keys = [prefix + address.lower() for address in addresses
            for prefix in (SUPPRESSED, SOFT_BOUNCES, AUTO_REPLIES)]
    mentioning = {entry_id for entry_id, _ in await _quarantined_mentioning(store, addresses)}
    return await store.delete_state(keys) + await _drop(store, mentioning)


async def expire_quarantine(store: Store, before: datetime) -> int:
    """Delete quarantined mails put there before `before` (retention); return how many."""
    return await _drop(store, {e["id"] for e in await quarantined(store)
                               if datetime.fromisoformat(e["at"]) < before})


async def _drop(store: Store, entry_ids: set[str]) -> int:
    """Remove these mails from quarantine, raw bytes and index entry; return how many."""
    if not entry_ids:
        return 0
    await store.delete_state(QUARANTINE_RAW + entry_id for entry_id in entry_ids)
    index = await quarantined(store)
    remaining = [e for e in index if e["id"] not in entry_ids]
    await store.set_state(QUARANTINE_INDEX, remaining)
    return len(index) - len(remaining)


async def _quarantined_mentioning(store: Store,
                                  addresses: Sequence[str]) -> list[tuple[str, bytes]]:
    if not addresses:
        return []
    needles = [a.lower().encode() for a in addresses]
    found = []
    for entry in await quarantined(store):
        raw = await quarantined_raw(store, entry["id"]) or b""
        if any(needle in raw.lower() for needle in needles):
            found.append((str(entry["id"]), raw))
    return found


class EmailState:
    """The e-mail channel's `ChannelState` (gateway/channels.py): its keys above, for access,
    erasure, retention and the quarantine page."""

    channel = "email"

    async def about(self, store: Store, addresses: Sequence[str]) -> dict[str, Any]:
        return await about(store, addresses)

    async def forget(self, store: Store, addresses: Sequence[str]) -> int:
        return await forget(store, addresses)

    async def quarantined(self, store: Store) -> list[dict[str, Any]]:
        return await quarantined(store)

    async def quarantined_raw(self, store: Store, entry_id: str) -> bytes | None:
        return await quarantined_raw(store, entry_id)

    async def release(self, store: Store, entry_id: str) -> bool:
        return await release(store, entry_id)

    async def expire_quarantine(self, store: Store, before: datetime) -> int:
        return await expire_quarantine(store, before)

    async def suppressed(self, store: Store, address: str) -> str | None:
        return await suppression(store, address)
