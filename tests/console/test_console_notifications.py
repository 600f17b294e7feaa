"""Operators' notifications over HTTP: a mention in a note tells the colleague named (and
nobody else, and nobody who may not open the ticket), a transfer tells the new assignee, a
customer reply tells the ticket's owner; each operator reads and marks only their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.config.settings import Settings
from gateway.keys import HUB, SETTINGS, STORE
from gateway.models import Operator, utcnow
from gateway.privacy.personal_data import erase
from gateway.sla.watcher import SlaWatcher
from gateway.tickets.notices import mentioned


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


async def unread(client: TestClient) -> dict[str, Any]:
    response = await client.get("/console/notifications/unread", params={"after": "0"})
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_a_mention_notifies_the_colleague_named_and_only_them(
    client: TestClient, login: Login, handoff: Handoff,
    make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    ticket_id = (await handoff(text="I want to talk to a human about my invoice"))["ticket_id"]
    await make_operator("bea")           # "Bea", general queue
    await make_operator("carl")
    await make_operator("sam", queues=["sales"])  # may not open a general ticket
    csrf = await login("carl", AGENT_PASSWORD)
    noted = await client.post(f"/console/tickets/{ticket_id}/note", data={
        "csrf": csrf, "text": "@bea can you check the invoice? cc @sam and @nobody"})
    assert noted.status == 200
    assert (await unread(client))["unread"] == 0  # carl wrote it: nothing for him

    await login("bea", AGENT_PASSWORD)
    news = await unread(client)
    assert news["unread"] == 1
    [item] = news["items"]
    assert item["kind"] == "mention" and item["actor"] == "Carl"
    assert item["url"] == f"/console/tickets/{ticket_id}"
    assert "@bea can you check the invoice?" in item["text"]
    page = await (await client.get("/console/notifications")).text()
    assert "You were mentioned" in page and f"#{ticket_id}" in page

    csrf = await login("sam", AGENT_PASSWORD)
    assert (await unread(client))["unread"] == 0
    # sam cannot mark bea's notification read, nor list whom a general ticket can mention
    await client.post("/console/notifications/read", data={"csrf": csrf, "id": str(item["id"])})
    assert (await client.get(f"/console/tickets/{ticket_id}/mentionable")).status == 403

    csrf = await login("bea", AGENT_PASSWORD)
    assert (await unread(client))["unread"] == 1
    names = await (await client.get(f"/console/tickets/{ticket_id}/mentionable")).json()
    assert [o["username"] for o in names["operators"]] == ["admin", "carl"]
    done = await client.post("/console/notifications/read",
                             data={"csrf": csrf, "id": str(item["id"])})
    assert done.status == 200 and (await unread(client))["unread"] == 0
    assert (await client.post("/console/notifications/read",
                              data={"id": str(item["id"])})).status == 403  # no CSRF token


async def test_assignment_and_customer_reply_notify_the_assignee(
    client: TestClient, login: Login, handoff: Handoff,
    make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    first = await handoff(text="I want to talk to a human about my invoice")
    await make_operator("bea")
    csrf = await login()
    moved = await client.post(f"/console/tickets/{first['ticket_id']}/transfer", data={
        "csrf": csrf, "assignee": "bea", "reason": "Bea knows invoices"})
    assert moved.status == 200
    await handoff(text="Any news about invoice 4471?", conversation_id=first["conversation_id"])
    await handoff(text="Hello again, the amount is 120 EUR",
                  conversation_id=first["conversation_id"])

    csrf = await login("bea", AGENT_PASSWORD)
    news = await unread(client)
    kinds = [i["kind"] for i in news["items"]]
    assert news["unread"] == 3 and kinds == ["customer_reply", "customer_reply", "assigned"]
    assert "Bea knows invoices" in news["items"][-1]["text"]
    assert "the amount is 120 EUR" in news["items"][0]["text"]
    newest = news["items"][0]["id"]
    assert (await (await client.get("/console/notifications/unread",
                                    params={"after": str(newest)})).json())["items"] == []
    await client.post("/console/notifications/read",  # another ticket's: nothing changes
                      data={"csrf": csrf, "ticket": str(first["ticket_id"] + 1)})
    assert (await unread(client))["unread"] == 3
    await client.post("/console/notifications/read",
                      data={"csrf": csrf, "ticket": str(first["ticket_id"])})
    assert (await unread(client))["unread"] == 0
    page = await (await client.get("/console/notifications")).text()
    assert page.count('class="notification"') == 3  # read now, still listed

    store = client.app[STORE]
    bea = await store.operator_by_username("bea")
    assert bea is not None
    for n in range(25):
        await store.add_notification(bea.id, "mention", None, "test", f"old {n}")
    page = await (await client.get("/console/notifications")).text()
    assert page.count('data-notification="') == 20 and "Older notifications" in page
    older = page.split('href="/console/notifications?before=')[1].split('"')[0]
    rest = await (await client.get(f"/console/notifications?before={older}")).text()
    assert rest.count('data-notification="') == 8
    assert (await client.get("/console/notifications?before=abc")).status == 400

    # erasing the customer erases what the notifications quoted of them
    ticket = await store.get_ticket(first["ticket_id"])
    assert ticket is not None
    await erase(store, ticket.customer_id, [], actor="admin")
    theirs = [n for n in await store.notifications(bea.id, before=int(older))
              if n.ticket_id == ticket.id]
    assert len(theirs) == 3 and {n.text for n in theirs} == {"[erased]"}


async def test_sla_alarms_on_a_ticket_notify_its_assignee_once(
    client: TestClient, login: Login, handoff: Handoff,
    make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    ticket_id = (await handoff(text="I want to talk to a human about my invoice"))["ticket_id"]
    await make_operator("bea")
    csrf = await login()
    await client.post(f"/console/tickets/{ticket_id}/transfer", data={
        "csrf": csrf, "assignee": "bea", "reason": "hers"})
    store, settings = client.app[STORE], client.app[SETTINGS]
    watcher = SlaWatcher(store, client.app[HUB], settings.sla, settings.calendar.for_queue)
    await watcher.run_once(utcnow() + timedelta(days=60))
    await watcher.run_once(utcnow() + timedelta(days=61))  # no second notice per alarm

    csrf = await login("bea", AGENT_PASSWORD)
    kinds = [i["kind"] for i in (await unread(client))["items"]]
    assert kinds.count("sla_breached") == 2 and kinds[-1] == "assigned"  # both clocks
    assert (await unread(client))["unread"] == 3
    await client.post("/console/notifications/read", data={"csrf": csrf, "all": "1"})
    assert (await unread(client))["unread"] == 0
    await login()
    assert (await unread(client))["unread"] == 0  # the admin owns nothing: told nothing


def test_mentions_by_login_or_display_name_and_nothing_else() -> None:
    def op(id_: int, username: str, name: str, active: bool = True) -> Operator:
        return Operator(id_, username, name, "", "agent", ("en",), ("general",), active)

    team = [op(1, "anna", "Anna Berg"), op(2, "ann", "Ann"), op(3, "gone", "Gone", False)]
    found = mentioned("@Anna Berg and @ANN, not me@example.com nor @gone or @nobody", team)
    assert [o.username for o in found] == ["anna", "ann"]
    assert mentioned("@anna. @anna again", team) == [team[0]]
    assert mentioned("no mention here", team) == []
