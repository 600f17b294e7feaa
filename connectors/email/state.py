"""What the e-mail connector keeps in the store's `connector_state`, by key, and the
per-person view of it that access and erasure requests need (gateway/personal_data.py).

Keys (documented in docs/email.md):
- `email:quarantine` the quarantine index; `email:quarantine:raw:ID` one quarantined
  mail's raw bytes (base64);
- `email:suppressed:ADDRESS` an address that hard-bounced;
- `email:auto-replies:ADDRESS` when the bot last auto-replied to an address.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.store import Store

QUARANTINE_INDEX = "email:quarantine"
QUARANTINE_RAW = "email:quarantine:raw:"
SUPPRESSED = "email:suppressed:"
AUTO_REPLIES = "email:auto-replies:"


async def quarantined(store: Store) -> list[dict[str, Any]]:
    """The quarantine index (no raw bytes): id, error, size, when, mailbox/UID."""
    return list(await store.get_state(QUARANTINE_INDEX) or [])


async def quarantined_raw(store: Store, entry_id: str) -> bytes | None:
    saved = await store.get_state(QUARANTINE_RAW + entry_id)
    return base64.b64decode(saved["raw"]) if saved else None


async def release(store: Store, entry_id: str) -> bool:
    """Take one mail out of quarantine for good (reprocessed, or deleted by an admin)."""
    return await _drop(store, {entry_id}) == 1


async def about(store: Store, addresses: Sequence[str]) -> dict[str, Any]:
    """What the connector keeps about these addresses: suppression, auto-reply stamps and
    quarantined mails that mention them (raw, base64), for an access request."""
    found: dict[str, Any] = {"suppressed": {}, "auto_replies": {}, "quarantined": []}
    for address in addresses:
        for prefix, name in ((SUPPRESSED, "suppressed"), (AUTO_REPLIES, "auto_replies")):
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
            for prefix in (SUPPRESSED, AUTO_REPLIES)]
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
