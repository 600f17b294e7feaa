"""Daily rows of tickets opened and resolved per queue (`daily_tickets`, `daily_resolved`,
migration 1750), so the dashboards' volume and backlog sections add up a few rows per day
of the period instead of reading every ticket and every resolution of it on each page view.

A day is the UTC day of a timestamp (its first ten characters), the dashboards' own days
(`gateway.reports.sql.day`): nothing here depends on a configured time zone, so no setting
can make the stored days wrong. `daily_tickets` counts the tickets opened per day, queue,
channel, language and purpose category (NULL language and category stored as the
placeholders the dashboards show); `daily_resolved` the tickets not open now per UTC day of
their last `ticket.solved` or `ticket.closed` event and queue (the backlog's rule).

A ticket's queue, language, category and status change after it was opened, always through
an UPDATE that stamps `tickets.updated_at`. So `ticket_days` keeps, per ticket, the values
it is counted under; a sweep reads the tickets updated since its cursor (kept in
`connector_state`, through `tickets_updated`) whose values differ from those, takes each
one off its old rows and adds it to its new ones, in one transaction that first locks the
cursor's row (two replicas' sweeps take turns: a change is never counted twice). Like
`gateway.sla.durations` (whose sweep runs beside this one: in the SLA watcher's round and
before a dashboard is drawn), each pass looks again at the last `MARGIN` before the cursor;
a ticket already counted under its current values is skipped, so reading it twice changes
nothing. The first passes after the migration count every existing ticket (the backfill).

The cursor's state says whether the last pass left tickets to count (`behind`): until it
has counted every change (`ready`), the dashboards read the tickets themselves, as before,
so a page never shows a partly built rollup.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from gateway.models import OPEN_TICKET_STATUSES, utcnow
from gateway.store import Store, codec
from gateway.store.db import Connection, Database

CURSOR_KEY = "reports.daily_cursor"
#: Tickets stamped this long before the cursor may have committed after the last pass.
MARGIN = timedelta(minutes=5)
UNKNOWN_LANGUAGE = "(unknown)"
UNKNOWN_CATEGORY = "(not known yet)"
_OPEN = ", ".join(f"'{s}'" for s in OPEN_TICKET_STATUSES)
#: Rows per INSERT (at most seven parameters each: PostgreSQL under 10,000).
_ROWS = 1000
_DIMENSIONS = ("day", "queue", "channel", "language", "category", "resolved")

# A ticket's values now: the UTC day it was opened, its queue, channel, language, category,
# and the UTC day of its last resolution when it is not open ('' otherwise).
_CURRENT = (
    "SELECT t.id, t.updated_at, SUBSTR(t.created_at, 1, 10) AS day, t.queue, c.channel,"
    f" COALESCE(t.language, '{UNKNOWN_LANGUAGE}') AS language,"
    f" COALESCE(t.category, '{UNKNOWN_CATEGORY}') AS category,"
    f" CASE WHEN t.status IN ({_OPEN}) THEN '' ELSE COALESCE((SELECT"
    "  SUBSTR(MAX(e.created_at), 1, 10) FROM events e WHERE e.ticket_id = t.id"
    "  AND e.type IN ('ticket.solved', 'ticket.closed')), '') END AS resolved,"
    " s.ticket_id AS counted, s.day AS old_day, s.queue AS old_queue,"
    " s.channel AS old_channel, s.language AS old_language, s.category AS old_category,"
    " s.resolved AS old_resolved"
    " FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
    " LEFT JOIN ticket_days s ON s.ticket_id = t.id WHERE t.updated_at >= ?")
CHANGED = ("SELECT * FROM (" + _CURRENT + ") AS x WHERE x.counted IS NULL OR "
            + " OR ".join(f"x.{d} <> x.old_{d}" for d in _DIMENSIONS)
            + " ORDER BY x.updated_at LIMIT ?")


async def sweep(store: Store, *, batch: int = 1000, max_batches: int = 10) -> int:
    """Count up to `batch` × `max_batches` changed tickets; the number counted."""
    done = 0
    for _ in range(max_batches):
        counted, more = await _one_batch(store.db, batch)
        done += counted
        if not more:
            break
    return done


async def ready(db: Database) -> bool:
    """Whether the daily rows count every ticket as of the last pass (the dashboards read
    them only then)."""
    row = await db.fetchone("SELECT value FROM connector_state WHERE key = ?", CURSOR_KEY)
    state = json.loads(row["value"]) if row else None
    return isinstance(state, dict) and "at" in state and not state.get("behind", True)


async def _one_batch(db: Database, batch: int) -> tuple[int, bool]:
    now = codec.ts(utcnow())
    async with db.transaction() as tx:
        # the cursor's row, locked first: a second replica's pass waits for this one
        await tx.execute(
            "INSERT INTO connector_state (key, value, updated_at) VALUES (?, '{}', ?)"
            " ON CONFLICT (key) DO UPDATE SET updated_at = excluded.updated_at",
            CURSOR_KEY, now)
        row = await tx.fetchone("SELECT value FROM connector_state WHERE key = ?",
                                CURSOR_KEY)
        state = json.loads(row["value"]) if row else {}
        since = state.get("at") if isinstance(state, dict) else None
        top = await tx.fetchone("SELECT MAX(updated_at) AS at FROM tickets")
        rows = await tx.fetchall(CHANGED, _before(since), batch)
        more = len(rows) == batch
        # a full batch resumes at its last ticket; otherwise every ticket up to the newest
        # stamp seen before the read has been looked at
        cursor = str(rows[-1]["updated_at"]) if more else (
            str(top["at"]) if top and top["at"] else since)
        await _count(tx, rows)
        await tx.execute("UPDATE connector_state SET value = ? WHERE key = ?",
                         json.dumps({"at": cursor, "behind": more}), CURSOR_KEY)
    return len(rows), more


def _before(since: Any) -> str:
    """`MARGIN` before the cursor (a stamp of `tickets.updated_at`); from the start when
    there is none or it cannot be read (reading a ticket again changes nothing)."""
    try:
        return codec.ts(datetime.fromisoformat(str(since)) - MARGIN) if since else ""
    except ValueError:
        return ""


async def _count(tx: Connection, rows: list[Any]) -> None:
    """Each ticket off its old rows and onto its new ones; its values kept."""
    opened: dict[tuple[str, ...], int] = {}
    resolved: dict[tuple[str, str], int] = {}
    for row in rows:
        for prefix, sign in (("old_", -1), ("", 1)):
            if prefix and row["counted"] is None:
                continue
            key = tuple(str(row[prefix + d]) for d in _DIMENSIONS[:5])
            opened[key] = opened.get(key, 0) + sign
            if row[prefix + "resolved"]:
                day = (str(row[prefix + "resolved"]), str(row[prefix + "queue"]))
                resolved[day] = resolved.get(day, 0) + sign
    await _add(tx, "daily_tickets", ("day", "queue", "channel", "language", "category"),
               "opened", opened)
    await _add(tx, "daily_resolved", ("day", "queue"), "resolved", resolved)
    values = [(int(row["id"]), *(str(row[d]) for d in _DIMENSIONS)) for row in rows]
    for start in range(0, len(values), _ROWS):
        chunk = values[start:start + _ROWS]
        marks = ", ".join("(CAST(? AS BIGINT), ?, ?, ?, ?, ?, ?)" for _ in chunk)
        await tx.execute(
            f"INSERT INTO ticket_days (ticket_id, {', '.join(_DIMENSIONS)}) VALUES {marks}"
            " ON CONFLICT (ticket_id) DO UPDATE SET "
            + ", ".join(f"{d} = excluded.{d}" for d in _DIMENSIONS),
            *[x for v in chunk for x in v])


async def _add(tx: Connection, table: str, keys: tuple[str, ...], column: str,
               deltas: dict[Any, int]) -> None:
    changes = [(*key, n) for key, n in deltas.items() if n]
    for start in range(0, len(changes), _ROWS):
        chunk = changes[start:start + _ROWS]
        marks = ", ".join("(" + ", ".join("?" for _ in keys) + ", CAST(? AS INTEGER))"
                          for _ in chunk)
        await tx.execute(
            f"INSERT INTO {table} ({', '.join(keys)}, {column}) VALUES {marks}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE"
            f" SET {column} = {table}.{column} + excluded.{column}",
            *[x for v in chunk for x in v])
    days = sorted({str(key[0]) for key, n in deltas.items() if n < 0})
    for start in range(0, len(days), _ROWS):  # the rows a ticket left may be empty now
        left = days[start:start + _ROWS]
        await tx.execute(f"DELETE FROM {table} WHERE day IN ({', '.join('?' for _ in left)})"
                         f" AND {column} = 0", *left)
