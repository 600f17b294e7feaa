"""The ticket list's SQL: every filter, sort, count and page runs in the database.

A list never loads a capped batch and filters it afterwards: that hid the breached tickets
beyond the 200 newest. The SLA state is read from the watcher's `sla_timers` as of now
(`sla_state_sql`): the stored state, moved on by the moments it changes by itself
(`warning_at`, `breach_at`), so time passing needs no recomputation. Tickets changed since
the watcher's last pass are caught up first (`SlaWatcher.catch_up`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.console.i18n import N_
from gateway.models import Ticket
from gateway.store import Store, codec

#: Rows per page of a list.
PAGE_SIZE = 50
#: How a list can be sorted: label (translated when shown), and the ORDER BY (ties broken by
#: number).
SORTS: dict[str, tuple[str, str]] = {
    "newest": (N_("Newest first"), "t.id DESC"),
    "due": (N_("SLA due soonest"),
            "CASE WHEN s.due_at IS NULL THEN 1 ELSE 0 END, s.due_at, t.id"),
    "priority": (N_("Priority"), "t.priority, t.id"),
    "waiting": (N_("Waiting longest"), "t.created_at, t.id"),
    "updated": (N_("Last updated"), "t.updated_at DESC, t.id DESC"),
}


def sla_state_sql() -> str:
    """The SLA state now, from `sla_timers` (NULL without timers); takes `now` twice."""
    return ("CASE WHEN s.state = 'breached' OR s.breach_at <= ? THEN 'breached'"
            " WHEN s.state = 'warning' OR s.warning_at <= ? THEN 'warning' ELSE s.state END")


@dataclass(frozen=True)
class TicketFilter:
    """The list's filters, already checked against what the operator may ask for.

    `queues` None means every queue; `assignee_id` None means anyone, 0 unassigned;
    `sla` None means any state."""

    statuses: tuple[str, ...]
    queues: tuple[str, ...] | None = None
    priority: str | None = None
    language: str | None = None
    assignee_id: int | None = None
    sla: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    #: How many tickets match, over the whole set (not just this page).
    total: int
    page: int
    pages: int


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


def _where(wanted: TicketFilter, now: datetime) -> tuple[str, list[object]]:
    sql = f" WHERE t.status IN ({_marks(wanted.statuses)})"
    args: list[object] = list(wanted.statuses)
    if wanted.queues is not None:
        sql += f" AND t.queue IN ({_marks(wanted.queues)})"
        args += wanted.queues
    if wanted.priority is not None:
        sql += " AND t.priority = ?"
        args.append(wanted.priority)
    if wanted.language is not None:
        sql += " AND t.language = ?"
        args.append(wanted.language)
    if wanted.assignee_id == 0:
        sql += " AND t.assignee_id IS NULL"
    elif wanted.assignee_id is not None:
        sql += " AND t.assignee_id = ?"
        args.append(wanted.assignee_id)
    if wanted.tag is not None:
        sql += " AND t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = ?)"
        args.append(wanted.tag)
    if wanted.sla is not None:
        sql += f" AND ({sla_state_sql()}) = ?"
        args += [codec.ts(now), codec.ts(now), wanted.sla]
    return sql, args


def _empty(wanted: TicketFilter) -> bool:
    return not wanted.statuses or (wanted.queues is not None and not wanted.queues)


async def count(store: Store, wanted: TicketFilter, now: datetime) -> int:
    """How many tickets match, in one COUNT (the timers are joined only when filtered on)."""
    if _empty(wanted):
        return 0
    where, args = _where(wanted, now)
    join = " LEFT JOIN sla_timers s ON s.ticket_id = t.id" if wanted.sla is not None else ""
    row = await store.db.fetchone(f"SELECT COUNT(*) AS n FROM tickets t{join}{where}", *args)
    return int(row["n"]) if row else 0


async def counts(store: Store, wanted: Sequence[TicketFilter], now: datetime) -> list[int]:
    """How many tickets each filter matches, in one statement: the views are counted on
    every list page, and a COUNT each was a round trip each (seven per page). The rows
    read are those of the filters' statuses and queues together, as the largest count
    alone would read."""
    totals = [0] * len(wanted)
    live = [(at, filter_) for at, filter_ in enumerate(wanted) if not _empty(filter_)]
    if not live:
        return totals
    sums: list[str] = []
    args: list[object] = []
    for at, filter_ in live:
        where, where_args = _where(filter_, now)
        sums.append(f"SUM(CASE WHEN {where.removeprefix(' WHERE ')} THEN 1 ELSE 0 END)"
                    f" AS n{at}")
        args += where_args
    statuses = sorted({status for _, filter_ in live for status in filter_.statuses})
    outer = f" WHERE t.status IN ({_marks(tuple(statuses))})"
    args += statuses
    if all(filter_.queues is not None for _, filter_ in live):
        queues = sorted({queue for _, filter_ in live for queue in filter_.queues or ()})
        outer += f" AND t.queue IN ({_marks(tuple(queues))})"
        args += queues
    join = " LEFT JOIN sla_timers s ON s.ticket_id = t.id" \
        if any(filter_.sla is not None for _, filter_ in live) else ""
    row = await store.db.fetchone(f"SELECT {', '.join(sums)} FROM tickets t{join}{outer}",
                                  *args)
    for at, _ in live:
        totals[at] = int(row[f"n{at}"] or 0) if row else 0
    return totals


async def ticket_page(store: Store, wanted: TicketFilter, now: datetime, *, sort: str = "newest",
                      page: int = 1, size: int = PAGE_SIZE) -> TicketPage:
    """One page of the matching tickets in the chosen order, and the true total."""
    total = await count(store, wanted, now)
    pages = max(1, -(-total // size))
    if _empty(wanted) or total == 0:
        return TicketPage([], total, 1, pages)
    sql, args = page_sql(wanted, now, sort=sort, page=page, size=size)
    rows = await store.db.fetchall(sql, *args)
    return TicketPage([codec.ticket(row) for row in rows], total, page, pages)


def page_sql(wanted: TicketFilter, now: datetime, *, sort: str = "newest", page: int = 1,
             size: int = PAGE_SIZE) -> tuple[str, list[object]]:
    """The SELECT of one page (also what benchmarks/console_scale.py EXPLAINs)."""
    where, args = _where(wanted, now)
    return ("SELECT t.* FROM tickets t LEFT JOIN sla_timers s ON s.ticket_id = t.id"
            f"{where} ORDER BY {SORTS[sort][1]} LIMIT ? OFFSET ?",
            [*args, size, (page - 1) * size])
