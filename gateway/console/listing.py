"""The ticket list's SQL: every filter, sort, count and page runs in the database.

A list never loads a capped batch and filters it afterwards: that hid the breached tickets
beyond the 200 newest. The SLA state is read from the watcher's `sla_timers` as of now
(`sla_state_sql`): the stored state, moved on by the moments it changes by itself
(`warning_at`, `breach_at`), so time passing needs no recomputation. Tickets changed since
the watcher's last pass are caught up first (`SlaWatcher.catch_up`).

A list page costs few statements: the list's own count goes with the views' counts
(`counts`, one statement of conditional sums), and a page's rows come with what they show
(customer, channel, SLA timer, whether an operator replied, tags) in one joined SELECT
(`page_sql`). The statuses are written into the SQL as literals (they come from a fixed
set), so the partial index of the tickets in work (`tickets_open`, migration 3440) is usable
on both engines: the newest-first list walks the open tickets, never the closed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args

from gateway.console.i18n import N_
from gateway.models import Ticket, TicketStatus
from gateway.store import Store, codec

#: Rows per page of a list.
PAGE_SIZE = 50
#: How a list can be sorted: label (translated when shown), and the ORDER BY (ties broken by
#: number), `{t}` the tickets' alias and `{due}` the timer's due column (`order_by`).
SORTS: dict[str, tuple[str, str]] = {
    "newest": (N_("Newest first"), "{t}.id DESC"),
    "due": (N_("SLA due soonest"),
            "CASE WHEN {due} IS NULL THEN 1 ELSE 0 END, {due}, {t}.id"),
    "priority": (N_("Priority"), "{t}.priority, {t}.id"),
    "waiting": (N_("Waiting longest"), "{t}.created_at, {t}.id"),
    "updated": (N_("Last updated"), "{t}.updated_at DESC, {t}.id DESC"),
}
#: Every ticket status, in the order the partial index `tickets_open` names the open ones.
STATUSES: tuple[str, ...] = get_args(TicketStatus)
#: The `sla_timers` columns a row's SLA summary reads (`console.sla.row_slas`), selected
#: with the page as `sla_<name>`.
TIMER_COLUMNS = ("ticket_id", "state", "paused", "first_response_due", "resolution_due",
                 "next_check_at", "ticket_updated_at", "priority", "due_at")


def order_by(sort: str, t: str = "t", due: str = "s.due_at") -> str:
    return SORTS[sort][1].format(t=t, due=due)


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
class RowFacts:
    """What a list row shows beside its ticket, read in the page's own statement."""

    #: The customer's name, else e-mail, else `#id`; None without a customer row.
    customer: str | None
    channel: str | None
    #: The ticket's `sla_timers` row (the `TIMER_COLUMNS`), None without one.
    timer: dict[str, Any] | None
    #: An operator answered at least once (a `ticket.replied` event).
    replied: bool
    tags: tuple[str, ...]


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    #: How many tickets match, over the whole set (not just this page).
    total: int
    page: int
    pages: int
    #: Per ticket id, what its row shows (read with the page).
    facts: dict[int, RowFacts] = field(default_factory=dict)


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


def _statuses(statuses: tuple[str, ...]) -> str:
    """`'new', 'open', 'pending'`: literals, in `STATUSES`' order, so the query's condition
    is the partial index's own (SQLite uses one only for the same term; PostgreSQL's
    generic plans cannot prove a bound parameter implies it)."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown ticket status: {sorted(unknown)}")
    return ", ".join(f"'{status}'" for status in STATUSES if status in statuses)


def _where(wanted: TicketFilter, now: datetime) -> tuple[str, list[object]]:
    sql = f" WHERE t.status IN ({_statuses(wanted.statuses)})"
    args: list[object] = []
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
    statuses = tuple({status for _, filter_ in live for status in filter_.statuses})
    outer = f" WHERE t.status IN ({_statuses(statuses)})"
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
                      page: int = 1, size: int = PAGE_SIZE,
                      total: int | None = None) -> TicketPage:
    """One page of the matching tickets in the chosen order, with what their rows show, and
    the true total (counted here unless given: the list counts it with the views)."""
    if total is None:
        total = await count(store, wanted, now)
    pages = max(1, -(-total // size))
    if _empty(wanted) or total == 0:
        return TicketPage([], total, 1, pages)
    sql, args = page_sql(wanted, now, sort=sort, page=page, size=size,
                         dialect=store.db.dialect)
    rows = await store.db.fetchall(sql, *args)
    return TicketPage([codec.ticket(row) for row in rows], total, page, pages,
                      {int(row["id"]): facts_of(row) for row in rows})


def facts_of(row: Any, sla: bool = True) -> RowFacts:
    """A row's facts from a SELECT with `row_lookups` (and, with `sla`, the page's timer
    columns and `replied`)."""
    timer = ({name: row[f"sla_{name}"] for name in TIMER_COLUMNS}
             if sla and row["sla_ticket_id"] is not None else None)
    tags = tuple(sorted(str(row["tag_list"]).split(","))) if row["tag_list"] else ()
    return RowFacts(customer=row["customer_label"], channel=row["conversation_channel"],
                    timer=timer, replied=bool(row["replied"]) if sla else False, tags=tags)


def row_lookups(alias: str, dialect: str) -> str:
    """The select-list of what a row shows beside ticket `alias`, looked up by key: the
    customer's label, the conversation's channel, the tags (scalar subqueries: as joins,
    PostgreSQL hashed whole tables for 50 rows on a small desk)."""
    tags = "string_agg(g.tag, ',')" if dialect == "postgresql" else "group_concat(g.tag, ',')"
    return ("(SELECT COALESCE(NULLIF(c.name, ''), NULLIF(c.email, ''), '#' || c.id)"
            f" FROM customers c WHERE c.id = {alias}.customer_id) AS customer_label,"
            f" (SELECT v.channel FROM conversations v WHERE v.id = {alias}.conversation_id)"
            f" AS conversation_channel,"
            f" (SELECT {tags} FROM ticket_tags g WHERE g.ticket_id = {alias}.id) AS tag_list")


def page_sql(wanted: TicketFilter, now: datetime, *, sort: str = "newest", page: int = 1,
             size: int = PAGE_SIZE, dialect: str = "sqlite") -> tuple[str, list[object]]:
    """The SELECT of one page with what its rows show (also what
    benchmarks/console_scale.py EXPLAINs): the page is chosen first (`p`, the only part
    that reads many rows), then each of its rows looks up what it shows (`row_lookups`) and
    whether an operator replied."""
    where, args = _where(wanted, now)
    timer = ", ".join(f"s.{name} AS sla_{name}" for name in TIMER_COLUMNS)
    chosen = (f"SELECT t.*, {timer} FROM tickets t LEFT JOIN sla_timers s"
              f" ON s.ticket_id = t.id{where} ORDER BY {order_by(sort)} LIMIT ? OFFSET ?")
    return (f"SELECT p.*, {row_lookups('p', dialect)},"
            " CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = p.id"
            " AND e.type = 'ticket.replied') THEN 1 ELSE 0 END AS replied"
            f" FROM ({chosen}) p ORDER BY {order_by(sort, 'p', 'p.sla_due_at')}",
            [*args, size, (page - 1) * size])
