"""Notifications the console shows: SLA warnings and breaches, and knowledge-base errors.

SLA alarms are the watcher's `sla.warning` / `sla.breached` events. An operator sees those of
tickets still in work that they are assigned to, or whose queue they supervise (supervisors
and admins with the queue among theirs): that is the escalation of docs/sla.md. A ticket
shows once, with its latest alarm, while its SLA is not back to `ok`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.console import queries
from gateway.console.sla import CLOCK_LABELS
from gateway.models import Operator
from gateway.store import Store, codec

#: At most this many alarms are listed (the oldest drop off).
MAX_ALERTS = 10


@dataclass(frozen=True)
class Alert:
    ticket_id: int
    subject: str
    queue: str
    kind: str
    clock: str
    due: datetime | None
    created_at: datetime

    @property
    def breached(self) -> bool:
        return self.kind == "breached"


def concerns(operator: Operator, queue: str, assignee_id: int | None) -> bool:
    return assignee_id == operator.id or (
        operator.role in ("supervisor", "admin") and queue in operator.queues)


async def sla_alerts(store: Store, operator: Operator) -> list[Alert]:
    shown: dict[int, Alert] = {}
    for alarm in await queries.sla_alarms(store):
        ticket = alarm.ticket
        if ticket.id in shown or alarm.current_state == "ok":
            continue
        if not concerns(operator, ticket.queue, ticket.assignee_id):
            continue
        data = alarm.event.data
        due = data.get("due")
        shown[ticket.id] = Alert(
            ticket_id=ticket.id, subject=ticket.subject or "(no subject)", queue=ticket.queue,
            kind=alarm.event.type.removeprefix("sla."),
            clock=CLOCK_LABELS.get(str(data.get("clock")), "SLA"),
            due=codec.parse_ts(due) if isinstance(due, str) else None,
            created_at=alarm.event.created_at,
        )
        if len(shown) >= MAX_ALERTS:
            break
    return list(shown.values())


def kb_errors_for(operator: Operator, errors: tuple[str, ...]) -> tuple[str, ...]:
    """Knowledge-base load errors are for the people who can act on them."""
    return errors if operator.role in ("supervisor", "admin") else ()
