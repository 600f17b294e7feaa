"""What the console shows of the SLA: the clocks of one ticket, and a summary per list row.

The ticket page evaluates both clocks from the audit trail at the moment it is shown
(`gateway.sla.clocks.evaluate`), so a change is visible at once. The list reads the watcher's
`sla_timers`, and recomputes only the rows the watcher has not caught up with yet (the
ticket changed since, or a warning/breach moment has passed), so it is never stale either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.units import format_unit

from gateway.config.settings import Settings
from gateway.console import queries
from gateway.console.i18n import N_, format_locale
from gateway.console.i18n import relative as relative_time
from gateway.console.listing import RowFacts
from gateway.models import Event, Ticket
from gateway.sla.clocks import Clock, SlaStatus, evaluate, history_from_events
from gateway.store import Store, codec

#: English msgids (`gateway.console.labels` "clock"): translated where they are shown.
CLOCK_LABELS = {"first_response": N_("First response"), "resolution": N_("Resolution")}


@dataclass(frozen=True)
class ClockView:
    label: str
    due: datetime
    state: str
    #: running, paused, met (stopped in time) or stopped (stopped after its due time).
    progress: str
    relative: str


@dataclass(frozen=True)
class TicketSla:
    clocks: list[ClockView]
    state: str
    paused: bool
    paused_for: str


@dataclass(frozen=True)
class RowSla:
    """One list row: the worse state, whether it is paused, and the due time that matters."""

    state: str
    paused: bool
    due: datetime | None
    clock: str


def relative(moment: datetime, now: datetime) -> str:
    """"in 2 hours" / "5 min ago", "dans 2 heures" / "il y a 5 min": how far a due time is,
    for scanning, in the request's language."""
    return relative_time(moment - now)


def duration(span: timedelta) -> str:
    """"25 min", "2 h 05 min": time a clock was paused, in the request's language."""
    minutes, where = int(span.total_seconds()) // 60, format_locale()
    text = format_unit(minutes % 60, "duration-minute", length="short", locale=where)
    if minutes < 60:
        return text
    hours = format_unit(minutes // 60, "duration-hour", length="short", locale=where)
    return f"{hours} {text}"


def _progress(clock: Clock) -> str:
    if clock.running:
        return "running"
    if clock.done:
        return "stopped" if clock.state == "breached" else "met"
    return "paused"


def status_of(settings: Settings, ticket: Ticket, events: Iterable[Event],
              now: datetime) -> SlaStatus | None:
    """Both clocks of a ticket now; None when its priority has no SLA target."""
    try:
        settings.sla.target(ticket.priority)
    except KeyError:
        return None
    return evaluate(history_from_events(ticket, events), settings.sla,
                    settings.calendar.for_queue(ticket.queue), now)


def ticket_sla(settings: Settings, ticket: Ticket, events: Iterable[Event],
               now: datetime) -> TicketSla | None:
    status = status_of(settings, ticket, events, now)
    if status is None:
        return None
    clocks = [ClockView(label=CLOCK_LABELS[c.name], due=c.due, state=c.state,
                        progress=_progress(c), relative=relative(c.due, now))
              for c in status.clocks]
    return TicketSla(clocks=clocks, state=status.state, paused=status.paused,
                     paused_for=duration(status.paused_time))


def _row_from_status(status: SlaStatus) -> RowSla:
    clock = status.first_response if not status.first_response.done else status.resolution
    return RowSla(state=status.state, paused=status.paused,
                  due=None if clock.done else clock.due, clock=CLOCK_LABELS[clock.name])


async def row_slas(store: Store, settings: Settings, tickets: list[Ticket],
                   now: datetime, facts: Mapping[int, RowFacts] | None = None
                   ) -> dict[int, RowSla]:
    """SLA summaries of list rows: from `sla_timers` when current, else computed now. With
    `facts` (read with the page: `listing.ticket_page`) the timers and replies are not read
    again."""
    ids = [t.id for t in tickets]
    if facts is not None:
        timers = {i: f.timer for i in ids if (f := facts.get(i)) and f.timer is not None}
        replied = {i for i in ids if (f := facts.get(i)) and f.replied}
    else:
        timers = await queries.sla_timers(store, ids)
        replied = await queries.replied_tickets(store, ids)
    found: dict[int, RowSla] = {}
    stale: list[Ticket] = []
    for ticket in tickets:
        row = timers.get(ticket.id)
        if (row is None or row["ticket_updated_at"] != codec.ts(ticket.updated_at)
                or row["next_check_at"] <= codec.ts(now) or row["priority"] != ticket.priority):
            stale.append(ticket)
            continue
        answered = ticket.id in replied
        due = codec.parse_ts(row["resolution_due" if answered else "first_response_due"])
        done = ticket.status in ("solved", "closed")
        found[ticket.id] = RowSla(state=row["state"], paused=bool(row["paused"]),
                                  due=None if done else due,
                                  clock=CLOCK_LABELS["resolution" if answered
                                                     else "first_response"])
    trails = await queries.events_of_tickets(store, [t.id for t in stale])
    for ticket in stale:
        status = status_of(settings, ticket, trails[ticket.id], now)
        if status is not None:
            found[ticket.id] = _row_from_status(status)
    return found
