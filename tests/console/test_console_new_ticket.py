"""Operators open tickets for phone and counter contacts, and correct priority and subject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.keys import STORE


async def test_an_operator_opens_a_ticket_for_a_phone_call(client: TestClient,
                                                          login: Login) -> None:
    csrf = await login()
    form = await client.get("/console/tickets/new")
    assert form.status == 200 and 'name="subject"' in await form.text()
    response = await client.post("/console/tickets/new", data={
        "csrf": csrf, "name": "Chloé Dubois", "email": "chloe@example.be",
        "subject": "Test ride on Saturday", "text": "<b>Can I</b> test the cargo bike?",
        "queue": "sales", "priority": "P2"})
    assert response.status == 200
    page = await response.text()
    assert "Ticket opened; it is yours." in page
    assert "&lt;b&gt;Can I&lt;/b&gt; test the cargo bike?" in page
    ticket_id = int(response.url.path.rsplit("/", 1)[1])
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None
    assert (ticket.queue, ticket.priority, ticket.status) == ("sales", "P2", "open")


async def test_missing_fields_keep_what_was_typed(client: TestClient, login: Login) -> None:
    csrf = await login()
    response = await client.post("/console/tickets/new", data={
        "csrf": csrf, "name": "Max", "subject": "", "text": "Where is my invoice?",
        "queue": "billing", "priority": "P3"})
    assert response.status == 400
    page = await response.text()
    assert "needs a subject" in page and "Where is my invoice?" in page
    assert await client.app[STORE].tickets(("open",)) == []


async def test_an_agent_cannot_open_a_ticket_in_another_queue(
        client: TestClient, login: Login,
        sales_agent: Callable[[], Awaitable[None]]) -> None:
    await sales_agent()
    csrf = await login("sam", AGENT_PASSWORD)
    page = await (await client.get("/console/tickets/new")).text()
    assert '<option value="sales"' in page and '<option value="general"' not in page
    response = await client.post("/console/tickets/new", data={
        "csrf": csrf, "name": "X", "subject": "s", "text": "t", "queue": "general",
        "priority": "P3"})
    assert response.status == 403
    assert await client.app[STORE].tickets(("open",)) == []


async def test_priority_and_subject_are_corrected_from_the_ticket_page(
        client: TestClient, login: Login, handoff: Handoff) -> None:
    ticket_id = (await handoff())["ticket_id"]
    csrf = await login()
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert f'action="/console/tickets/{ticket_id}/fields"' in page
    response = await client.post(f"/console/tickets/{ticket_id}/fields", data={
        "csrf": csrf, "priority": "P1", "subject": "Bike stolen"})
    assert response.status == 200 and "Ticket updated." in await response.text()
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None and (ticket.priority, ticket.subject) == ("P1", "Bike stolen")
    refused = await client.post(f"/console/tickets/{ticket_id}/fields", data={
        "csrf": csrf, "priority": "P7"})
    assert refused.status == 409
    # the purpose of the contact, when the bot's guess was wrong (or it had none)
    assert '<label for="fields-category">Purpose of the contact</label>' in page
    await client.post(f"/console/tickets/{ticket_id}/fields", data={
        "csrf": csrf, "subject": "Bike stolen", "category": "complaint"})
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None and ticket.category == "complaint"
    trail = [e.data for e in await client.app[STORE].events(ticket_id=ticket_id)]
    assert {"category": {"from": None, "to": "complaint"}} in trail
    wrong = await client.post(f"/console/tickets/{ticket_id}/fields", data={
        "csrf": csrf, "category": "gossip"})
    assert wrong.status == 409 and "category must be one of" in await wrong.text()
