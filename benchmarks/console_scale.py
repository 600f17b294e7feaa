"""The operator console at volume: page times with N tickets, against `/healthz` in the same
run as the baseline, on SQLite or PostgreSQL.

    .venv/bin/python benchmarks/console_scale.py [--tickets 5000] [--requests 15]
    [--database sqlite|postgresql://postgres@127.0.0.1:5432/postgres] [--explain]
    [--no-dashboards] [--only dashboards|search] [--old-open] [--keep] [--reuse NAME]

Loads the tickets in bulk through the store (multi-row INSERTs: 95 % closed, the rest new,
open or pending, a tenth of those breached, one customer with 300 tickets, three messages
each), lets the SLA watcher build the timers and store the business-time durations (timed: the
backfill after the upgrade), then times each view's first page, searches
(an e-mail address, two words of one message, a word of every message, a customer number, a
ticket number), a ticket page, the customer card of the busy customer, the SLA banner
query, and as a supervisor the dashboards (30 days, a year, a year of one queue, a CSV) and
the gap report (docs/reports.md): the bot answered two in three first questions and handed
the third to people; closed tickets were replied to and closed by the agent. `--tickets 100000`
is the issue's scale (a few minutes to load). PostgreSQL runs in a fresh database, dropped
afterwards. Prints one JSON object: per page the median, p95, size and SQL statements
(count, kinds, the three slowest; `benchmarks/sql_count.py`), against `/healthz` and the
issue's baseline `/healthz` plus one query; `--explain` adds the plans of the list SQL;
`--no-dashboards` times the operators' pages only; `--only dashboards` the supervisors'
pages only, with each dashboard section of the year views timed in process (`sections`);
`--only search` the search pages only (no backfills, no lists, no dashboards; with
`--explain`, the plans of each search's statements, with buffers on PostgreSQL);
`--old-open` makes the open tickets the
oldest (lowest numbers), so a newest-first list that walks the tickets by number reads the
closed ones before it finds a page. On PostgreSQL `--keep` leaves the loaded database
(its name in the report) and `--reuse NAME` times an already loaded one, so a change can be
measured before and after on the same desk without loading it again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sql_count import Tally, count_requests  # noqa: E402
from gateway.access.auth import hash_password  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.config.settings import Settings  # noqa: E402
from gateway.console import alerts, listing  # noqa: E402
from gateway.delivery.notify import Hub  # noqa: E402
from gateway.keys import STORE  # noqa: E402
from gateway.models import utcnow  # noqa: E402
from gateway.sla import daily, durations, outcomes  # noqa: E402
from gateway.sla.watcher import SlaWatcher  # noqa: E402
from gateway.store import Store, codec  # noqa: E402
from gateway.store.db import open_database  # noqa: E402

PASSWORD = "bench-password-1"
QUEUES = ("general", "sales", "billing", "technical")
ARTICLES = ("delivery-time", "opening-hours-shops", "return-policy", "payment-methods")
BATCH = 500
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
#: The searches timed (besides `#ticket`): what each word of the desk's text is, see `load`.
SEARCHES = {
    "a customer's e-mail": "c1234@example.be",
    "two words of one message": "Message 150001",
    "a word of every message": "message",
    "a rare word (one message)": "150001",
    "a customer name": "Customer 1234",
    "a customer number": "1234",
    "a 2-letter query": "of",
}


def settings_for(url: str) -> Settings:
    return Settings.model_validate({
        "database": {"url": url},
        "knowledge_base": {"path": str(ROOT / "config" / "kb")},
        "console": {"admin": {"username": "admin", "password": PASSWORD}},
        "queues": [{"name": q} for q in QUEUES],
        "logging": {"level": "error"},
    })


async def insert(store: Store, table: str, columns: tuple[str, ...],
                 rows: list[tuple[Any, ...]]) -> None:
    """Multi-row INSERTs in one transaction per batch: bulk, but through the store's driver."""
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        async with store.db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                + ", ".join(marks for _ in chunk), *[v for row in chunk for v in row])


async def load(store: Store, tickets: int, agent_id: int,
               old_open: bool = False) -> dict[str, int]:
    """The desk: customers, conversations, tickets, messages and creation events; the open
    tickets are the newest, or with `old_open` the oldest."""
    now = utcnow()
    customers = max(2, tickets // 3)
    stamp = codec.ts(now)
    await insert(store, "customers", ("id", "name", "email", "created_at"),
                 [(c, f"Customer {c}", f"c{c}@example.be", stamp)
                  for c in range(1, customers + 1)])
    open_count = max(1, tickets // 20)
    conversations, rows, messages, events = [], [], [], []
    message_id = 0
    for t in range(1, tickets + 1):
        customer = 1 if t % max(1, tickets // 300) == 0 else 2 + t % (customers - 1)
        is_open = t <= open_count if old_open else t > tickets - open_count
        status = ("new", "open", "pending")[t % 3] if is_open else "closed"
        age = timedelta(days=400 - t * 365 // tickets)  # closed: spread over a year
        if is_open:
            age = timedelta(days=30) if t % 10 == 0 else timedelta(minutes=5)
        created = now - age
        created_s = codec.ts(created)
        conversations.append((t, customer, "api", f"bench-{t}", "en", "queue", created_s,
                              created_s))
        rows.append((t, t, customer, status, ("P1", "P2", "P3", "P4")[t % 4],
                     QUEUES[0] if t % 5 else QUEUES[t % 4], agent_id if t % 3 == 1 else None,
                     f"Question {t} about my order", "en", created_s, created_s))
        # the bot answered two in three first questions, and handed the third to people
        bot_kind, bot_meta = ("answer", json.dumps({
            "article_id": ARTICLES[t % len(ARTICLES)], "language": "en", "confidence": 0.9})
        ) if t % 3 else ("handoff", json.dumps({"reason": "no confident answer",
                                                "ticket_id": t}))
        for author, direction, kind, meta in (("customer", "inbound", None, "{}"),
                                              ("bot", "outbound", bot_kind, bot_meta),
                                              ("customer", "inbound", None, "{}")):
            message_id += 1
            messages.append((message_id, t, "api", direction, author,
                             f"Message {message_id} of ticket {t}", kind, meta,
                             f"bench-{message_id}", 1, created_s))
        events.append((t, t, "bot", "ticket.created", "{}", created_s))
        if not is_open:  # replied and closed by the agent: what the dashboards time
            events.append((t, t, "agent1", "ticket.replied", "{}",
                           codec.ts(created + timedelta(minutes=1 + t % 50))))
            events.append((t, t, "agent1", "ticket.closed", "{}",
                           codec.ts(created + timedelta(minutes=60 + t % 500))))
    await insert(store, "conversations", ("id", "customer_id", "channel", "address",
                                          "language", "owner", "created_at", "updated_at"),
                 conversations)
    await insert(store, "tickets", ("id", "conversation_id", "customer_id", "status",
                                    "priority", "queue", "assignee_id", "subject", "language",
                                    "created_at", "updated_at"), rows)
    await insert(store, "messages", ("id", "conversation_id", "channel", "direction", "author",
                                     "text", "kind", "meta", "channel_message_id", "handled",
                                     "created_at"), messages)
    await insert(store, "events", ("conversation_id", "ticket_id", "actor", "type", "data",
                                   "created_at"), events)
    if store.db.dialect == "postgresql":  # explicit ids do not move the sequences
        for table in ("customers", "conversations", "tickets", "messages"):
            await store.db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT MAX(id) FROM {table}))")
        await store.db.execute("ANALYZE")  # what autovacuum does after a bulk load
    return {"tickets": tickets, "open": open_count, "customers": customers,
            "messages": len(messages)}


async def timers(store: Store, settings: Settings, open_count: int) -> None:
    """What the watcher does in the background, all at once (it also raises the alarms)."""
    watcher = SlaWatcher(store, Hub(), settings.sla, settings.calendar.for_queue, batch=BATCH)
    for _ in range(open_count // BATCH + 2):
        await watcher.catch_up()


async def timed(session: aiohttp.ClientSession, url: str, requests: int,
                tallies: list[Tally] | None = None) -> dict[str, Any]:
    samples = []
    for n in range(requests + 2):
        started = time.perf_counter()
        async with session.get(url) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"{url}: HTTP {response.status}")
        if n >= 2:  # two warm-up requests
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    figures: dict[str, Any] = {"median_ms": round(statistics.median(samples), 2),
                               "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 2),
                               "kb": round(len(body) / 1024, 1)}
    if tallies:  # the last request's SQL statements, by kind (benchmarks/sql_count.py)
        figures["statements"] = tallies[-1].total
        figures["statement_kinds"] = dict(tallies[-1].kinds.most_common())
        figures["slowest_statements"] = tallies[-1].slowest()
    return figures


async def one_query(app: web.Application, ticket_id: int, requests: int) -> float:
    """The baseline's "one query": a ticket by primary key through the app's own pool."""
    samples = []
    for n in range(requests + 2):
        started = time.perf_counter()
        await app[STORE].db.fetchone("SELECT id, status FROM tickets WHERE id = ?", ticket_id)
        if n >= 2:
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def explain(store: Store, sql: str, args: list[object],
                  buffers: bool = False) -> list[str]:
    if store.db.dialect == "sqlite":
        rows = await store.db.fetchall("EXPLAIN QUERY PLAN " + sql, *args)
        return [str(row["detail"]) for row in rows]
    # executed, so the plan says how many rows each step read and filtered out
    options = "ANALYZE, BUFFERS, COSTS OFF" if buffers else "ANALYZE, COSTS OFF, TIMING OFF"
    async with store.db.transaction() as tx:  # with the search's own plan mode
        await tx.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = await tx.fetchall(f"EXPLAIN ({options}) " + sql, *args)
    return [str(row["QUERY PLAN"]) for row in rows]


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    settings = settings_for(url)
    store = Store(open_database(url))
    await store.open()
    if args.reuse:  # loaded by an earlier run with --keep
        return await _timings(store, settings, url, args, {"reused": args.reuse})
    agent = await store.create_operator("agent1", "Agent One", hash_password(PASSWORD),
                                        role="agent", queues=["general"])
    await store.create_operator("super1", "Super One", hash_password(PASSWORD),
                                role="supervisor", queues=list(QUEUES))
    started = time.perf_counter()
    loaded = await load(store, args.tickets, agent.id, args.old_open)
    await timers(store, settings, loaded["open"])
    loaded["load_seconds"] = round(time.perf_counter() - started, 1)
    if args.only != "search":
        await _backfills(store, settings, loaded)
    if store.db.dialect == "postgresql":  # the backfill rewrote every ticket: autovacuum's
        await store.db.execute("VACUUM ANALYZE tickets")
    return await _timings(store, settings, url, args, loaded)


async def _backfills(store: Store, settings: Settings, loaded: dict[str, Any]) -> None:
    # the backfill of the business-time durations (the watcher's first rounds after the
    # upgrade): every replied or resolved ticket, a batch of 1,000 per event type at a time
    started = time.perf_counter()
    loaded["durations_stored"] = await durations.sweep(store, settings.calendar.for_queue,
                                                       max_batches=1_000_000)
    loaded["outcomes_stored"] = await outcomes.sweep(store, max_batches=1_000_000)
    begun = time.perf_counter()
    loaded["daily_counted"] = await daily.sweep(store, max_batches=1_000_000)
    loaded["daily_backfill_seconds"] = round(time.perf_counter() - begun, 1)
    loaded["durations_backfill_seconds"] = round(time.perf_counter() - started, 1)


async def _timings(store: Store, settings: Settings, url: str, args: argparse.Namespace,
                   loaded: dict[str, Any]) -> dict[str, Any]:
    agent = await store.operator_by_username("agent1")
    assert agent is not None
    busy = await store.db.fetchone(
        "SELECT id FROM tickets WHERE customer_id = 1 ORDER BY id DESC LIMIT 1")
    some = await store.db.fetchone(
        "SELECT id FROM tickets WHERE status = 'open' AND queue = 'general' ORDER BY id LIMIT 1")
    assert busy is not None and some is not None
    now = utcnow()
    banner: list[float] = []
    sections = await _sections(store, args.requests) if args.only == "dashboards" else {}
    for _ in range(0 if args.only else args.requests):
        begun = time.perf_counter()
        await alerts.sla_alerts(store, agent, now)
        banner.append((time.perf_counter() - begun) * 1000)
    plans = {}
    if args.explain and not args.only:
        wanted = listing.TicketFilter(statuses=("new", "open", "pending"), queues=("general",),
                                      sla="breached")
        dialect = store.db.dialect
        plans["list_breached_sorted_by_due"] = await explain(
            store, *listing.page_sql(wanted, now, sort="due", dialect=dialect))
        in_work = ("new", "open", "pending")
        plans["list_newest"] = await explain(store, *listing.page_sql(
            listing.TicketFilter(statuses=in_work, queues=("general",)), now, dialect=dialect))
        plans["list_newest_every_queue"] = await explain(store, *listing.page_sql(
            listing.TicketFilter(statuses=in_work), now, dialect=dialect))
    if args.explain and args.only == "search":
        plans = await _search_plans(store, SEARCHES)
    await store.close()

    app: web.Application = create_app(settings)
    tallies = count_requests(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    results: dict[str, Any] = {}
    try:
        # unsafe: accept the session cookie from 127.0.0.1 (an IP address)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            form = await (await session.get(f"{base}/console/login")).text()
            token = CSRF.search(form)
            assert token is not None
            await session.post(f"{base}/console/login", data={
                "csrf": token.group(1), "username": "agent1", "password": PASSWORD})
            pages = {
                "healthz (baseline)": "/healthz",
                "list: open": "/console",
                "list: mine": "/console?assignee=me",
                "list: unassigned": "/console?assignee=none",
                "list: breached": "/console?sla=breached",
                "list: due soon": "/console?sla=warning&sort=due",
                "list: pending": "/console?status=pending",
                "list: solved": "/console?status=solved",
                "list: sorted by SLA due": "/console?sort=due",
                "list: page 20": "/console?page=20",
                **{f"search: {name}": "/console/search?" + urlencode({"q": q})
                   for name, q in SEARCHES.items()},
                "search: #ticket (opens it)": f"/console/search?q=%23{some['id']}",
                "ticket page": f"/console/tickets/{some['id']}",
                "ticket page, customer with 300 tickets": f"/console/tickets/{busy['id']}",
                "notifications": "/console/notifications",
                "notifications: unread (the toasts' poll)": "/console/notifications/unread",
            }
            for name, path in pages.items():
                if args.only and name != "healthz (baseline)" and (
                        args.only == "dashboards" or not name.startswith("search:")):
                    continue
                results[name] = await timed(session, base + path, args.requests, tallies)
        query_ms = await one_query(app, some["id"], args.requests)
        if not args.no_dashboards and args.only != "search":
            results.update(await _dashboards(base, args.requests))
    finally:
        await runner.cleanup()
    if banner:
        banner.sort()
        results["SLA banner query (in process)"] = {
            "median_ms": round(statistics.median(banner), 2),
            "p95_ms": round(banner[max(0, int(len(banner) * 0.95) - 1)], 2)}
    healthz = results["healthz (baseline)"]["median_ms"]
    # the issue's baseline: /healthz plus one query, both measured in this run
    baseline = healthz + query_ms
    results["one query (in process)"] = {"median_ms": round(query_ms, 3)}
    for figures in results.values():
        figures["x_healthz"] = round(figures["median_ms"] / healthz, 1)
        figures["x_baseline"] = round(figures["median_ms"] / baseline, 1)
    return {"store": store.db.dialect, "desk": loaded, "requests": args.requests,
            "results": results, **({"explain": plans} if plans else {}),
            **({"sections": sections} if sections else {})}


class _Recording:
    """A connection that notes the statements read through it."""

    def __init__(self, conn: Any, seen: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.conn, self.seen = conn, seen

    async def fetchall(self, sql: str, *args: Any) -> Any:
        self.seen.append((sql, args))
        return await self.conn.fetchall(sql, *args)

    async def fetchone(self, sql: str, *args: Any) -> Any:
        self.seen.append((sql, args))
        return await self.conn.fetchone(sql, *args)


async def _search_plans(store: Store, searches: dict[str, str]) -> dict[str, Any]:
    """Each search's statements as the agent runs them, explained (executed: with the rows
    and, on PostgreSQL, the buffers each step read)."""
    from gateway.console.search import PAGE_SIZE
    from gateway.store.search_queries import search_terms

    agent = await store.operator_by_username("agent1")
    assert agent is not None
    plans: dict[str, Any] = {}
    for name, query in searches.items():
        seen: list[tuple[str, tuple[Any, ...]]] = []
        search = store._search

        async def recorded(conn: Any, *rest: Any) -> Any:
            return await search(_Recording(conn, seen), *rest)  # noqa: B023 (called at once)

        store._search = recorded  # type: ignore[method-assign]
        try:
            await store.search_tickets(search_terms(query)[0], tuple(agent.queues),
                                       size=PAGE_SIZE)
        finally:
            del store._search
        plans[name] = [await explain(store, sql, list(args), buffers=True)
                       for sql, args in seen]
    return plans


async def _sections(store: Store, requests: int) -> dict[str, Any]:
    """Each dashboard section of the year views, in process (median and min ms, after one
    warm-up call): where a year's page time goes; volume and backlog also from the tickets
    themselves (as before the daily rows), checked to give the same tables."""
    from gateway.console.dashboards import SECTIONS
    from gateway.reports.period import Period

    async def tickets_only(db: object) -> bool:
        return False

    today = utcnow().date()
    found: dict[str, Any] = {}
    for label, queue in (("a year", None), ("a year, one queue", "general")):
        period = Period(today - timedelta(days=365), today, queue)
        for names, make in SECTIONS:
            # the sections that read the daily rows also timed reading the tickets, alternated
            ways = {"": daily.ready, " (tickets read)": tickets_only} if names[0] in (
                "volume-by-day", "backlog") else {"": daily.ready}
            samples: dict[str, list[float]] = {way: [] for way in ways}
            made: dict[str, Any] = {}
            for n in range(requests + 1):
                for way, ready in ways.items():
                    daily.ready = ready  # type: ignore[assignment]
                    started = time.perf_counter()
                    made[way] = await make(store, period)
                    if n:
                        samples[way].append((time.perf_counter() - started) * 1000)
            assert all(tables == made[""] for tables in made.values()), names  # same both ways
            daily.ready = ways[""]  # type: ignore[assignment]
            for way, taken in samples.items():
                found[f"{label}: {names[0].split('-by-')[0]}{way}"] = {
                    "median_ms": round(statistics.median(taken), 1),
                    "min_ms": round(min(taken), 1)}
    return found


async def _dashboards(base: str, requests: int) -> dict[str, Any]:
    """The supervisors' pages (docs/reports.md), logged in as a supervisor."""
    today = utcnow().date()
    year = f"from={today - timedelta(days=365)}&to={today}"
    results: dict[str, Any] = {}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        form = await (await session.get(f"{base}/console/login")).text()
        token = CSRF.search(form)
        assert token is not None
        await session.post(f"{base}/console/login", data={
            "csrf": token.group(1), "username": "super1", "password": PASSWORD})
        for name, path in {
            "dashboards: last 30 days": "/console/dashboards",
            "dashboards: a year (every ticket)": f"/console/dashboards?{year}",
            "dashboards: a year, one queue": f"/console/dashboards?{year}&queue=general",
            "dashboards CSV: timings, a year": f"/console/dashboards/timings.csv?{year}",
            "gap report: 30 days": "/console/reports/gaps?days=30",
        }.items():
            results[name] = await timed(session, base + path, requests)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--no-dashboards", action="store_true",
                        help="only the operators' pages (the supervisors' take minutes)")
    parser.add_argument("--only", choices=("dashboards", "search"),
                        help="dashboards: only the supervisors' pages, each section timed in"
                        " process; search: only the search pages (no backfills)")
    parser.add_argument("--keep", action="store_true",
                        help="PostgreSQL: leave the loaded database (named in the report)")
    parser.add_argument("--reuse", metavar="NAME",
                        help="PostgreSQL: time the database NAME left by --keep, not a new one")
    parser.add_argument("--old-open", action="store_true",
                        help="the open tickets are the oldest (a desk where old ones stay open)")
    args = parser.parse_args()
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            report = await measure(f"sqlite:{Path(tmp) / 'bench.db'}", args)
    else:
        name = args.reuse or f"hgw_bench_{uuid.uuid4().hex[:10]}"
        if not args.reuse:
            admin = await asyncpg.connect(args.database)
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
        try:
            report = await measure(f"{args.database.rsplit('/', 1)[0]}/{name}", args)
            if args.keep or args.reuse:
                report["database"] = name
        finally:
            if not (args.keep or args.reuse):
                admin = await asyncpg.connect(args.database)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
