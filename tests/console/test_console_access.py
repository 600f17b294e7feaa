"""Who may see what: agents stay in their queues, every form needs its CSRF token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.keys import STORE

CreateAgent = Callable[[], Awaitable[None]]


async def test_agent_cannot_open_a_ticket_outside_their_queues(
    client: TestClient, login: Login, handoff: Handoff, sales_agent: CreateAgent
) -> None:
    ticket_id = (await handoff(text="I want to talk to a human about my secret order",
                               name="Zelda Secretname"))["ticket_id"]
    await sales_agent()
    csrf = await login("sam", AGENT_PASSWORD)

    listing = await (await client.get("/console")).text()
    assert "Zelda" not in listing and f'data-ticket-id="{ticket_id}"' not in listing

    page = await client.get(f"/console/tickets/{ticket_id}")
    html = await page.text()
    assert page.status == 403
    assert "You do not have access to this ticket." in html
    for secret in ("Zelda", "secret order", "general"):
        assert secret not in html

    store = client.app[STORE]
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None
    before = len(await store.messages(ticket.conversation_id))
    for action, data in (("reply", {"text": "sneaky"}), ("take", {}), ("note", {"text": "x"}),
                         ("close", {"outcome": "answered"}), ("close", {})):
        posted = await client.post(f"/console/tickets/{ticket_id}/{action}",
                                   data={"csrf": csrf, **data})
        assert posted.status == 403, action
        assert "Zelda" not in await posted.text()
    assert len(await store.messages(ticket.conversation_id)) == before
    after = await store.get_ticket(ticket_id)
    assert after == ticket
    assert [e.type for e in await store.events(ticket_id=ticket_id)] == ["ticket.created"]

    socket = await client.get("/console/ws", params={"ticket": str(ticket_id)})
    assert socket.status == 403


async def test_agent_sees_tickets_of_their_queue(client: TestClient, login: Login,
                                                 handoff: Handoff,
                                                 sales_agent: CreateAgent) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await client.app[STORE].update_ticket(ticket_id, "test", "ticket.moved", queue="sales")
    await sales_agent()
    await login("sam", AGENT_PASSWORD)
    assert f'data-ticket-id="{ticket_id}"' in await (await client.get("/console")).text()
    assert (await client.get(f"/console/tickets/{ticket_id}")).status == 200


async def test_forms_without_the_csrf_token_are_refused(client: TestClient, login: Login,
                                                        handoff: Handoff) -> None:
    started = await handoff()
    ticket_id = started["ticket_id"]
    await login()
    for data in ({"text": "no token", "outcome": "answered"},
                 {"text": "bad token", "outcome": "answered", "csrf": "forged"}):
        for action in ("reply", "take", "note", "close"):
            response = await client.post(f"/console/tickets/{ticket_id}/{action}", data=data)
            assert response.status == 403, (action, data)
    logout = await client.post("/console/logout", data={})
    assert logout.status == 403
    store = client.app[STORE]
    messages = await store.messages(started["conversation_id"])
    assert all(m.author != "operator" for m in messages)
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None and ticket.status == "new"


async def test_new_actions_check_access_and_csrf_first(
    client: TestClient, login: Login, handoff: Handoff, sales_agent: CreateAgent
) -> None:
    ticket_id = (await handoff(name="Zelda Secretname"))["ticket_id"]
    other = (await handoff(customer_id="c1"))["ticket_id"]
    store = client.app[STORE]
    before = await store.get_ticket(ticket_id)
    actions = (("transfer", {"queue": "sales", "reason": "mine now"}),
               ("status", {"status": "pending"}), ("merge", {"into": str(other)}))
    await sales_agent()
    csrf = await login("sam", AGENT_PASSWORD)
    for action, data in actions:
        posted = await client.post(f"/console/tickets/{ticket_id}/{action}",
                                   data={"csrf": csrf, **data})
        assert posted.status == 403, action
        assert "Zelda" not in await posted.text()
    assert (await client.get(f"/console/tickets/{ticket_id}/answers")).status == 403
    await login()
    for action, data in actions:
        for token in ({}, {"csrf": "forged"}):
            posted = await client.post(f"/console/tickets/{ticket_id}/{action}",
                                       data={**token, **data})
            assert posted.status == 403, (action, token)
    assert (await client.post("/console/presence", data={"presence": "busy"})).status == 403
    assert await store.get_ticket(ticket_id) == before
