"""Each ticket's first-response and resolution time in business hours, stored on the ticket
(`tickets.first_response_seconds`, `tickets.resolution_seconds`) so the dashboards' medians
and 90th percentiles sort stored numbers in SQL instead of computing business time per
ticket on every page view.

The durations are business time (the queue's `BusinessCalendar`, the SLA clocks' engine)
from the ticket's creation to its first `ticket.replied` and to its first `ticket.solved` or
`ticket.closed`; and from its creation to each of its `ticket.closed` events, kept per event
in `closing_durations` (the per-operator open-to-close times: a ticket reopened and closed
again has one row per closing). A sweep reads those events in time order through
`events_type_created` from a cursor per type (and one for the closings) kept in
`connector_state`, a batch at a time; it runs in the SLA watcher's round and before a
dashboard is drawn. Each pass looks again at the last `MARGIN` before the cursor (an event
is stamped before its transaction commits); a value once stored is kept, so reading an
event twice changes nothing. The first passes after the migration fill in the existing
tickets and closings (the backfill): nothing else to run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.calendar import BusinessCalendar
from gateway.models import utcnow
from gateway.store import Store, codec
from gateway.store.db import Connection

CURSOR_KEY = "reports.durations_cursor"
CLOSINGS_KEY = "reports.closings_cursor"
#: Events stamped this long before the cursor may have committed after the last pass.
MARGIN = timedelta(minutes=5)
EVENTS = ("ticket.replied", "ticket.solved", "ticket.closed")


async def sweep(store: Store, calendars: Callable[[str], BusinessCalendar], *,
                batch: int = 1000, max_batches: int = 10) -> int:
    """Store the durations of up to `batch` × `max_batches` events of each type and as
    many closings; the number stored (tickets given a duration, plus closings)."""
    done = 0
    for _ in range(max_batches):
        stored, more = await _one_batch(store, calendars, batch)
        closings, more_closings = await _closings_batch(store, calendars, batch)
        done += stored + closings
        if not (more or more_closings):
            break
    return done


async def _one_batch(store: Store, calendars: Callable[[str], BusinessCalendar],
                     batch: int) -> tuple[int, bool]:
    """One batch of each event type, from its own cursor (one index range each, read in
    order: no sort): (tickets given a duration, whether more events may wait)."""
    cursors = dict(await store.get_state(CURSOR_KEY) or {})
    values: dict[int, list[int | None]] = {}
    more = False
    for kind in EVENTS:
        column = "first_response_seconds" if kind == "ticket.replied" else "resolution_seconds"
        since = cursors.get(kind)
        rows = await store.db.fetchall(
            "SELECT e.ticket_id, e.created_at, t.queue, t.created_at AS opened"
            " FROM events e JOIN tickets t ON t.id = e.ticket_id"
            f" WHERE e.type = ? AND e.created_at >= ? AND t.{column} IS NULL"
            " ORDER BY e.created_at LIMIT ?",
            kind, codec.ts(codec.parse_ts(since) - MARGIN) if since else "", batch)
        slot = 0 if kind == "ticket.replied" else 1
        for row in rows:
            entry = values.setdefault(int(row["ticket_id"]), [None, None])
            if entry[slot] is not None:  # the first one in time order counts
                continue
            calendar = calendars(str(row["queue"]))
            entry[slot] = int(calendar.business_time_between(
                codec.parse_ts(row["opened"]), codec.parse_ts(row["created_at"]))
                .total_seconds())
        full = len(rows) == batch
        more = more or full
        if rows:  # the next batch starts at the last event read (less the margin)
            cursors[kind] = str(rows[-1]["created_at"])
    if not values:
        return 0, more
    marks = ", ".join("(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"
                      for _ in values)
    async with store.db.transaction() as tx:
        await tx.execute(
            f"WITH v (id, fr, res) AS (VALUES {marks})"
            " UPDATE tickets SET"
            " first_response_seconds = COALESCE(first_response_seconds,"
            "  (SELECT v.fr FROM v WHERE v.id = tickets.id)),"
            " resolution_seconds = COALESCE(resolution_seconds,"
            "  (SELECT v.res FROM v WHERE v.id = tickets.id))"
            " WHERE id IN (SELECT v.id FROM v)",
            *[x for tid, (fr, res) in values.items() for x in (tid, fr, res)])
        await _save(tx, CURSOR_KEY, cursors)
    return len(values), more


async def _closings_batch(store: Store, calendars: Callable[[str], BusinessCalendar],
                          batch: int) -> tuple[int, bool]:
    """One batch of `ticket.closed` events without a stored closing duration, from their own
    cursor: (closings given a duration, whether more may wait)."""
    since = await store.get_state(CLOSINGS_KEY)
    rows = await store.db.fetchall(
        "SELECT e.id, e.created_at, t.queue, t.created_at AS opened"
        " FROM events e JOIN tickets t ON t.id = e.ticket_id"
        " LEFT JOIN closing_durations d ON d.event_id = e.id"
        " WHERE e.type = 'ticket.closed' AND e.created_at >= ? AND d.event_id IS NULL"
        " ORDER BY e.created_at LIMIT ?",
        codec.ts(codec.parse_ts(str(since)) - MARGIN) if since else "", batch)
    if not rows:
        return 0, False
    values = [(int(row["id"]), int(calendars(str(row["queue"])).business_time_between(
        codec.parse_ts(row["opened"]), codec.parse_ts(row["created_at"])).total_seconds()))
        for row in rows]
    marks = ", ".join("(CAST(? AS BIGINT), CAST(? AS BIGINT))" for _ in values)
    async with store.db.transaction() as tx:
        await tx.execute(f"INSERT INTO closing_durations (event_id, seconds) VALUES {marks}"
                         " ON CONFLICT (event_id) DO NOTHING", *[x for v in values for x in v])
        await _save(tx, CLOSINGS_KEY, str(rows[-1]["created_at"]))
    return len(values), len(rows) == batch


async def _save(tx: Connection, key: str, value: Any) -> None:
    await tx.execute(
        "INSERT INTO connector_state (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " updated_at = excluded.updated_at", key, json.dumps(value), codec.ts(utcnow()))
