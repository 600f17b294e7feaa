"""The ticket lifecycle: which status changes are allowed and what each does to the SLA clocks.

    new → open → pending → solved → closed
          ↑________|  |       |
          ↑___________________|   (a customer reply reopens a pending or solved ticket)

Any status but closed may be closed. Closed is final: a later contact opens a new ticket.
The SLA clocks run only in `new` and `open`; `pending` (waiting on the customer) and
`solved` pause them, and the due times move by the business time spent paused.
"""

from __future__ import annotations

from typing import Literal

from gateway.errors import GatewayError
from gateway.models import TicketStatus

ClockEffect = Literal["pause", "resume", "stop"]

#: Statuses in which the SLA clocks count business time.
CLOCK_RUNS_IN: frozenset[TicketStatus] = frozenset({"new", "open"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "solved", "closed"}),
    "open": frozenset({"pending", "solved", "closed"}),
    "pending": frozenset({"open", "solved", "closed"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}


class IllegalTransition(GatewayError, ValueError):
    """A status change the lifecycle does not allow; the message lists what is allowed."""

    def __init__(self, current: str, wanted: str) -> None:
        self.current, self.wanted = current, wanted
        allowed = sorted(TRANSITIONS.get(current, frozenset()))
        hint = f"allowed: {', '.join(allowed)}" if allowed else f"{current} is final"
        super().__init__(f"a ticket cannot go from {current} to {wanted} ({hint})")


def check_transition(current: str, wanted: str) -> None:
    """Raise `IllegalTransition` unless `current → wanted` is allowed (same status: a no-op)."""
    if current == wanted and current in TRANSITIONS:
        return
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(current, wanted)


def reopen_status(current: TicketStatus) -> TicketStatus | None:
    """The status a customer's reply moves the ticket to, or None when it stays as it is."""
    return "open" if current in ("pending", "solved") else None


def clock_effect(current: TicketStatus, wanted: TicketStatus) -> ClockEffect | None:
    """What a transition does to the SLA clocks (for announcing it; `gateway.sla.clocks` derives the
    timers from the status history itself)."""
    if wanted == "closed":
        return "stop" if current != "closed" else None
    running_before, running_after = current in CLOCK_RUNS_IN, wanted in CLOCK_RUNS_IN
    if running_before and not running_after:
        return "pause"
    if running_after and not running_before:
        return "resume"
    return None
