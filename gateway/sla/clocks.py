"""SLA timers as pure functions of a ticket's status history, its priority and a calendar.

Two clocks per ticket: first response (stops at the first operator reply) and resolution
(stops when solved or closed). Both count business time only while the ticket is `new` or
`open` (`gateway.tickets.lifecycle.CLOCK_RUNS_IN`); time spent `pending` on the customer does not
count, so the due times move later by exactly the business time spent paused. The targets
are the ones of the ticket's current priority, counted from its creation, so raising the
priority tightens the due times at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from gateway.calendar import BusinessCalendar
from gateway.config.policy import SlaSettings
from gateway.models import Event, Ticket
from gateway.tickets.lifecycle import CLOCK_RUNS_IN

SlaState = Literal["ok", "warning", "breached"]
ClockName = Literal["first_response", "resolution"]
_SEVERITY: dict[SlaState, int] = {"ok": 0, "warning": 1, "breached": 2}


@dataclass(frozen=True)
class StatusHistory:
    """What the SLA needs from a ticket: when it was created, in which status it was from when,
    and when an operator first answered."""

    created_at: datetime
    priority: str
    #: (since, status) in time order; the first entry is the status at creation.
    statuses: tuple[tuple[datetime, str], ...]
    first_response_at: datetime | None = None

    @property
    def status(self) -> str:
        return self.statuses[-1][1]


def history_from_events(ticket: Ticket, events: Iterable[Event]) -> StatusHistory:
    """Read the history from the audit trail (`store.events(ticket_id=...)`): events whose data
    holds ``{"status": {"from": x, "to": y}}`` and the first ``ticket.replied``."""
    changes: list[tuple[datetime, str]] = []
    initial: str | None = None
    first_response: datetime | None = None
    for event in sorted(events, key=lambda e: e.id):
        change = event.data.get("status")
        if isinstance(change, dict) and "to" in change:
            if initial is None:
                initial = str(change.get("from", ticket.status))
            changes.append((event.created_at, str(change["to"])))
        if event.type == "ticket.replied" and first_response is None:
            first_response = event.created_at
    statuses = ((ticket.created_at, initial or ticket.status), *changes)
    return StatusHistory(ticket.created_at, ticket.priority, statuses, first_response)


@dataclass(frozen=True)
class Clock:
    name: ClockName
    target: timedelta
    #: Business time counted so far (while running).
    elapsed: timedelta
    #: When the target is (or was) reached; while paused, the due time if work resumed now.
    due: datetime
    #: When the clock turns (or turned) to `warning`.
    warn_at: datetime
    state: SlaState
    running: bool
    #: The clock stopped for good (first reply given, ticket solved or closed).
    done: bool


@dataclass(frozen=True)
class SlaStatus:
    first_response: Clock
    resolution: Clock
    #: The ticket waits on the customer (or is solved): no clock counts.
    paused: bool
    #: Business time spent pending so far, by which the due times moved.
    paused_time: timedelta

    @property
    def clocks(self) -> tuple[Clock, Clock]:
        return self.first_response, self.resolution

    @property
    def state(self) -> SlaState:
        """The worst of both clocks: what the console shows on the ticket."""
        return max((clock.state for clock in self.clocks), key=_SEVERITY.__getitem__)

    def next_check(self) -> datetime | None:
        """The next moment a clock changes state by itself (None while nothing runs)."""
        moments = [clock.warn_at if clock.state == "ok" else clock.due
                   for clock in self.clocks if clock.running and clock.state != "breached"]
        return min(moments, default=None)


Segment = tuple[datetime, datetime]


def evaluate(history: StatusHistory, settings: SlaSettings, calendar: BusinessCalendar,
             now: datetime) -> SlaStatus:
    """Both clocks of a ticket at `now`."""
    first_target, resolution_target = settings.target(history.priority)
    periods = _periods(history, now)
    running = [(start, end) for start, end, status in periods if status in CLOCK_RUNS_IN]
    pending = [(start, end) for start, end, status in periods if status == "pending"]
    replied = history.first_response_at
    first_running = _until(running, replied) if replied is not None else running
    status = history.status
    paused = status not in CLOCK_RUNS_IN
    resolution = _clock("resolution", resolution_target, running, now, calendar, settings,
                        done=status in ("solved", "closed"), paused=paused)
    first = _clock("first_response", first_target, first_running, now, calendar, settings,
                   done=replied is not None or status == "closed", paused=paused)
    paused_time = sum((calendar.business_time_between(a, b) for a, b in pending), timedelta(0))
    return SlaStatus(first, resolution, paused, paused_time)


def _periods(history: StatusHistory, now: datetime) -> list[tuple[datetime, datetime, str]]:
    """Consecutive (start, end, status) periods from creation to `now`."""
    points = [*history.statuses, (now, history.status)]
    return [(max(a, history.created_at), min(b, now), status)
            for (a, status), (b, _) in itertools.pairwise(points) if a < now]


def _until(segments: Sequence[Segment], stop: datetime) -> list[Segment]:
    return [(a, min(b, stop)) for a, b in segments if a < stop]


def _clock(name: ClockName, target: timedelta, segments: Sequence[Segment], now: datetime,
           calendar: BusinessCalendar, settings: SlaSettings, *, done: bool,
           paused: bool) -> Clock:
    window = settings.warning_window(target)
    elapsed = timedelta(0)
    due: datetime | None = None
    warn_at: datetime | None = None
    for start, end in segments:
        span = calendar.business_time_between(start, end)
        if warn_at is None and elapsed + span >= target - window:
            warn_at = calendar.add_business_time(start, target - window - elapsed)
        if due is None and elapsed + span >= target:
            due = calendar.add_business_time(start, target - elapsed)
        elapsed += span
    # Not reached yet: project from now, as if the clock ran on from here.
    remaining = max(target - elapsed, timedelta(0))
    due = due or calendar.add_business_time(now, remaining)
    warn_at = warn_at or calendar.add_business_time(now, max(remaining - window, timedelta(0)))
    state: SlaState = "ok"
    if elapsed >= target:
        state = "breached"
    elif elapsed >= target - window and not done:
        state = "warning"
    return Clock(name, target, elapsed, due, warn_at, state, not (done or paused), done)
