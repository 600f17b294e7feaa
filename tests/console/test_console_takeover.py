"""Taking a ticket a colleague owns asks first and tells the colleague (issue 16)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.keys import STORE
from gateway.models import Operator

MakeOperator = Callable[..., Awaitable[Operator]]


async def test_taking_a_colleagues_ticket_asks_first_and_tells_them(
    client: TestClient, login: Login, handoff: Handoff, make_operator: MakeOperator
) -> None:
    store = client.app[STORE]
    ticket_id = (await handoff())["ticket_id"]
    gina = await make_operator("gina", queues=["general"])
    bob = await make_operator("bob", queues=["general"])

    csrf = await login("gina", AGENT_PASSWORD)
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'name="confirm"' not in page  # nobody owns it: nothing to confirm
    taken = await client.post(f"/console/tickets/{ticket_id}/take", data={"csrf": csrf})
    assert taken.status == 200
    assert (await store.get_ticket(ticket_id)).assignee_id == gina.id  # type: ignore[union-attr]

    csrf = await login("bob", AGENT_PASSWORD)
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'name="confirm" value="1" required' in page
    assert "Take it over from gina" in page or "Take it over from Gina" in page
    refused = await client.post(f"/console/tickets/{ticket_id}/take", data={"csrf": csrf})
    assert refused.status == 409
    assert "tick the box beside Take" in await refused.text()
    assert (await store.get_ticket(ticket_id)).assignee_id == gina.id  # type: ignore[union-attr]
    confirmed = await client.post(f"/console/tickets/{ticket_id}/take",
                                  data={"csrf": csrf, "confirm": "1"})
    assert confirmed.status == 200
    assert (await store.get_ticket(ticket_id)).assignee_id == bob.id  # type: ignore[union-attr]

    await login("gina", AGENT_PASSWORD)
    notices = await (await client.get("/console/notifications")).text()
    assert "Taken over by a colleague" in notices and f"#{ticket_id}" in notices
