"""Record ids as they come from outside (URLs, forms, JSON): numbers the databases can hold.

Ids are 64-bit signed integers on PostgreSQL (BIGSERIAL) and SQLite; a larger number is
no id of anything, so it is "not found" rather than an overflow deep in a driver.
"""

from __future__ import annotations

#: The largest id either database can store.
MAX_ID = 2**63 - 1


def parse_id(raw: object) -> int | None:
    """`raw` as a record id (1 … MAX_ID), or None when it cannot name a record."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
    else:
        return None
    return value if 1 <= value <= MAX_ID else None
