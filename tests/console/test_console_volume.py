"""The console at volume: lists, counts and SLA alerts over every ticket, not a capped batch.

Each test runs on SQLite and on PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Login, backdate, bulk_tickets

from gateway.config.settings import Settings
from gateway.keys import HUB, SETTINGS, STORE
from gateway.models import Operator
from gateway.sla.watcher import SlaWatcher

MakeOperator = Callable[..., Awaitable[Operator]]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    # The tests drive the watcher themselves (at chosen moments): its own loop stays asleep.
    return make_settings(database={"url": database_url}, sla={"check_interval": 3600})


def _listed(html: str) -> list[int]:
    start = html.index('id="ticket-list"')
    return [int(n) for n in re.findall(r'<tr data-ticket-id="(\d+)"', html[start:])]


def _alerts(html: str) -> list[tuple[str, int]]:
    start = html.index('id="alerts"')
    region = html[start:html.index("</div>", start)]
    return [(kind, int(n)) for kind, n in
            re.findall(r'class="alert sla-(\w+)" data-ticket-id="(\d+)"', region)]


async def test_breached_tickets_beyond_the_200_newest_are_listed_counted_and_paged(
    client: TestClient, login: Login
) -> None:
    store = client.app[STORE]
    tickets = await bulk_tickets(store, 230, "vol")
    old = tickets[:3]
    await backdate(store, old, timedelta(days=30))
    await login()

    html = await (await client.get("/console")).text()
    assert "230 open tickets" in html and "showing 1–50" in html
    first = _listed(html)
    assert first == sorted(tickets, reverse=True)[:50]
    # The views, with true counts, in the navigation; the one shown is marked.
    nav = html[html.index('id="views"'):html.index("</nav>", html.index('id="views"'))]
    counts = dict(re.findall(r'>([A-Z][a-z ]+) <span class="count-badge">([\d,]+)<', nav))
    assert counts == {"My tickets": "0", "Unassigned": "230", "Due soon": "0",
                      "Breached": "3", "Pending": "0", "Recently solved": "0",
                      "All open": "230"}
    assert 'href="/console" aria-current="page">All open' in nav

    breached = await (await client.get("/console", params={"sla": "breached",
                                                            "sort": "due"})).text()
    assert sorted(_listed(breached)) == old
    assert 'aria-current="page">Breached' in breached
    assert "3 tickets match the filters" in breached
    assert "0 tickets" in await (await client.get("/console", params={
        "sla": "breached", "queue": "sales"})).text()
    assert "227 tickets match" in await (await client.get("/console", params={"sla": "ok"})).text()

    # The soonest due first: the breached ones lead, whatever their number.
    due = _listed(await (await client.get("/console", params={"sort": "due"})).text())
    assert sorted(due[:3]) == old
    oldest = _listed(await (await client.get("/console", params={"sort": "waiting"})).text())
    assert sorted(oldest[:3]) == old

    # Every ticket is on exactly one page; the last page is the remainder.
    seen: list[int] = []
    for number in range(1, 6):
        page = await (await client.get("/console", params={"page": str(number)})).text()
        seen += _listed(page)
        assert f"Page {number} of 5" in page
    assert sorted(seen) == tickets
    last = await (await client.get("/console", params={"page": "5"})).text()
    assert "showing 201–230" in last and 'rel="prev"' in last and 'rel="next"' not in last
    assert (await client.get("/console", params={"page": "0"})).status == 400
    assert (await client.get("/console", params={"sort": "random"})).status == 400


async def test_an_agent_sees_her_own_alarms_behind_everyone_elses_breaches_first(
    client: TestClient, login: Login, make_operator: MakeOperator
) -> None:
    store, settings = client.app[STORE], client.app[SETTINGS]
    watcher = SlaWatcher(store, client.app[HUB], settings.sla, settings.calendar.for_queue)
    calendar = settings.calendar.for_queue("general")
    gina = await make_operator("gina", queues=["general"])
    other = await make_operator("olga", queues=["general"])

    async def alarm(count: int, prefix: str, assignee: Operator, minutes: int) -> list[int]:
        """`count` tickets of `assignee` whose SLA is `minutes` of business time in."""
        ids = await bulk_tickets(store, count, prefix)
        for ticket_id in ids:
            await store.update_ticket(ticket_id, "test", "ticket.assigned",
                                      assignee_id=assignee.id)
        ticket = await store.get_ticket(ids[0])
        assert ticket is not None
        await watcher.run_once(calendar.add_business_time(ticket.created_at,
                                                          timedelta(minutes=minutes)))
        return ids

    breached = await alarm(2, "late", gina, 60 * 24 * 30)
    warned = await alarm(6, "soon", gina, 210)
    # Then a wave of other people's alarms, all newer than hers.
    await alarm(205, "wave", other, 210)

    await login("gina", AGENT_PASSWORD)
    html = await (await client.get("/console")).text()
    shown = _alerts(html)
    assert [kind for kind, _ in shown] == ["breached"] * 2 + ["warning"] * 6
    assert sorted(n for _, n in shown[:2]) == breached
    assert sorted(n for _, n in shown[2:]) == warned

    # Her supervisor sees the queue's alarms: ten of them, breaches first, and the count.
    await make_operator("sue", role="supervisor", queues=["general"])
    await login("sue", AGENT_PASSWORD)
    page = await (await client.get(f"/console/tickets/{warned[0]}")).text()
    shown = _alerts(page)
    assert len(shown) == 10 and [n for _, n in shown[:2]] == sorted(breached, reverse=True)
    assert "and 203 more tickets in alarm." in page


async def test_the_customer_card_of_a_busy_customer_is_paged_and_scoped(
    client: TestClient, login: Login, make_operator: MakeOperator
) -> None:
    store = client.app[STORE]
    general = await bulk_tickets(store, 45, "busy", email="busy@example.be")
    sales = await bulk_tickets(store, 3, "busy-sales", queue="sales", email="busy@example.be")
    current = general[-1]
    await login()
    page = await (await client.get(f"/console/tickets/{current}")).text()
    card = page[page.index('id="history"'):]
    card = card[:card.index("</nav>")]
    listed = [int(n) for n in re.findall(r'href="/console/tickets/(\d+)"', card)]
    assert listed == sorted(general[:-1] + sales, reverse=True)[:20]
    assert "Other tickets (47)" in page and "The latest 20 of 48 conversations." in page
    last = await (await client.get(f"/console/tickets/{current}", params={"history": "3"})).text()
    card = last[last.index('id="history"'):last.index("</nav>", last.index('id="history"'))]
    assert [int(n) for n in re.findall(r'href="/console/tickets/(\d+)"', card)] == \
        sorted(general[:-1] + sales, reverse=True)[40:]
    assert (await client.get(f"/console/tickets/{current}", params={"history": "x"})).status \
        == 400

    await make_operator("gina", queues=["general"])
    await login("gina", AGENT_PASSWORD)
    mine = await (await client.get(f"/console/tickets/{current}")).text()
    assert "Other tickets (44)" in mine
    assert not any(f'href="/console/tickets/{n}"' in mine for n in sales)
