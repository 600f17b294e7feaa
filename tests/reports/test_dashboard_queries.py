"""The dashboards' aggregates (gateway/reports/dashboards.py) on known data, on SQLite and
PostgreSQL alike: counts per day and per channel, containment, medians and p90s (SQLite's
window-function quantiles must give what PostgreSQL's percentile_cont gives), SLA
compliance, the backlog walked back from today, and per-operator figures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from gateway.calendar import WEEKDAYS, BusinessCalendar
from gateway.reports import dashboards
from gateway.reports.period import Period, PeriodError, parse_period
from gateway.sla import durations, outcomes
from gateway.store import Store, codec, store_for

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
PERIOD = Period(date(2026, 11, 1), date(2026, 11, 3))


def at(minutes: float) -> str:
    return codec.ts(START + timedelta(minutes=minutes))


#: ticket: (queue, priority, channel, language, status, created, replies, resolutions)
#: replies/resolutions: (minutes after START, actor, event type)
TICKETS: dict[int, tuple[Any, ...]] = {
    1: ("general", "P2", "api", "en", "closed", 0,
        [(10, "gina")], [(60, "gina", "ticket.solved"), (120, "gina", "ticket.closed")]),
    2: ("general", "P2", "api", "fr", "closed", 60,
        [(80, "gina")], [(300, "gina", "ticket.closed")]),
    3: ("general", "P3", "api", "en", "open", 1560, [(1590, "sam")], []),
    4: ("sales", "P1", "webchat", "en", "closed", 1620,
        [(1660, "sam"), (1670, "sam")], [(1720, "sam", "ticket.closed")]),
    5: ("sales", "P1", "email", "fr", "new", 3120, [], []),
}


async def _insert(store: Store, table: str, **values: Any) -> None:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    await store.db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *values.values())


async def _seed(store: Store) -> None:
    await store.create_operator("gina", "Gina G", "x", role="agent", queues=["general"])
    await store.create_operator("sam", "Sam S", "x", role="agent", queues=["sales"])
    await _insert(store, "customers", id=1, name="Ann", created_at=at(0))
    for tid, (queue, prio, channel, lang, status, created, replies, ends) in TICKETS.items():
        await _insert(store, "conversations", id=tid, customer_id=1, channel=channel,
                      address=f"a{tid}", language=lang, created_at=at(created),
                      updated_at=at(created))
        await _insert(store, "tickets", id=tid, conversation_id=tid, customer_id=1,
                      status=status, priority=prio, queue=queue, subject="s", language=lang,
                      created_at=at(created), updated_at=at(created))
        for minutes, actor in replies:
            await store.db.execute("INSERT INTO events (ticket_id, actor, type, data, created_at)"
                                   " VALUES (?, ?, 'ticket.replied', '{}', ?)",
                                   tid, actor, at(minutes))
        for minutes, actor, kind in ends:
            await store.db.execute("INSERT INTO events (ticket_id, actor, type, data, created_at)"
                                   " VALUES (?, ?, ?, '{}', ?)", tid, actor, kind, at(minutes))
    # SLA timers: 2 breached its first response, 3 is past its breach moment already
    far = codec.ts(datetime(2030, 1, 1, tzinfo=UTC))
    for tid, breached, breach_at in ((1, 0, None), (2, 1, None), (3, 0, at(1600)), (4, 0, far)):
        await _insert(store, "sla_timers", ticket_id=tid, priority=TICKETS[tid][1],
                      first_response_due=far, resolution_due=far, next_check_at=far,
                      ticket_updated_at=far, first_response_breached=breached,
                      breach_at=breach_at, computed_at=far)
    # bot answers: conversation 1 gets x then y then a hand-off; conversation 2 gets x (fr)
    for conversation, kind, article, lang, minutes in (
            (1, "answer", "x", "en", 1), (1, "answer", "y", "en", 2), (1, "handoff", None, None, 3),
            (2, "answer", "x", "fr", 61)):
        await _insert(store, "messages", conversation_id=conversation, channel="api",
                      direction="outbound", author="bot", text="t", kind=kind,
                      meta=json.dumps({"article_id": article, "language": lang}),
                      handled=1, created_at=at(minutes))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = store_for(database_url)
    await store.open()
    await _seed(store)
    yield store
    await store.close()


async def test_volume_counts_tickets_per_day_and_by_channel_language_category(
        store: Store) -> None:
    by_day, channel, language, category = await dashboards.volume(store.db, PERIOD)
    assert by_day.rows == [("2026-11-01", 2), ("2026-11-02", 2), ("2026-11-03", 1)]
    assert channel.rows == [("api", 3), ("email", 1), ("webchat", 1)]
    assert language.rows == [("en", 3), ("fr", 2)]
    assert category.rows == [("(not known yet)", 5)]
    sales = await dashboards.volume(store.db, Period(PERIOD.start, PERIOD.end, "sales"))
    assert sales[0].rows == [("2026-11-01", 0), ("2026-11-02", 1), ("2026-11-03", 1)]


async def test_an_answer_followed_by_a_handoff_is_not_contained(store: Store) -> None:
    assert await outcomes.sweep(store, batch=2) == 4
    table = await dashboards.containment(store.db, PERIOD)
    assert sorted(table.rows) == [("x", "en", 1, 1, 100.0), ("x", "fr", 1, 1, 100.0),
                                  ("y", "en", 1, 0, 0.0)]
    assert await outcomes.sweep(store) == 0  # nothing stored twice


async def test_a_handoff_stored_after_its_answer_takes_the_containment_back(
        store: Store) -> None:
    await outcomes.sweep(store)
    await _insert(store, "messages", conversation_id=2, channel="api", direction="outbound",
                  author="bot", text="t", kind="handoff", meta=json.dumps({}), handled=1,
                  created_at=at(62))
    assert await outcomes.sweep(store) == 1
    table = await dashboards.containment(store.db, PERIOD)
    assert sorted(table.rows) == [("x", "en", 1, 1, 100.0), ("x", "fr", 1, 0, 0.0),
                                  ("y", "en", 1, 0, 0.0)]


async def test_medians_and_p90_interpolate_like_percentile_cont(store: Store) -> None:
    # business hours around the clock, so the business minutes are the wall-clock ones
    always = BusinessCalendar({day: ["00:00-24:00"] for day in WEEKDAYS},
                              public_holidays=None)
    # 4 tickets given their durations, and the 3 closings theirs
    assert await durations.sweep(store, lambda queue: always, batch=2) == 7
    table = await dashboards.timings(store.db, PERIOD)
    rows = {row[0]: row[1:] for row in table.rows}
    # first responses: general 10, 20, 30; sales 40. Resolutions: general 60, 240; sales 100
    assert rows["general"] == (3, 20.0, 28.0, 2, 150.0, 222.0)
    assert rows["sales"] == (1, 40.0, 40.0, 1, 100.0, 100.0)
    assert rows[dashboards.ALL] == (4, 25.0, 37.0, 3, 100.0, 212.0)
    assert [row[0] for row in table.rows] == ["general", "sales", dashboards.ALL]


async def test_sla_compliance_counts_flags_and_passed_breach_moments(store: Store) -> None:
    table = await dashboards.sla(store.db, PERIOD)
    assert table.rows == [("general", "P2", 2, 1, 50.0, 1, 0), ("general", "P3", 1, 0, 0.0, 0, 0),
                          ("sales", "P1", 1, 1, 100.0, 0, 0)]


async def test_backlog_is_walked_back_from_the_open_tickets_of_today(store: Store) -> None:
    table = await dashboards.backlog(store.db, PERIOD)
    assert table.rows == [("2026-11-01", 0), ("2026-11-02", 1), ("2026-11-03", 2)]
    earlier = await dashboards.backlog(store.db, Period(date(2026, 10, 31), date(2026, 11, 1)))
    assert earlier.rows == [("2026-10-31", 0), ("2026-11-01", 0)]
    sales = await dashboards.backlog(store.db, Period(PERIOD.start, PERIOD.end, "sales"))
    assert sales.rows == [("2026-11-01", 0), ("2026-11-02", 0), ("2026-11-03", 1)]


async def test_operators_replies_closings_and_their_times(store: Store) -> None:
    always = BusinessCalendar({day: ["00:00-24:00"] for day in WEEKDAYS},
                              public_holidays=None)
    await durations.sweep(store, lambda queue: always)
    table = await dashboards.operators(store.db, PERIOD)
    assert table.rows == [("gina", "Gina G", 2, 2, 2, 180.0, 228.0),
                          ("sam", "Sam S", 3, 2, 1, 100.0, 100.0)]
    sales = await dashboards.operators(store.db, Period(PERIOD.start, PERIOD.end, "sales"))
    assert sales.rows == [("sam", "Sam S", 2, 1, 1, 100.0, 100.0)]


def test_a_period_is_checked_before_any_query() -> None:
    today = date(2026, 12, 2)
    assert parse_period(None, None, None, ["general"], today) == Period(
        date(2026, 11, 3), today)
    for start, end, queue in (("2026-13-01", None, None), ("2026-12-02", "2026-12-01", None),
                              ("2025-01-01", "2026-12-01", None), (None, None, "nope")):
        with pytest.raises(PeriodError):
            parse_period(start, end, queue, ["general"], today)
