"""The dashboards' figures, each one aggregate query (or a few) over every ticket of the
period, never rows loaded into Python and summed there.

The indexes they read are in `gateway/store/migrations_reports.py`. Days are UTC days.
First-response and resolution times are business minutes (from the ticket's creation to its
first operator reply, and to its first solved or closed), stored on the ticket by
`gateway.sla.durations`, as are the operators' open-to-close times (business minutes from
the ticket's creation to each closing, `closing_durations`). Each bot answer's containment
is stored by `gateway.sla.outcomes` (`bot_outcomes`). The tickets opened and resolved per
day and queue are counted by `gateway.sla.daily` (`daily_tickets`, `daily_resolved`): the
volume and backlog sections add those up once they are complete (`daily.ready`), and read
the tickets themselves until then, with the same results. CSAT comes from the store's own
aggregate (`Store.csat_per_group`, the survey feature's).
"""

from __future__ import annotations

from typing import Any, Literal

from gateway.catalogue import N_
from gateway.models import OPEN_TICKET_STATUSES, utcnow
from gateway.reports.period import Period, Table
from gateway.reports.sql import day, quantiles
from gateway.sla import daily
from gateway.store import Store, codec
from gateway.store.db import Database

_OPEN = ", ".join(f"'{s}'" for s in OPEN_TICKET_STATUSES)
_RESOLVED = "('ticket.solved', 'ticket.closed')"
ALL = N_("(all queues)")
#: What a row says for a group without a name (the console shows it translated).
PLACEHOLDERS = frozenset({ALL, N_("(unknown)"), N_("(not known yet)"), N_("(nobody)")})
#: The tables' column codes (the CSV's headers, stable) and what the console heads them with.
COLUMN_LABELS = {
    "day": N_("day"), "tickets": N_("tickets"), "channel": N_("channel"),
    "language": N_("language"), "category": N_("category"), "article": N_("article"),
    "answers": N_("answers"), "contained": N_("contained"),
    "contained_percent": N_("contained (%)"), "queue": N_("queue"),
    "replied": N_("replied"), "first_response_median": N_("first response, median"),
    "first_response_p90": N_("first response, p90"), "resolved": N_("resolved"),
    "resolution_median": N_("resolution, median"), "resolution_p90": N_("resolution, p90"),
    "priority": N_("priority"), "met": N_("met"), "met_percent": N_("met (%)"),
    "first_response_breached": N_("first response breached"),
    "resolution_breached": N_("resolution breached"), "open_tickets": N_("open tickets"),
    "operator": N_("operator"), "name": N_("name"), "replies": N_("replies"),
    "tickets_replied": N_("tickets replied to"), "tickets_closed": N_("tickets closed"),
    "open_to_close_median": N_("open to close, median"),
    "open_to_close_p90": N_("open to close, p90"), "average_score": N_("average score"),
    "satisfied": N_("satisfied"), "csat_percent": N_("CSAT (%)"),
}


def _minutes(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 60, 1)


async def volume(db: Database, period: Period) -> list[Table]:
    """Tickets opened per day, and by channel, language and purpose category."""
    if await daily.ready(db):
        return await _volume_daily(db, period)
    where, args = period.queue_sql()
    base = f" FROM tickets t WHERE t.created_at >= ? AND t.created_at < ?{where}"
    rows = await db.fetchall(f"SELECT {day('t.created_at')} AS d, COUNT(*) AS n{base}"
                             " GROUP BY d ORDER BY d", period.low, period.high, *args)
    counts = {str(r["d"]): int(r["n"]) for r in rows}
    tables = [Table("volume-by-day", N_("Tickets opened per day"), ("day", "tickets"),
                    [(d, counts.get(d, 0)) for d in period.days()],
                    N_("New tickets per UTC day in the period."))]
    joined = (" FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
              f" WHERE t.created_at >= ? AND t.created_at < ?{where}")
    for name, title, description, expression, source in (
            ("channel", N_("Tickets by channel"), N_("New tickets in the period by channel."),
             "c.channel", joined),
            ("language", N_("Tickets by language"), N_("New tickets in the period by language."),
             "COALESCE(t.language, '(unknown)')", base),
            ("category", N_("Tickets by purpose category"),
             N_("New tickets in the period by purpose category."),
             "COALESCE(t.category, '(not known yet)')", base)):
        found = await db.fetchall(f"SELECT {expression} AS k, COUNT(*) AS n{source}"
                                  " GROUP BY k ORDER BY n DESC, k", period.low, period.high,
                                  *args)
        tables.append(Table(f"volume-by-{name}", title, (name, "tickets"),
                            [(str(r["k"]), int(r["n"])) for r in found], description))
    return tables


_VOLUME = (("channel", N_("Tickets by channel"), N_("New tickets in the period by channel.")),
           ("language", N_("Tickets by language"), N_("New tickets in the period by language.")),
           ("category", N_("Tickets by purpose category"),
            N_("New tickets in the period by purpose category.")))


async def _volume_daily(db: Database, period: Period) -> list[Table]:
    """`volume` from the daily rows (`gateway.sla.daily`): the same groups, order and
    placeholders (stored as the tickets' query names them)."""
    where, args = period.queue_sql("queue")
    source = f" FROM daily_tickets WHERE day >= ? AND day <= ?{where}"
    bounds = [period.start.isoformat(), period.end.isoformat(), *args]
    counts = {str(r["d"]): int(r["n"]) for r in await db.fetchall(
        f"SELECT day AS d, SUM(opened) AS n{source} GROUP BY day", *bounds)}
    tables = [Table("volume-by-day", N_("Tickets opened per day"), ("day", "tickets"),
                    [(d, counts.get(d, 0)) for d in period.days()],
                    N_("New tickets per UTC day in the period."))]
    for name, title, description in _VOLUME:
        found = await db.fetchall(f"SELECT {name} AS k, SUM(opened) AS n{source}"
                                  " GROUP BY k ORDER BY n DESC, k", *bounds)
        tables.append(Table(f"volume-by-{name}", title, (name, "tickets"),
                            [(str(r["k"]), int(r["n"])) for r in found], description))
    return tables


async def containment(db: Database, period: Period) -> Table:
    """Bot answers in the period, and how many the bot kept: the conversation's next bot
    outcome was not a hand-off to people (no ticket followed the answer). Each answer's
    article, language and containment are stored by `gateway.sla.outcomes`, so this reads
    the period's answers through `bot_outcomes_kind_created` alone (covering): reading the
    messages, their JSON and a window over the conversations took most of a year view."""
    rows = await db.fetchall(
        "SELECT o.article, o.language, COUNT(*) AS answers, SUM(o.contained) AS contained"
        " FROM bot_outcomes o WHERE o.kind = 'answer' AND o.created_at >= ?"
        " AND o.created_at < ? GROUP BY o.article, o.language"
        " ORDER BY answers DESC, o.article, o.language", period.low, period.high)
    return Table("containment", N_("Bot containment by article and language"),
                 ("article", "language", "answers", "contained", "contained_percent"),
                 [(r["article"], r["language"], int(r["answers"]), int(r["contained"]),
                   round(100 * int(r["contained"]) / int(r["answers"]), 1)) for r in rows],
                 N_("Answers the bot gave, and the share not followed by a hand-off to people"
                    " (all queues: the bot's answers have no queue)."))


async def _quantiles(db: Database, source: str, args: list[Any], group: str,
                     values: tuple[str, ...], total: str | None = None
                     ) -> dict[str, list[Any]]:
    """group -> [count, median, p90] (minutes) for each of `values`, over `source`'s rows."""
    rows = await db.fetchall(quantiles(source, group, values, db.dialect, total), *args)
    return {str(r["grp"]): [x for v in values for x in (
        int(r[f"n_{v}"]), _minutes(r[f"{v}_q50"]), _minutes(r[f"{v}_q90"]))] for r in rows}


async def timings(db: Database, period: Period) -> Table:
    """First-response and resolution time per queue (and all queues), median and p90, in
    business hours: the seconds `gateway.sla.durations` stored on the period's tickets
    (read through `tickets (created_at)`), so the quantiles sort stored numbers."""
    where, args = period.queue_sql()
    source = ("SELECT t.queue AS queue, t.first_response_seconds AS fr,"
              " t.resolution_seconds AS res"
              f" FROM tickets t WHERE t.created_at >= ? AND t.created_at < ?{where}")
    found = await _quantiles(db, source, [period.low, period.high, *args],
                             "queue", ("fr", "res"), total=ALL)
    groups = sorted(found, key=lambda q: (q == ALL, q))
    return Table("timings", N_("First response and resolution (business hours, minutes)"),
                 ("queue", "replied", "first_response_median", "first_response_p90",
                  "resolved", "resolution_median", "resolution_p90"),
                 [(q, *found[q]) for q in groups],
                 N_("Tickets opened in the period: business minutes (the queue's opening"
                    " hours) to the first operator reply and to solved or closed, median and"
                    " 90th percentile."))


async def sla(db: Database, period: Period) -> Table:
    """SLA compliance of the period's tickets per queue and priority (the watcher's timers;
    a breach moment already passed counts even before the watcher's next pass)."""
    where, args = period.queue_sql()
    breached = ("(s.first_response_breached = 1 OR s.resolution_breached = 1"
                " OR (s.breach_at IS NOT NULL AND s.breach_at <= ?))")
    rows = await db.fetchall(
        f"SELECT t.queue, t.priority, COUNT(*) AS n,"
        f" SUM(CASE WHEN {breached} THEN 0 ELSE 1 END) AS met,"
        " SUM(s.first_response_breached) AS fr, SUM(s.resolution_breached) AS res"
        " FROM tickets t JOIN sla_timers s ON s.ticket_id = t.id"
        f" WHERE t.created_at >= ? AND t.created_at < ?{where}"
        " GROUP BY t.queue, t.priority ORDER BY t.queue, t.priority",
        codec.ts(utcnow()), period.low, period.high, *args)
    return Table("sla", N_("SLA compliance by queue and priority"),
                 ("queue", "priority", "tickets", "met", "met_percent",
                  "first_response_breached", "resolution_breached"),
                 [(r["queue"], r["priority"], int(r["n"]), int(r["met"]),
                   round(100 * int(r["met"]) / int(r["n"]), 1), int(r["fr"]), int(r["res"]))
                  for r in rows],
                 N_("Tickets opened in the period whose SLA clocks were never breached."))


async def backlog(db: Database, period: Period) -> Table:
    """Open tickets (new, open, pending) at the end of each day: today's count walked back
    with each day's new and resolved tickets (a ticket counts as resolved at its last
    solved or closed, unless it is open again now)."""
    where, args = period.queue_sql()
    row = await db.fetchone(f"SELECT COUNT(*) AS n FROM tickets t WHERE t.status IN ({_OPEN})"
                            f"{where}", *args)
    open_now = int(row["n"]) if row else 0
    if await daily.ready(db):
        later_created, created_on, resolved_on = await _backlog_daily(db, period)
    else:
        later_created, created_on, resolved_on = await _backlog_tickets(db, period)
    # from the end of the period back: at the end of day D, the tickets opened after D were
    # not there yet and those resolved after D were still open
    later_resolved = sum(n for d, n in resolved_on.items() if d > period.end.isoformat())
    counts: list[tuple[str, int]] = []
    for d in reversed(period.days()):
        counts.append((d, open_now - later_created + later_resolved))
        later_created += created_on.get(d, 0)
        later_resolved += resolved_on.get(d, 0)
    return Table("backlog", N_("Backlog at the end of each day"), ("day", "open_tickets"),
                 counts[::-1], N_("Tickets new, open or pending at the end of each UTC day."))


async def _backlog_tickets(db: Database, period: Period
                           ) -> tuple[int, dict[str, int], dict[str, int]]:
    """The tickets opened after the period, those opened and resolved per day of it (and
    resolved after it), read from the tickets and their events."""
    where, args = period.queue_sql()
    created = await db.fetchall(
        f"SELECT {day('t.created_at')} AS d, COUNT(*) AS n FROM tickets t"
        f" WHERE t.created_at >= ?{where} GROUP BY d", period.high, *args)
    resolved = await db.fetchall(
        "WITH ends AS MATERIALIZED (SELECT e.ticket_id, e.created_at FROM events e"
        f"  WHERE e.type IN {_RESOLVED} AND e.created_at >= ?)"
        f" SELECT {day('r.at')} AS d, COUNT(*) AS n FROM (SELECT ends.ticket_id,"
        " MAX(ends.created_at) AS at FROM ends JOIN tickets t ON t.id = ends.ticket_id"
        f" WHERE t.status NOT IN ({_OPEN}){where} GROUP BY ends.ticket_id) AS r GROUP BY d",
        period.low, *args)
    later_created = sum(int(r["n"]) for r in created)
    resolved_on = {str(r["d"]): int(r["n"]) for r in resolved}
    return later_created, await _created_per_day(db, period, where, args), resolved_on


async def _backlog_daily(db: Database, period: Period
                         ) -> tuple[int, dict[str, int], dict[str, int]]:
    """`_backlog_tickets` from the daily rows (`gateway.sla.daily`)."""
    where, args = period.queue_sql("queue")
    start, end = period.start.isoformat(), period.end.isoformat()
    created = await db.fetchall(
        f"SELECT day AS d, SUM(opened) AS n FROM daily_tickets WHERE day >= ?{where}"
        " GROUP BY day", start, *args)
    created_on = {str(r["d"]): int(r["n"]) for r in created}
    resolved = await db.fetchall(
        f"SELECT day AS d, SUM(resolved) AS n FROM daily_resolved WHERE day >= ?{where}"
        " GROUP BY day", start, *args)
    return (sum(n for d, n in created_on.items() if d > end),
            {d: n for d, n in created_on.items() if d <= end},
            {str(r["d"]): int(r["n"]) for r in resolved})


async def _created_per_day(db: Database, period: Period, where: str,
                           args: list[Any]) -> dict[str, int]:
    rows = await db.fetchall(
        f"SELECT {day('t.created_at')} AS d, COUNT(*) AS n FROM tickets t"
        f" WHERE t.created_at >= ? AND t.created_at < ?{where} GROUP BY d",
        period.low, period.high, *args)
    return {str(r["d"]): int(r["n"]) for r in rows}


async def operators(db: Database, period: Period) -> Table:
    """Per operator: replies, tickets replied to, tickets closed and the time those took
    from opening to closing (median, p90), in business hours: the seconds
    `gateway.sla.durations` stored per closing (`closing_durations`)."""
    where, args = period.queue_sql()
    # the ticket only for its queue: joined for all queues, it doubled PostgreSQL's time
    # (docs/benchmarks.md)
    tickets = " JOIN tickets t ON t.id = e.ticket_id" if period.queue else ""
    replies = await db.fetchall(
        "SELECT e.actor, COUNT(*) AS replies, COUNT(DISTINCT e.ticket_id) AS tickets"
        f" FROM events e{tickets} WHERE e.type = 'ticket.replied'"
        f" AND e.created_at >= ? AND e.created_at < ?{where} GROUP BY e.actor",
        period.low, period.high, *args)
    closed = await _quantiles(
        db, "SELECT e.actor AS actor, d.seconds AS secs"
            f" FROM events e{tickets} JOIN closing_durations d ON d.event_id = e.id"
            " WHERE e.type = 'ticket.closed'"
            f" AND e.created_at >= ? AND e.created_at < ?{where}",
        [period.low, period.high, *args], "actor", ("secs",))
    names = {str(r["username"]): str(r["display_name"]) for r in await db.fetchall(
        "SELECT username, display_name FROM operators")}
    replied = {str(r["actor"]): (int(r["replies"]), int(r["tickets"])) for r in replies}
    people = sorted(set(replied) | set(closed), key=lambda a: (-replied.get(a, (0, 0))[1], a))
    return Table("operators", N_("Tickets handled per operator"),
                 ("operator", "name", "replies", "tickets_replied", "tickets_closed",
                  "open_to_close_median", "open_to_close_p90"),
                 [(a, names.get(a, a), *replied.get(a, (0, 0)), *closed.get(a, [0, None, None]))
                  for a in people],
                 N_("Replies written and tickets closed in the period, and the business"
                    " minutes (the queue's opening hours) from opening to closing of the"
                    " tickets each closed, median and 90th percentile."))


async def csat(store: Store, period: Period) -> list[Table]:
    """CSAT per queue and per operator (the ticket's assignee when it was solved), of the
    survey answers given in the period."""
    low, high = codec.parse_ts(period.low), codec.parse_ts(period.high)
    tables = []
    groups: tuple[tuple[Literal["queue", "operator"], str, str], ...] = (
        ("queue", N_("CSAT per queue"),
         N_("Satisfaction survey answers of the period per queue: the mean score of 5 and"
            " the share of 4s and 5s.")),
        ("operator", N_("CSAT per operator"),
         N_("Satisfaction survey answers of the period per operator: the mean score of 5"
            " and the share of 4s and 5s.")))
    for by, title, description in groups:
        figures = await store.csat_per_group(by, low, high, period.queue)
        tables.append(Table(f"csat-by-{by}", title,
                            (by, "answers", "average_score", "satisfied", "csat_percent"),
                            [(f.key or "(nobody)", f.answers, round(f.average, 2), f.satisfied,
                              round(f.csat_percent, 1)) for f in figures], description))
    return tables
