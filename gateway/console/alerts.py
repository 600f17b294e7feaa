"""Notifications the console shows: SLA warnings and breaches, and knowledge-base errors.

SLA alarms are the watcher's `sla.warning` / `sla.breached` events. An operator sees those of
tickets still in work that they are assigned to, or whose queue they supervise (supervisors
and admins with the queue among theirs): that is the escalation of docs/sla.md. A ticket
shows once, with its latest alarm, while its SLA is not back to `ok`; breaches first.

The selection runs in SQL from the operator's own tickets (never "the newest alarms of
everyone, filtered afterwards", which lost an agent's alarms behind other people's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.console.listing import sla_state_sql
from gateway.console.sla import CLOCK_LABELS
from gateway.models import OPEN_TICKET_STATUSES, Operator, utcnow
from gateway.store import Store, codec

#: At most this many alarms are listed (the rest are counted).
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


@dataclass(frozen=True)
class Alerts:
    shown: list[Alert] = field(default_factory=list)
    #: How many tickets of the operator are in alarm, shown or not.
    total: int = 0


def _scope(operator: Operator) -> tuple[str, list[object]]:
    """The operator's tickets in work: assigned to them, or in a queue they supervise."""
    sql = f" WHERE t.status IN ({', '.join('?' for _ in OPEN_TICKET_STATUSES)})"
    args: list[object] = list(OPEN_TICKET_STATUSES)
    queues = operator.queues if operator.role in ("supervisor", "admin") else ()
    if queues:
        sql += f" AND (t.assignee_id = ? OR t.queue IN ({', '.join('?' for _ in queues)}))"
        args += [operator.id, *queues]
    else:
        sql += " AND t.assignee_id = ?"
        args.append(operator.id)
    return sql, args


#: The latest alarm of ticket `t` (the partial index `events_sla_alarm` answers it in one
#: probe). A scalar subquery, never a join: a join let PostgreSQL hash every event of the
#: desk's history on each page (155 ms at 100,000 tickets).
LATEST_ALARM = ("(SELECT MAX(x.id) FROM events x WHERE x.ticket_id = t.id"
                " AND x.type IN ('sla.warning', 'sla.breached'))")


async def sla_alerts(store: Store, operator: Operator, now: datetime | None = None) -> Alerts:
    """The operator's alarms, breaches first, then the latest; each ticket once.

    Read from the operator's tickets in work whose SLA is not `ok` (a few, through their
    indexes); only the alarms shown are read from `events`, by primary key. One statement,
    the count of all of them included."""
    stamp = codec.ts(now or utcnow())
    where, args = _scope(operator)
    state = sla_state_sql()
    alarmed = (f" FROM tickets t LEFT JOIN sla_timers s ON s.ticket_id = t.id{where}"
               f" AND ({state} IS NULL OR {state} <> 'ok') AND {LATEST_ALARM} IS NOT NULL")
    state_args = [stamp, stamp, stamp, stamp]
    # `total` counts every ticket in alarm (the window runs before the LIMIT): the count
    # of the rest is no second statement
    rows = await store.db.fetchall(
        "SELECT b.id, b.subject, b.queue, b.total, e.type, e.data, e.created_at FROM ("
        "SELECT a.*, CASE WHEN (SELECT y.type FROM events y WHERE y.id = a.alarm)"
        " = 'sla.breached' THEN 0 ELSE 1 END AS rank, COUNT(*) OVER () AS total FROM ("
        f"SELECT t.id, t.subject, t.queue, {LATEST_ALARM} AS alarm{alarmed}) a"
        " ORDER BY rank, alarm DESC LIMIT ?) b"
        " JOIN events e ON e.id = b.alarm ORDER BY b.rank, b.alarm DESC",
        *args, *state_args, MAX_ALERTS,
    )
    shown = []
    for row in rows:
        event = codec.event({"id": 0, "conversation_id": None, "ticket_id": row["id"],
                             "actor": "sla", "type": row["type"], "data": row["data"],
                             "created_at": row["created_at"]})
        due = event.data.get("due")
        shown.append(Alert(
            ticket_id=row["id"], subject=row["subject"] or "(no subject)", queue=row["queue"],
            kind=event.type.removeprefix("sla."),
            clock=CLOCK_LABELS.get(str(event.data.get("clock")), "SLA"),
            due=codec.parse_ts(due) if isinstance(due, str) else None,
            created_at=event.created_at,
        ))
    return Alerts(shown, int(rows[0]["total"]) if rows else 0)


def kb_errors_for(operator: Operator, errors: tuple[str, ...]) -> tuple[str, ...]:
    """Knowledge-base load errors are for the people who can act on them."""
    return errors if operator.role in ("supervisor", "admin") else ()
