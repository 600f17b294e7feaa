"""The dashboards and the gap report read a period of history through indexes: with years
of closed tickets, events and messages in the tables, no report query scans one of them
whole (the database's own plan, on SQLite and PostgreSQL; see tests/test_query_plans.py)."""

from __future__ import annotations

from datetime import timedelta

from gateway.models import utcnow
from gateway.reports import dashboards, gaps
from gateway.reports.period import Period
from gateway.sla import daily, outcomes
from gateway.store import codec, store_for
from tests.test_query_plans import SEED, Recorder, full_scans

#: What the report queries scan on purpose: their own intermediate results (CTEs and
#: subqueries, already cut to the period) and the handful of operators.
OWN = {"d", "h", "q", "u", "ranked", "seq", "r", "outcomes", "ends", "operators"}


async def test_report_queries_use_indexes_not_history(database_url: str) -> None:
    store = store_for(database_url)
    await store.open()
    try:
        for statement in SEED:
            await store.db.execute(statement)
        await store.db.execute("ANALYZE")
        recorder = Recorder(store)
        today = utcnow().date()
        period = Period(today - timedelta(days=29), today)
        await outcomes.sweep(store)
        await dashboards.volume(store.db, period)
        await dashboards.containment(store.db, period)
        await dashboards.timings(store.db, period)
        await dashboards.sla(store.db, period)
        await dashboards.backlog(store.db, period)
        await dashboards.operators(store.db, period)
        await dashboards.csat(store, period)
        await daily.sweep(store, max_batches=1_000)  # the backfill reads every ticket once
        assert await daily.ready(store.db)
        await daily.sweep(store)
        await dashboards.volume(store.db, period)  # from the daily rows
        await dashboards.backlog(store.db, period)
        await gaps.find_gaps(store, utcnow() - timedelta(days=30))
        # a caught-up pass reads the tickets changed since its cursor, not the history
        sent = [*recorder.sent, (daily.CHANGED, (codec.ts(utcnow() - daily.MARGIN), 1000))]
        scans = {}
        for sql, args in sent:
            found = [f for f in await full_scans(store, sql, args)
                     if f.split()[1] not in OWN and f.split()[-1] not in OWN]
            if found:
                scans[sql[:80]] = found
        assert scans == {}, "\n".join(f"{k}: {v}" for k, v in scans.items())
    finally:
        await store.close()
