"""The ticket list's filters: GET parameters, checked against what the operator may ask for.

`?queue=&status=&priority=&language=&sla=&assignee=`; an empty or absent parameter means
"any". A value outside the offered choices (e.g. an agent asking for another queue) is
refused with 400 rather than quietly ignored, so a list never pretends to be filtered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.console.guard import Refused
from gateway.console.queries import TicketFilter
from gateway.models import OPEN_TICKET_STATUSES, Operator
from gateway.settings import Settings

#: Statuses the list can show; the default ("") is every open one (new, open, pending).
STATUSES = ("new", "open", "pending", "solved")
SLA_STATES = ("ok", "warning", "breached")
ASSIGNEES = {"me": "Assigned to me", "none": "Unassigned"}
NAMES = ("queue", "status", "priority", "language", "sla", "assignee")


@dataclass(frozen=True)
class Choices:
    """The options of each filter control."""

    queue: tuple[str, ...]
    status: tuple[str, ...]
    priority: tuple[str, ...]
    language: tuple[str, ...]
    sla: tuple[str, ...]
    assignee: tuple[str, ...]


def choices(settings: Settings, operator: Operator) -> Choices:
    all_queues = tuple(q.name for q in settings.queues)
    queues = all_queues if operator.role in ("supervisor", "admin") else tuple(
        q for q in all_queues if q in operator.queues)
    priorities = tuple(sorted(settings.priority.priorities() | set(settings.sla.targets)))
    return Choices(queue=queues, status=STATUSES, priority=priorities,
                   language=tuple(settings.languages.supported), sla=SLA_STATES,
                   assignee=tuple(ASSIGNEES))


def selected(query: Mapping[str, str], offered: Choices) -> dict[str, str]:
    """The chosen value of each filter ("" for any); 400 for a value not offered."""
    chosen = {}
    for name in NAMES:
        value = query.get(name, "").strip()
        if value and value not in getattr(offered, name):
            raise Refused(400, f"There is no {name} filter “{value}” for you.")
        chosen[name] = value
    return chosen


def ticket_filter(chosen: Mapping[str, str], operator: Operator) -> TicketFilter:
    """The SQL part of the filters; the SLA state is applied to the rows afterwards."""
    if chosen["queue"]:
        queues: tuple[str, ...] | None = (chosen["queue"],)
    elif operator.role in ("supervisor", "admin"):
        queues = None
    else:
        queues = operator.queues
    assignee = {"me": operator.id, "none": 0}.get(chosen["assignee"])
    return TicketFilter(
        statuses=(chosen["status"],) if chosen["status"] else OPEN_TICKET_STATUSES,
        queues=queues, priority=chosen["priority"] or None,
        language=chosen["language"] or None, assignee_id=assignee,
    )
