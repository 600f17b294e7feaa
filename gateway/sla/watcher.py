"""The SLA watcher: a background loop that keeps `sla_timers` current and raises the alarms.

Every pass recomputes the tickets that changed or whose next warning/breach moment has come,
stores their due times and state (for the console's queue views), and writes each
`sla.warning` / `sla.breached` event once per clock. Several gateway processes may run it
against one PostgreSQL database: the event is written only by the process whose conditional
UPDATE flipped the flag, in the same transaction, and the console is notified after commit.
A breach names the supervisors of the ticket's queue: that is the escalation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from gateway.background import background
from gateway.calendar import BusinessCalendar
from gateway.config.policy import SlaSettings
from gateway.delivery.notify import Hub
from gateway.errors import StoreError
from gateway.models import Ticket, utcnow
from gateway.sla import daily, durations, outcomes
from gateway.sla.callbacks import CallbackWatch
from gateway.sla.clocks import Clock, SlaStatus, evaluate, history_from_events
from gateway.store import Store, codec
from gateway.telemetry import Telemetry
from gateway.tickets import notices

log = structlog.get_logger(__name__)

#: `next_check_at` of a ticket whose clocks are all paused or done: only a change wakes it.
_NEVER = "9999-12-31T00:00:00.000000Z"
_TRACKED = ("new", "open", "pending")
#: A change stamped this long before the last complete catch-up may still be unseen by it
#: (a transaction that committed late, another replica's clock): the next one looks again.
CATCH_UP_MARGIN = timedelta(minutes=5)

_CLAIM = {
    # A breach also counts as the warning: no late warning after the breach.
    "breached": "UPDATE sla_timers SET {c}_breached = 1, {c}_warned = 1"
                " WHERE ticket_id = ? AND {c}_breached = 0",
    "warning": "UPDATE sla_timers SET {c}_warned = 1"
               " WHERE ticket_id = ? AND {c}_warned = 0 AND {c}_breached = 0",
}


def moments(status: SlaStatus) -> tuple[str | None, str | None, str | None, str]:
    """What SQL needs to know the state at any later moment while the ticket is unchanged:
    when a running clock turns to warning and to breached, and the due time that matters now
    (first response until an operator replied, then resolution; none once solved)."""
    running = [clock for clock in status.clocks if clock.running]
    warning_at = min((c.warn_at for c in running if c.state == "ok"), default=None)
    breach_at = min((c.due for c in running if c.state != "breached"), default=None)
    clock = status.first_response if not status.first_response.done else status.resolution
    due_at = None if clock.done else codec.ts(clock.due)
    return (codec.ts(warning_at) if warning_at else None,
            codec.ts(breach_at) if breach_at else None, due_at, clock.name)


class SlaWatcher:
    def __init__(self, store: Store, hub: Hub, settings: SlaSettings,
                 calendars: Callable[[str], BusinessCalendar], batch: int = 500,
                 telemetry: Telemetry | None = None) -> None:
        """`calendars` gives the calendar of a queue (e.g. `CalendarSettings.for_queue`)."""
        self.store = store
        self.telemetry = telemetry or Telemetry()
        self.hub = hub
        self.settings = settings
        self.calendars = calendars
        self.batch = batch
        self._lock = asyncio.Lock()
        #: When the last complete `catch_up` began (None: none yet, so the first reads all).
        self._caught_up: datetime | None = None
        self.callbacks = CallbackWatch(store, hub, settings)

    async def run_once(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """One pass; return the notifications this process published."""
        now = now or utcnow()
        rows = await self.store.db.fetchall(
            "SELECT t.* FROM tickets t LEFT JOIN sla_timers s ON s.ticket_id = t.id"
            " WHERE (s.ticket_id IS NULL AND t.status IN (?, ?, ?)) OR s.next_check_at <= ?"
            " OR s.ticket_updated_at <> t.updated_at ORDER BY t.id LIMIT ?",
            *_TRACKED, codec.ts(now), self.batch,
        )
        return await self._check(rows, now)

    async def catch_up(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Recompute the listable tickets that changed since the last pass (or have no timers
        yet), so the console's SQL filters and counts by SLA state are current.

        Moments passing by themselves need no pass: `warning_at`/`breach_at` let SQL see
        them. The first call reads every ticket that is not closed; later ones only those
        changed since the previous complete call began (less `CATCH_UP_MARGIN`), through
        `tickets_updated`, so a list page does not read every open ticket's timers. One caller
        at a time per process, so a wave of page refreshes does the work once."""
        now = now or utcnow()
        async with self._lock:
            started = utcnow()
            sql = ("SELECT t.* FROM tickets t LEFT JOIN sla_timers s ON s.ticket_id = t.id"
                   " WHERE t.status IN (?, ?, ?, 'solved') AND (s.ticket_id IS NULL"
                   " OR s.ticket_updated_at <> t.updated_at)")
            args: list[object] = list(_TRACKED)
            if self._caught_up is not None:  # only what changed since (`tickets_updated`)
                sql += " AND t.updated_at >= ?"
                args.append(codec.ts(self._caught_up - CATCH_UP_MARGIN))
            rows = await self.store.db.fetchall(sql + " ORDER BY t.id LIMIT ?", *args,
                                                self.batch)
            published = await self._check(rows, now)
            if len(rows) < self.batch:  # all of it: the next one starts from here
                self._caught_up = started
            return published

    async def _check(self, rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        published: list[dict[str, Any]] = []
        for row in rows:
            ticket = codec.ticket(row)
            try:
                self.settings.target(ticket.priority)
            except KeyError:
                log.error("sla.unknown_priority", ticket_id=ticket.id, priority=ticket.priority)
                continue
            events = await self.store.events(ticket_id=ticket.id)
            status = evaluate(history_from_events(ticket, events), self.settings,
                              self.calendars(ticket.queue), now)
            await self._save(ticket, status, row["updated_at"], now)
            for clock in status.clocks:
                if clock.state != "ok" and not clock.done:
                    note = await self._alarm(ticket, clock)
                    if note is not None:
                        published.append(note)
        return published

    async def _save(self, ticket: Ticket, status: SlaStatus, seen_updated_at: str,
                    now: datetime) -> None:
        """Upsert the timers; the alarm flags are left alone. Two processes may both write the
        same values; a stale write is redone on the next pass (its ticket_updated_at differs)."""
        check = status.next_check()
        warning_at, breach_at, due_at, due_clock = moments(status)
        await self.store.db.execute(
            "INSERT INTO sla_timers (ticket_id, priority, state, paused, paused_seconds,"
            " first_response_due, resolution_due, next_check_at, ticket_updated_at, computed_at,"
            " warning_at, breach_at, due_at, due_clock)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO UPDATE"
            " SET priority = excluded.priority, state = excluded.state, paused = excluded.paused,"
            " paused_seconds = excluded.paused_seconds,"
            " first_response_due = excluded.first_response_due,"
            " resolution_due = excluded.resolution_due, next_check_at = excluded.next_check_at,"
            " ticket_updated_at = excluded.ticket_updated_at, computed_at = excluded.computed_at,"
            " warning_at = excluded.warning_at, breach_at = excluded.breach_at,"
            " due_at = excluded.due_at, due_clock = excluded.due_clock",
            ticket.id, ticket.priority, status.state, int(status.paused),
            int(status.paused_time.total_seconds()), codec.ts(status.first_response.due),
            codec.ts(status.resolution.due), codec.ts(check) if check else _NEVER,
            seen_updated_at, codec.ts(now), warning_at, breach_at, due_at, due_clock,
        )

    async def _alarm(self, ticket: Ticket, clock: Clock) -> dict[str, Any] | None:
        """Write the clock's warning or breach once (whoever flips the flag writes the event)."""
        kind = f"sla.{clock.state}"
        supervisors = await self._supervisors(ticket.queue)
        data = {"clock": clock.name, "due": codec.ts(clock.due), "queue": ticket.queue,
                "priority": ticket.priority, "supervisors": supervisors}
        async with self.store.db.transaction() as tx:
            if await tx.execute(_CLAIM[clock.state].format(c=clock.name), ticket.id) != 1:
                return None
            await tx.execute(
                "INSERT INTO events (conversation_id, ticket_id, actor, type, data, created_at)"
                " VALUES (?, ?, 'sla', ?, ?, ?)",
                ticket.conversation_id, ticket.id, kind, json.dumps(data), codec.ts(utcnow()),
            )
        note = {"type": kind, "ticket_id": ticket.id, **data}
        if ticket.assignee_id is not None:  # the owner hears of it wherever they are
            await notices.notify(self.store, self.hub, ticket.assignee_id,
                                 kind.replace(".", "_"), ticket, "sla",
                                 f"#{ticket.id} {ticket.subject}: {clock.name.replace('_', ' ')}"
                                 f" {'breached' if clock.state == 'breached' else 'due soon'}")
        self.telemetry.sla_alarms.labels(clock.state, clock.name, ticket.queue).inc()
        self.hub.publish("notifications", note)
        log.warning(kind.replace(".", "_"), ticket_id=ticket.id, clock=clock.name,
                    queue=ticket.queue)
        return note

    async def _supervisors(self, queue: str) -> list[str]:
        return [op.username for op in await self.store.operators()
                if op.active and op.role == "supervisor" and queue in op.queues]

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
                await self.callbacks.run_once()
                await durations.sweep(self.store, self.calendars)
                await outcomes.sweep(self.store)
                await daily.sweep(self.store)
            except StoreError as exc:  # database down: keep the loop, retry at the next tick
                log.error("sla.store_unavailable", error=str(exc))
            await asyncio.sleep(self.settings.check_interval)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SlaWatcher]:
        async with background(self._loop, "sla-watcher"):
            yield self
