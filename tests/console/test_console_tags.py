"""Tags and macros over HTTP, on SQLite and PostgreSQL: tags added and removed on a ticket
(audited), the list filtered and counted by tag in SQL, and a macro that sets the status,
the priority and tags in one step and hands back its text for the reply box."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login, bulk_tickets

from gateway.config.settings import Settings
from gateway.keys import STORE

MACROS: list[dict[str, Any]] = [{
    "name": "Refund sent", "text": "Hello {customer.name}, the refund of ticket {ticket.id} "
    "left today.", "status": "pending", "priority": "P2", "add_tags": ["Refund"],
    "remove_tags": ["urgent"]}]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url}, console={"macros": MACROS})


def _listed(html: str) -> list[int]:
    start = html.index('id="ticket-list"')
    return [int(n) for n in re.findall(r'<tr data-ticket-id="(\d+)"', html[start:])]


async def test_tags_are_added_removed_audited_and_filter_the_list(
    client: TestClient, login: Login
) -> None:
    backlog = await bulk_tickets(client.app[STORE], 60, "tagged")
    csrf = await login()
    for ticket_id in backlog[:55]:
        response = await client.post(f"/console/tickets/{ticket_id}/tags", data={
            "csrf": csrf, "add": "refund, Urgent refund"}, allow_redirects=False)
        assert response.status == 303
    page = await (await client.get(f"/console/tickets/{backlog[0]}")).text()
    assert re.search(r'<span class="tag">refund<', page) and "Remove tag urgent" in page
    removed = await client.post(f"/console/tickets/{backlog[0]}/tags", data={
        "csrf": csrf, "remove": "urgent"})
    page = await removed.text()
    assert "Tags changed." in page and "Remove tag urgent" not in page
    audit = page[page.index('id="audit"'):]
    assert "added: refund, urgent" in audit and "removed: urgent" in audit
    bad = await client.post(f"/console/tickets/{backlog[1]}/tags", data={
        "csrf": csrf, "add": "<b>"})
    assert bad.status == 400

    # Filtered and counted in SQL over every ticket, paged like any list.
    listed = await (await client.get("/console", params={"tag": "refund"})).text()
    assert "55 tickets match the filters" in listed
    assert _listed(listed) == sorted(backlog[:55], reverse=True)[:50]
    assert '<option value="urgent"' in listed
    urgent = await (await client.get("/console", params={"tag": "urgent"})).text()
    assert "54 tickets match" in urgent and backlog[0] not in _listed(urgent)
    assert (await client.get("/console", params={"tag": "never-used"})).status == 400


async def test_a_macro_sets_status_priority_and_tags_and_returns_its_text(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    ticket_id = (await handoff(name="Ann"))["ticket_id"]
    csrf = await login()
    await client.post(f"/console/tickets/{ticket_id}/take", data={"csrf": csrf})
    await client.post(f"/console/tickets/{ticket_id}/tags", data={"csrf": csrf,
                                                                  "add": "urgent"})
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'data-macro="Refund sent"' in page
    applied = await client.post(f"/console/tickets/{ticket_id}/macro", data={
        "csrf": csrf, "macro": "Refund sent"})
    assert applied.status == 200
    body = await applied.json()
    assert body["text"] == f"Hello Ann, the refund of ticket {ticket_id} left today."
    assert body["applied"] == ["status → pending", "priority → P2", "tag + refund",
                               "tag − urgent", "inserts a text"]
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None and (ticket.status, ticket.priority) == ("pending", "P2")
    assert (await client.app[STORE].tags_of([ticket_id]))[ticket_id] == ["refund"]
    # Nothing was sent to the customer but the status notice of "pending".
    texts = [m.text for m in await client.app[STORE].messages(ticket.conversation_id)
             if m.author == "operator"]
    assert texts == []
    unknown = await client.post(f"/console/tickets/{ticket_id}/macro", data={
        "csrf": csrf, "macro": "Nope"})
    assert unknown.status == 400
    forged = await client.post(f"/console/tickets/{ticket_id}/macro", data={
        "csrf": "wrong", "macro": "Refund sent"})
    assert forged.status == 403
