"""Assignment: which operator gets a ticket, or nobody (it waits in its queue).

The choice is a pure function over operators' profiles and current load; presence, capacity,
skills and working-hours schedule live in the `operator_status` table and are read here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from gateway.calendar import BusinessCalendar
from gateway.models import Operator, Ticket, utcnow
from gateway.store import Store, codec

Presence = Literal["available", "busy", "away"]
PRESENCES: tuple[str, ...] = get_args(Presence)
DEFAULT_CAPACITY = 5
#: Tickets that take an operator's time; `pending` ones wait on the customer and do not.
_LOAD_STATUSES = ("new", "open")


@dataclass(frozen=True)
class Queue:
    name: str
    languages: frozenset[str]
    skills: frozenset[str] = frozenset()

    def serves(self, language: str | None) -> bool:
        return language is None or language in self.languages


@dataclass(frozen=True)
class Agent:
    """An operator as routing sees them."""

    operator: Operator
    presence: Presence
    capacity: int
    skills: frozenset[str]
    #: Working hours; None means "whenever they are available".
    hours: BusinessCalendar | None

    @property
    def id(self) -> int:
        return self.operator.id

    def can_take(self, ticket: Ticket, queue: Queue | None, at: datetime) -> bool:
        op = self.operator
        return (op.active and self.presence == "available"
                and ticket.queue in op.queues
                and (ticket.language is None or ticket.language in op.languages)
                and (queue is None or queue.skills <= self.skills)
                and (self.hours is None or self.hours.is_open(at)))


def pick_operator(ticket: Ticket, operators: Sequence[Agent], load: Mapping[int, int], *,
                  at: datetime, queue: Queue | None = None) -> Agent | None:
    """The least-loaded available operator in working hours with the ticket's language, queue
    (and the queue's skills), under capacity; None leaves the ticket in its queue.

    Ties go to the lower load relative to capacity, then to the lower id (deterministic).
    """
    if queue is not None and not queue.serves(ticket.language):
        return None
    fits = [agent for agent in operators
            if agent.can_take(ticket, queue, at) and load.get(agent.id, 0) < agent.capacity]
    if not fits:
        return None
    return min(fits, key=lambda a: (load.get(a.id, 0), load.get(a.id, 0) / a.capacity, a.id))


# -- storage -------------------------------------------------------------------------------


async def set_presence(store: Store, operator_id: int, presence: str, *,
                       capacity: int | None = None) -> None:
    """Record an operator's presence (and optionally capacity) as they change it in the console."""
    if presence not in PRESENCES:
        raise ValueError(f"presence must be one of {', '.join(PRESENCES)}")
    if capacity is not None and capacity < 0:
        raise ValueError("capacity must not be negative")
    await store.db.execute(
        "INSERT INTO operator_status (operator_id, presence, capacity, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (operator_id) DO UPDATE SET"
        " presence = excluded.presence, updated_at = excluded.updated_at,"
        " capacity = COALESCE(?, operator_status.capacity)",
        operator_id, presence, DEFAULT_CAPACITY if capacity is None else capacity,
        codec.ts(utcnow()), capacity,
    )


async def set_profile(store: Store, operator_id: int, *, skills: Sequence[str],
                      schedule: str | None) -> None:
    """Skills and the name of the working-hours schedule (None: always when available)."""
    await store.db.execute(
        "INSERT INTO operator_status (operator_id, skills, schedule, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (operator_id) DO UPDATE SET"
        " skills = excluded.skills, schedule = excluded.schedule,"
        " updated_at = excluded.updated_at",
        operator_id, json.dumps(sorted(skills)), schedule, codec.ts(utcnow()),
    )


async def agents(store: Store,
                 schedules: Callable[[str], BusinessCalendar]) -> list[Agent]:
    """Active operators with their status; one never seen in the console counts as away.

    `schedules` turns a schedule name into its calendar (e.g. `CalendarSettings.calendar`);
    an operator whose schedule is no longer configured gets no working hours at all, so
    routing skips them rather than assigning outside hours.
    """
    rows = await store.db.fetchall(
        "SELECT o.*, s.presence AS status_presence, s.capacity AS status_capacity,"
        " s.skills AS status_skills, s.schedule AS status_schedule FROM operators o"
        " LEFT JOIN operator_status s ON s.operator_id = o.id WHERE o.active = 1 ORDER BY o.id"
    )
    found: list[Agent] = []
    for row in rows:
        hours: BusinessCalendar | None = None
        present: Presence = row["status_presence"] or "away"
        if row["status_schedule"]:
            try:
                hours = schedules(row["status_schedule"])
            except KeyError:
                present = "away"
        capacity = row["status_capacity"]
        found.append(Agent(
            operator=codec.operator(row), presence=present,
            capacity=DEFAULT_CAPACITY if capacity is None else int(capacity),
            skills=frozenset(json.loads(row["status_skills"] or "[]")), hours=hours,
        ))
    return found


async def operator_load(store: Store) -> dict[int, int]:
    """Tickets in work per operator."""
    rows = await store.db.fetchall(
        "SELECT assignee_id, COUNT(*) AS n FROM tickets WHERE assignee_id IS NOT NULL"
        " AND status IN (?, ?) GROUP BY assignee_id", *_LOAD_STATUSES,
    )
    return {int(row["assignee_id"]): int(row["n"]) for row in rows}


async def auto_assign(store: Store, ticket: Ticket,
                      schedules: Callable[[str], BusinessCalendar], *,
                      queue: Queue | None = None, at: datetime | None = None) -> Ticket:
    """Give a new ticket to the best operator now, or leave it in its queue unchanged."""
    if ticket.assignee_id is not None:
        return ticket
    at = at or utcnow()
    candidates = [a for a in await agents(store, schedules) if a.can_take(ticket, queue, at)]
    if not candidates:  # nobody could take it whatever their load: no need to count it
        return ticket
    chosen = pick_operator(ticket, candidates, await operator_load(store), at=at, queue=queue)
    if chosen is None:
        return ticket
    return await store.update_ticket(ticket.id, "routing", "ticket.assigned",
                                     {"by": "routing"}, assignee_id=chosen.id)
