"""The daily rows (gateway/sla/daily.py) give the volume and backlog sections exactly what
reading the tickets gives, on SQLite and PostgreSQL: after the backfill, after tickets move
queue, get a category, are reopened and resolved, and with two sweeps at once; and the
sections read the tickets until the rows are complete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest

from gateway.models import utcnow
from gateway.reports import dashboards
from gateway.reports.period import Period, Table
from gateway.sla import daily
from gateway.store import Store, store_for

from .test_dashboard_queries import PERIOD, _seed


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = store_for(database_url)
    await store.open()
    await _seed(store)
    yield store
    await store.close()


def periods() -> list[Period]:
    today = utcnow().date()
    return [PERIOD, Period(PERIOD.start, PERIOD.end, "sales"),
            Period(date(2026, 10, 31), date(2026, 11, 1)),
            Period(date(2026, 11, 2), date(2026, 11, 2), "general"),
            Period(PERIOD.start, today), Period(PERIOD.start, today, "sales")]


async def tables(store: Store) -> list[list[Table]]:
    return [[*await dashboards.volume(store.db, p), await dashboards.backlog(store.db, p)]
            for p in periods()]


async def from_tickets(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[Table]]:
    async def never(db: object) -> bool:
        return False

    with monkeypatch.context() as patched:
        patched.setattr(daily, "ready", never)
        return await tables(store)


async def test_daily_rows_give_what_the_tickets_give(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not await daily.ready(store.db)
    before = await tables(store)  # no rows yet: the tickets are read
    assert await daily.sweep(store, batch=2) == 5
    assert await daily.ready(store.db)
    assert await tables(store) == before == await from_tickets(store, monkeypatch)
    assert await daily.sweep(store) == 0  # nothing counted twice
    rows = await store.db.fetchall("SELECT day, SUM(opened) AS n FROM daily_tickets"
                                   " GROUP BY day ORDER BY day")
    assert [(r["day"], int(r["n"])) for r in rows] == [
        ("2026-11-01", 2), ("2026-11-02", 2), ("2026-11-03", 1)]

    await store.update_ticket(1, "gina", "ticket.moved", queue="sales")
    await store.update_ticket(2, "gina", "ticket.reopened", status="open")
    await store.update_ticket(3, "sam", "ticket.solved", status="solved")
    await store.update_ticket(5, "sam", "ticket.categorised", category="billing")
    await store.update_ticket(4, "sam", "ticket.assigned", priority="P2")  # nothing counted
    assert await daily.sweep(store) == 4
    changed = await tables(store)
    assert changed == await from_tickets(store, monkeypatch) and changed != before
    for table, column in (("daily_tickets", "opened"), ("daily_resolved", "resolved")):
        empty = await store.db.fetchone(f"SELECT COUNT(*) AS n FROM {table} WHERE {column} <= 0")
        assert empty is not None and int(empty["n"]) == 0  # a row a ticket left is gone
    assert await daily.sweep(store) == 0
    await store.update_ticket(2, "gina", "ticket.closed", status="closed")
    await daily.sweep(store)
    assert await tables(store) == await from_tickets(store, monkeypatch)


async def test_two_sweeps_at_once_count_each_ticket_once(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    await asyncio.gather(daily.sweep(store, batch=2), daily.sweep(store, batch=2),
                         daily.sweep(store, batch=3))
    assert await daily.ready(store.db)
    assert await tables(store) == await from_tickets(store, monkeypatch)


async def test_until_the_rows_are_complete_the_tickets_are_read(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert await daily.sweep(store, batch=2, max_batches=1) == 2
    assert not await daily.ready(store.db)  # three tickets left
    assert await tables(store) == await from_tickets(store, monkeypatch)
    await daily.sweep(store, batch=2)
    assert await daily.ready(store.db)


async def test_a_rebuild_counts_every_ticket_again(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/reports.md's rebuild: the three tables emptied and the cursor deleted."""
    await daily.sweep(store)
    counted = await tables(store)
    async with store.db.transaction() as tx:
        for table in ("daily_tickets", "daily_resolved", "ticket_days"):
            await tx.execute(f"DELETE FROM {table}")
        await tx.execute("DELETE FROM connector_state WHERE key = ?", daily.CURSOR_KEY)
    assert not await daily.ready(store.db)
    assert await tables(store) == counted  # the tickets are read meanwhile
    assert await daily.sweep(store) == 5
    assert await daily.ready(store.db) and await tables(store) == counted
