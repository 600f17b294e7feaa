"""A reply sent on a stale page (a colleague replied since it loaded) is not sent: the page
comes back with the colleague's reply above the kept draft; sent again, it goes. On SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login, csrf_of

from gateway.config.settings import Settings
from gateway.keys import STORE, TICKETS
from gateway.models import Operator


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


async def test_a_reply_on_a_stale_page_is_held_back_with_the_colleagues_reply_shown(
    client: TestClient, login: Login, handoff: Handoff,
    make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await login()
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    csrf = csrf_of(page)
    seen = page.split('name="seen" value="', 1)[1].split('"', 1)[0]
    gina = await make_operator("gina", role="agent", queues=["general"])
    await client.app[TICKETS].reply(gina, ticket_id, "Gina here: it ships *today*")

    stale = await client.post(f"/console/tickets/{ticket_id}/reply", data={
        "csrf": csrf, "text": "Admin's answer", "seen": seen}, allow_redirects=False)
    assert stale.status == 409
    html = await stale.text()
    assert "Gina replied since you opened this ticket." in html
    assert "Gina here: it ships *today*" in html  # customer-facing text, shown as text
    assert ">Admin&#39;s answer</textarea>" in html
    store = client.app[STORE]
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None
    texts = [m.text for m in await store.messages(ticket.conversation_id)]
    assert "Admin's answer" not in texts

    fresh = html.split('name="seen" value="', 1)[1].split('"', 1)[0]
    assert int(fresh) > int(seen)
    sent = await client.post(f"/console/tickets/{ticket_id}/reply", data={
        "csrf": csrf, "text": "Admin's answer", "seen": fresh}, allow_redirects=False)
    assert sent.status == 303
    # The operator's own replies since never hold them back.
    again = await client.post(f"/console/tickets/{ticket_id}/reply", data={
        "csrf": csrf, "text": "One more thing", "seen": fresh}, allow_redirects=False)
    assert again.status == 303
    texts = [m.text for m in await store.messages(ticket.conversation_id)]
    assert texts[-2:] == ["Admin's answer", "One more thing"]
