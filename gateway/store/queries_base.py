"""The base of the store's query mixins: the database they run on and a checked UPDATE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.store import codec
from gateway.store.db import Database


class Queries:
    """What every query mixin of `Store` shares: the database and a checked UPDATE (inside a
    transaction deferred and merged with the row's other updates, see `gateway/store/unit.py`)."""

    db: Database

    async def _update(self, table: str, row_id: int, fields: dict[str, Any],
                      allowed: frozenset[str] | set[str]) -> None:
        unknown = set(fields) - set(allowed)
        if unknown:
            raise ValueError(f"not {table} fields: {sorted(unknown)}")
        if not fields:
            return
        values = [codec.ts(v) if isinstance(v, datetime) else v for v in fields.values()]
        pending = self.db.pending()
        if pending is not None:  # inside a transaction: merged into one UPDATE at commit
            pending.update(table, row_id, dict(zip(fields, values, strict=True)))
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", *values, row_id)



def marks(values: Sequence[Any]) -> str:
    """`?, ?, ?` for an IN list of these values."""
    return ", ".join("?" for _ in values)
