"""Bulk actions over HTTP, on SQLite and PostgreSQL: the ticked tickets are changed one by
one through the ticket service (each audited), a ticket outside the operator's queues is
skipped and named, and the form needs its CSRF token like every other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Login, bulk_tickets, csrf_of

from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.models import Operator


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


async def test_bulk_actions_change_each_ticked_ticket_and_skip_others_queues(
    client: TestClient, login: Login, make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    store = client.app[STORE]
    general = await bulk_tickets(store, 4, "bulk")
    sales = await bulk_tickets(store, 1, "other", queue="sales")
    await make_operator("gina", role="agent", queues=["general"])
    await make_operator("sam", role="agent", queues=["general", "sales"])
    await login("gina", AGENT_PASSWORD)
    page = await (await client.get("/console")).text()
    csrf = csrf_of(page)
    assert 'form="bulk"' in page and f'name="ticket" value="{general[0]}"' in page

    async def bulk(**form: object) -> str:
        data = [("csrf", csrf), ("next", "/console?sort=due&done=bulk&changed=9")]
        data += [("ticket", str(t)) for t in form.pop("tickets")]  # type: ignore[attr-defined]
        data += [(k, str(v)) for k, v in form.items()]
        response = await client.post("/console/bulk", data=data)
        assert response.status == 200, await response.text()
        assert response.url.query.get("sort") == "due"
        return await response.text()

    done = await bulk(tickets=[*general[:3], sales[0]], action="priority", priority="P1")
    assert f"3 tickets changed. Not changed: #{sales[0]}" in done
    for ticket_id in general[:3]:
        ticket = await store.get_ticket(ticket_id)
        assert ticket is not None and ticket.priority == "P1"
        assert [e.type for e in await store.events(ticket_id=ticket_id)][-1] == "ticket.updated"
    other = await store.get_ticket(sales[0])
    assert other is not None and other.priority == "P3"

    await bulk(tickets=general[:2], action="tag", tags="refund urgent")
    assert (await store.tags_of(general[:2])) == {general[0]: ["refund", "urgent"],
                                                  general[1]: ["refund", "urgent"]}
    assert "2 tickets changed." in await bulk(tickets=general[:2], action="assign",
                                               assignee="sam")
    assigned = await store.get_ticket(general[0])
    sam = await store.operator_by_username("sam")
    assert assigned is not None and sam is not None and assigned.assignee_id == sam.id
    trail = await store.events(ticket_id=general[0])
    assert trail[-1].type == "ticket.transferred" and trail[-1].data["reason"] == \
        "assigned in bulk"
    await bulk(tickets=[general[3]], action="transfer", queue="sales", reason="quote")
    moved = await store.get_ticket(general[3])
    assert moved is not None and moved.queue == "sales"
    closed = await bulk(tickets=general[:3], action="close", outcome="answered")
    assert "3 tickets changed." in closed
    again = await bulk(tickets=general[:1], action="close", outcome="answered")
    assert f"0 tickets changed. Not changed: #{general[0]}" in again

    refused = await client.post("/console/bulk", data={"ticket": str(general[0]),
                                                       "action": "priority", "priority": "P2"})
    assert refused.status == 403
    empty = await client.post("/console/bulk", data={"csrf": csrf, "action": "priority"})
    assert empty.status == 400
