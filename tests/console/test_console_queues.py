"""Queue views: filters, the SLA columns, SLA alerts and knowledge-base errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.keys import HUB, SETTINGS, STORE
from gateway.models import Operator
from gateway.sla.watcher import SlaWatcher

MakeOperator = Callable[..., Awaitable[Operator]]


def _listed(html: str) -> set[int]:
    start = html.index('id="ticket-list"')
    return {int(n) for n in re.findall(r'data-ticket-id="(\d+)"', html[start:])}


def _row(html: str, ticket_id: int) -> str:
    start = html.index(f'<tr data-ticket-id="{ticket_id}"')
    return html[start:html.index("</tr>", start)]


async def test_filters_by_queue_status_priority_language_and_assignee(
    client: TestClient, login: Login, handoff: Handoff, make_operator: MakeOperator
) -> None:
    store = client.app[STORE]
    general = (await handoff(customer_id="c1"))["ticket_id"]
    french = (await handoff(text="Je veux parler à un humain", customer_id="c2",
                            language="fr"))["ticket_id"]
    urgent = (await handoff(text="URGENT I want to talk to a human", customer_id="c3"))[
        "ticket_id"]
    sales = (await handoff(customer_id="c4"))["ticket_id"]
    await store.update_ticket(sales, "test", "ticket.moved", queue="sales")
    gina = await make_operator("gina", queues=["general", "sales"])
    await store.update_ticket(urgent, "test", "ticket.assigned", assignee_id=gina.id,
                              priority="P2")
    csrf = await login("gina", AGENT_PASSWORD)
    await client.post(f"/console/tickets/{general}/status",
                      data={"csrf": csrf, "status": "pending"})

    page = await (await client.get("/console")).text()
    assert _listed(page) == {general, french, urgent, sales}
    assert 'role="search"' in page and "<legend>Filter</legend>" in page
    for name in ("queue", "status", "priority", "language", "sla", "assignee"):
        assert f'<label for="f-{name}">' in page
    for query, expected in (
        ({"queue": "sales"}, {sales}),
        ({"queue": "general"}, {general, french, urgent}),
        ({"status": "pending"}, {general}),
        ({"status": "new", "queue": "general"}, {french, urgent}),
        ({"priority": "P2"}, {urgent}),
        ({"language": "fr"}, {french}),
        ({"assignee": "me"}, {urgent}),
        ({"assignee": "none"}, {general, french, sales}),
        ({"assignee": "me", "priority": "P3"}, set()),
    ):
        html = await (await client.get("/console", params=query)).text()
        assert _listed(html) == expected, query
        # "1 ticket matches the filters", "2 tickets match the filters" (ngettext)
        count = "ticket matches" if len(expected) == 1 else "tickets match"
        assert f"{len(expected)} {count} the filters" in html
        for value in query.values():  # the form shows what is applied
            assert f'<option value="{value}" selected>' in html
    nothing = await (await client.get("/console", params={"priority": "P4"})).text()
    assert "No ticket matches these filters." in nothing

    # An agent cannot ask for a queue that is not theirs, nor for made-up values.
    for query in ({"queue": "billing"}, {"status": "closed"}, {"sla": "late"},
                  {"assignee": "bob"}):
        assert (await client.get("/console", params=query)).status == 400, query


async def test_sla_columns_alerts_and_the_sla_filter(
    client: TestClient, login: Login, handoff: Handoff, make_operator: MakeOperator
) -> None:
    store, settings = client.app[STORE], client.app[SETTINGS]
    late = (await handoff(customer_id="c1"))["ticket_id"]
    fresh = (await handoff(customer_id="c2"))["ticket_id"]
    gina = await make_operator("gina", queues=["general"])
    await make_operator("sue", role="supervisor", queues=["general"])
    await make_operator("stan", role="supervisor", queues=["sales"])
    await store.update_ticket(late, "test", "ticket.assigned", assignee_id=gina.id)
    await store.update_ticket(fresh, "test", "ticket.moved", queue="sales")

    await login()
    page = await (await client.get("/console")).text()
    row = _row(page, late)
    assert '<span class="badge sla-ok">ok</span>' in row and "(first response)" in row

    # The watcher runs when 3.5 of the 4 business hours of first response are used.
    ticket = await store.get_ticket(late)
    assert ticket is not None
    calendar = settings.calendar.for_queue("general")
    watcher = SlaWatcher(store, client.app[HUB], settings.sla, settings.calendar.for_queue)
    warned = await watcher.run_once(calendar.add_business_time(ticket.created_at,
                                                               timedelta(minutes=210)))
    assert {(n["type"], n["ticket_id"]) for n in warned} == {("sla.warning", late),
                                                             ("sla.warning", fresh)}

    for who in ("sue", "gina"):  # the queue's supervisor and the assignee
        await login(who, AGENT_PASSWORD)
        html = await (await client.get("/console")).text()
        alerts = html[html.index('id="alerts"'):html.index("</div>", html.index('id="alerts"'))]
        assert 'aria-live="polite"' in alerts
        assert "SLA warning" in alerts and f'href="/console/tickets/{late}"' in alerts, who
        assert "first response is due" in alerts
        assert f'href="/console/tickets/{fresh}"' not in alerts
    await login("stan", AGENT_PASSWORD)  # supervises the other queue
    html = await (await client.get("/console")).text()
    assert f'href="/console/tickets/{fresh}"' in html[:html.index('id="ticket-list"')]
    assert f'href="/console/tickets/{late}"' not in html[:html.index('id="ticket-list"')]

    await login()
    await watcher.run_once(ticket.created_at + timedelta(days=60))
    await login("sue", AGENT_PASSWORD)
    html = await (await client.get("/console")).text()
    assert "SLA breached" in html
    row = _row(html, late)
    assert 'class="sla-row-breached"' in row and "⛔ breached" in row
    assert _listed(await (await client.get("/console", params={"sla": "breached"})).text()) \
        == {late, fresh}
    assert _listed(await (await client.get("/console", params={"sla": "ok"})).text()) == set()
    ticket_page = await (await client.get(f"/console/tickets/{late}")).text()
    assert "SLA breached" in ticket_page  # on every page, and in the audit trail

    # Once the ticket is closed the alert goes away.
    csrf = await login("sue", AGENT_PASSWORD)
    await client.post(f"/console/tickets/{late}/close", data={"csrf": csrf,
                                                             "outcome": "answered"})
    html = await (await client.get("/console")).text()
    assert f'href="/console/tickets/{late}"' not in html[html.index('id="alerts"'):
                                                          html.index('id="ticket-list"')]
