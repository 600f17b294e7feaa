"""The ticket page shows what the bot looked up in the back office, with which values and
what came back, when a lookup ends in a hand-off."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient, TestServer

from gateway.keys import STORE
from tests.conftest import ADMIN_PASSWORD
from tests.integrations.conftest import Chat
from tests.integrations.fake_backoffice import FakeBackOffice


async def _log_in(client: TestClient) -> None:
    form = await (await client.get("/console/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    response = await client.post("/console/login", data={
        "csrf": csrf.group(1), "username": "admin", "password": ADMIN_PASSWORD})
    assert response.status == 200 and response.url.path == "/console"


async def test_the_ticket_shows_the_failed_lookup(
        chat: Chat, client: TestClient,
        backoffice: tuple[FakeBackOffice, TestServer]) -> None:
    backoffice[0].fail_next = [503, 503, 503]
    await chat.say("where is my order VEL-20481")
    handed = await chat.say("C-1042 9000")
    await _log_in(client)
    page = await (await client.get(f"/console/tickets/{handed['ticket_id']}")).text()
    side = " ".join(page[page.index('id="attempts-title"'):].split()).replace("> <", "><")
    assert "lookup failed: backoffice: HTTP 503" in side
    assert "<code>GET backoffice /customers/{customer_number}/orders/{order_number}</code>" \
        in side
    assert "<dt>order_number</dt><dd>VEL-20481</dd>" in side
    assert "<dt>Result</dt><dd>backoffice: HTTP 503</dd>" in side


async def test_the_ticket_shows_what_came_back_with_personal_fields_masked(
        chat: Chat, client: TestClient,
        backoffice: tuple[FakeBackOffice, TestServer]) -> None:
    """A delayed order is looked up and handed to a person: the operator sees the status
    and the carrier, not the customer's address and phone copied onto the ticket."""
    backoffice[0].orders[("C-1042", "VEL-20481")] = {
        "status": "delayed", "carrier": "bpost", "items": [{"sku": "CITY-M"}],
        "delivery_address": "Veldstraat 1, 9000 Gent", "phone": "+32 470 12 34 56"}
    await chat.say("where is my order VEL-20481")
    handed = await chat.say("C-1042 9000")
    assert handed["ticket_id"] is not None
    await _log_in(client)
    page = await (await client.get(f"/console/tickets/{handed['ticket_id']}")).text()
    side = " ".join(page[page.index('id="attempts-title"'):].split()).replace("> <", "><")
    assert "<li><code>status</code>: delayed</li>" in side
    assert "<li><code>carrier</code>: bpost</li>" in side
    assert "<li><code>items</code>: […]</li>" in side
    assert "<li><code>delivery_address</code>: •••</li>" in side
    assert "<li><code>phone</code>: •••</li>" in side
    assert "Veldstraat" not in page and "470 12 34" not in page
    stored = await client.app[STORE].get_ticket(handed["ticket_id"])
    assert stored is not None and "Veldstraat" not in str(stored.bot_attempts)
