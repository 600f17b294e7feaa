"""Splitting a ticket: a customer message and those after it move to a new ticket of the
same customer, both trails say so and link each other, and the customer's later messages
go to the new ticket (over HTTP and the API channel, on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.models import Operator

INVOICE = "I want to talk to a human about my invoice"
MOVE = "Another thing: I am moving house next week, please change my address"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


def transcript(page: str) -> list[str]:
    start = page.index('id="transcript"')
    return re.findall(r'<p class="msg-body plain">([^<]*)</p>',
                      page[start:page.index("</ol>", start)])


async def customer_message_id(client: TestClient, conversation_id: int, text: str) -> int:
    messages = await client.app[STORE].messages(conversation_id)
    return next(m.id for m in messages if m.text == text)


async def test_split_moves_the_message_and_later_replies_follow_it(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    first = await handoff(text=INVOICE)
    conversation_id = first["conversation_id"]
    again = await handoff(text=MOVE, conversation_id=conversation_id)
    assert again["ticket_id"] == first["ticket_id"]  # people own it: on the same ticket
    csrf = await login()
    message_id = await customer_message_id(client, conversation_id, MOVE)

    split = await client.post(f"/console/tickets/{first['ticket_id']}/split",
                              data={"csrf": csrf, "message": str(message_id)})
    assert split.status == 200
    new_id = int(split.url.path.rsplit("/", 1)[-1])
    assert new_id != first["ticket_id"]
    page = await split.text()
    assert "Split off: this new ticket" in page
    assert transcript(page) == [MOVE]
    assert f'<a href="/console/tickets/{first["ticket_id"]}">#{first["ticket_id"]}</a>' in page
    assert "Split off another ticket" in page  # the audit entry on the new ticket

    original = await (await client.get(f"/console/tickets/{first['ticket_id']}")).text()
    assert INVOICE in transcript(original) and MOVE not in transcript(original)
    assert "Messages split off to a new ticket" in original
    assert f'<a href="/console/tickets/{new_id}">#{new_id}</a>' in original

    store = client.app[STORE]
    new, old = await store.get_ticket(new_id), await store.get_ticket(first["ticket_id"])
    assert new is not None and old is not None
    assert (new.customer_id, new.conversation_id, new.queue) == (
        old.customer_id, old.conversation_id, old.queue)
    assert new.subject.startswith("Another thing: I am moving house")

    later = await handoff(text="The new address is Kerkstraat 12, Gent",
                          conversation_id=conversation_id)
    assert later["ticket_id"] == new_id
    page = await (await client.get(f"/console/tickets/{new_id}")).text()
    assert transcript(page)[-1] == "The new address is Kerkstraat 12, Gent"
    original = await (await client.get(f"/console/tickets/{first['ticket_id']}")).text()
    assert "The new address is Kerkstraat 12, Gent" not in transcript(original)

    # the operator's reply on the original stays there, the customer's next one goes on
    reply = await client.post(f"/console/tickets/{first['ticket_id']}/reply",
                              data={"csrf": csrf, "text": "The invoice is corrected."})
    assert reply.status == 200
    original = await (await client.get(f"/console/tickets/{first['ticket_id']}")).text()
    page = await (await client.get(f"/console/tickets/{new_id}")).text()
    assert "The invoice is corrected." in original and "The invoice is corrected." not in page


async def test_splitting_needs_access_and_a_customer_message_of_the_ticket(
    client: TestClient, login: Login, handoff: Handoff,
    make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    first = await handoff(text=INVOICE)
    await handoff(text=MOVE, conversation_id=first["conversation_id"])
    other = await handoff(text="I want to talk to a human about my order", customer_id="c2",
                          name="Bob")
    store = client.app[STORE]
    message_id = await customer_message_id(client, first["conversation_id"], MOVE)
    ticket = f"/console/tickets/{first['ticket_id']}/split"
    await make_operator("sam", queues=["sales"])

    csrf = await login("sam", AGENT_PASSWORD)
    refused = await client.post(ticket, data={"csrf": csrf, "message": str(message_id)})
    assert refused.status == 403
    assert len(await store.tickets(("new", "open"))) == 2

    csrf = await login()
    assert (await client.post(ticket, data={"message": str(message_id)})).status == 403  # CSRF
    foreign = await customer_message_id(client, other["conversation_id"],
                                        "I want to talk to a human about my order")
    bot = next(m for m in await store.messages(first["conversation_id"])
               if m.author == "bot")
    for wrong in (foreign, bot.id):  # another customer's message; the bot's
        refused = await client.post(ticket, data={"csrf": csrf, "message": str(wrong)})
        assert refused.status == 409
        assert "pick a customer message of this ticket" in await refused.text()
    opening = await customer_message_id(client, first["conversation_id"], INVOICE)
    refused = await client.post(ticket, data={"csrf": csrf, "message": str(opening)})
    assert refused.status == 409 and "split off a later one" in await refused.text()
    page = await (await client.get(f"/console/tickets/{first['ticket_id']}")).text()
    assert page.count("Split from here") == 1  # offered on the second message only
    assert (await client.post(ticket, data={"csrf": csrf, "message": "x"})).status == 400
    assert len(await store.tickets(("new", "open"))) == 2
    assert not [e for e in await store.events(ticket_id=first["ticket_id"])
                if e.type == "ticket.split"]

    await store.update_ticket(first["ticket_id"], "admin", "ticket.closed", status="closed")
    closed = await client.post(ticket, data={"csrf": csrf, "message": str(message_id)})
    assert closed.status == 409


async def test_the_assignee_is_told_of_a_ticket_split_off_theirs(
    client: TestClient, login: Login, handoff: Handoff,
    make_operator: Callable[..., Awaitable[Operator]]
) -> None:
    first = await handoff(text=INVOICE)
    await handoff(text=MOVE, conversation_id=first["conversation_id"])
    await make_operator("bea")
    csrf = await login()
    await client.post(f"/console/tickets/{first['ticket_id']}/transfer",
                      data={"csrf": csrf, "assignee": "bea", "reason": "hers"})
    message_id = await customer_message_id(client, first["conversation_id"], MOVE)
    split = await client.post(f"/console/tickets/{first['ticket_id']}/split",
                              data={"csrf": csrf, "message": str(message_id)})
    new_id = int(split.url.path.rsplit("/", 1)[-1])
    new = await client.app[STORE].get_ticket(new_id)
    assert new is not None and new.status == "open"

    await login("bea", AGENT_PASSWORD)
    news = await (await client.get("/console/notifications/unread",
                                   params={"after": "0"})).json()
    newest = news["items"][0]
    assert newest["kind"] == "assigned" and newest["url"] == f"/console/tickets/{new_id}"
    assert f"split off #{first['ticket_id']}" in newest["text"]
    assert new.assignee_id == (await client.app[STORE].operator_by_username("bea")).id  # type: ignore[union-attr]


async def test_a_split_ticket_merged_back_shows_its_messages_on_the_original(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    first = await handoff(text=INVOICE)
    await handoff(text=MOVE, conversation_id=first["conversation_id"])
    csrf = await login()
    message_id = await customer_message_id(client, first["conversation_id"], MOVE)
    split = await client.post(f"/console/tickets/{first['ticket_id']}/split",
                              data={"csrf": csrf, "message": str(message_id)})
    new_id = int(split.url.path.rsplit("/", 1)[-1])
    merged = await client.post(f"/console/tickets/{new_id}/merge",
                               data={"csrf": csrf, "into": str(first["ticket_id"])})
    assert merged.url.path == f"/console/tickets/{first['ticket_id']}"
    assert transcript(await merged.text()) == [INVOICE, MOVE]
    again = await handoff(text="Is the address changed?",
                          conversation_id=first["conversation_id"])
    assert again["ticket_id"] == first["ticket_id"]
    page = await (await client.get(f"/console/tickets/{first['ticket_id']}")).text()
    assert transcript(page)[-1] == "Is the address changed?"
