"""The console's own SQL (filters, SLA timers, alerts, presence) on PostgreSQL too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login, csrf_of

from gateway.config.settings import Settings
from gateway.keys import HUB, SETTINGS, STORE
from gateway.models import Operator
from gateway.sla.watcher import SlaWatcher

pytestmark = pytest.mark.postgres


@pytest.fixture
def settings(make_settings: Callable[..., Settings], pg_url: str) -> Settings:
    return make_settings(database={"url": pg_url})


async def test_console_pages_on_postgresql(
    client: TestClient, login: Login, handoff: Handoff,
    make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    store, settings = client.app[STORE], client.app[SETTINGS]
    ticket_id = (await handoff(language="en"))["ticket_id"]
    await make_operator("sue", role="supervisor", queues=["general"])
    csrf = await login()
    page = await (await client.get("/console", params={
        "queue": "general", "status": "new", "priority": "P3", "language": "en",
        "assignee": "none", "sla": "ok"})).text()
    assert f'data-ticket-id="{ticket_id}"' in page
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None
    watcher = SlaWatcher(store, client.app[HUB], settings.sla, settings.calendar.for_queue)
    await watcher.run_once(ticket.created_at + timedelta(days=60))
    html = await (await client.get("/console", params={"sla": "breached"})).text()
    assert f'data-ticket-id="{ticket_id}"' in html and "SLA breached" in html
    await client.post("/console/presence", data={"csrf": csrf, "presence": "available"})
    admin = await (await client.get("/console/admin")).text()
    assert 'presence-available">available<' in admin
    ticket_page = await client.get(f"/console/tickets/{ticket_id}")
    assert ticket_page.status == 200
    csrf = csrf_of(await ticket_page.text())
    moved = await client.post(f"/console/tickets/{ticket_id}/transfer",
                              data={"csrf": csrf, "queue": "sales", "reason": "pg"})
    assert "queue: general → sales" in await moved.text()
    closed = await client.post(f"/console/tickets/{ticket_id}/close", data={
        "csrf": csrf, "outcome": "forwarded", "summary": "to sales"})
    assert closed.status == 200
    today = ticket.created_at.date().isoformat()
    report = await client.get("/console/reports/contacts.csv", params={"to": today})
    lines = (await report.read()).decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{ticket_id},")
    assert lines[1].endswith(",2")  # both SLA clocks breached
