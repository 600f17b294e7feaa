"""Transfer, status changes (with the SLA they pause), merge and canned answers, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.keys import STORE
from gateway.models import Operator

MakeOperator = Callable[..., Awaitable[Operator]]


def _section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</section>", start)]


def _options(html: str, select_id: str) -> list[str]:
    start = html.index(f'id="{select_id}"')
    block = html[start:html.index("</select>", start)]
    return re.findall(r'<option value="([^"]*)"', block)


async def test_transfer_to_a_queue_needs_a_reason_and_takes_the_ticket_away(
    client: TestClient, login: Login, handoff: Handoff, make_operator: MakeOperator
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await make_operator("gina", queues=["general"])
    await make_operator("sam", queues=["sales"])
    store = client.app[STORE]
    csrf = await login("gina", AGENT_PASSWORD)
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert '<label for="transfer-reason">' in page and "<legend>" in page
    assert "sales" in _options(page, "transfer-queue")

    url = f"/console/tickets/{ticket_id}/transfer"
    for data, status, says in (
        ({"queue": "sales", "reason": "  "}, 400, "the reason is required"),
        ({"reason": "Wrong place"}, 400, "Choose a queue or an operator"),
        ({"queue": "nowhere", "reason": "Wrong place"}, 409, "no queue named"),
        ({"assignee": "nobody-here", "reason": "Wrong place"}, 400, "no such operator"),
    ):
        refused = await client.post(url, data={"csrf": csrf, **data})
        assert refused.status == status, data
        assert says in await refused.text()
    unchanged = await store.get_ticket(ticket_id)
    assert unchanged is not None and unchanged.queue == "general"

    moved = await client.post(url, data={"csrf": csrf, "queue": "sales",
                                         "reason": "Asks for a <b>quote</b>"})
    assert moved.status == 200 and moved.url.path == "/console"
    listing = await moved.text()
    assert "Ticket transferred. It is no longer in your queues." in listing
    assert f'data-ticket-id="{ticket_id}"' not in listing
    assert (await client.get(f"/console/tickets/{ticket_id}")).status == 403

    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None and ticket.queue == "sales" and ticket.assignee_id is None
    await login("sam", AGENT_PASSWORD)
    assert f'data-ticket-id="{ticket_id}"' in await (await client.get("/console")).text()
    audit = _section(await (await client.get(f"/console/tickets/{ticket_id}")).text(), "audit")
    assert "Transferred" in audit and "gina" in audit
    assert "reason: Asks for a &lt;b&gt;quote&lt;/b&gt;" in audit  # escaped like all input
    assert "queue: general → sales" in audit


async def test_supervisor_reassigns_to_any_operator_agents_to_colleagues(
    client: TestClient, login: Login, handoff: Handoff, make_operator: MakeOperator
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await make_operator("gina", queues=["general"])
    await make_operator("gus", queues=["general"])
    sam = await make_operator("sam", queues=["sales"])
    await make_operator("sue", role="supervisor", queues=["general", "sales"])

    await login("gina", AGENT_PASSWORD)
    agent_view = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    offered = _options(agent_view, "transfer-assignee")
    # Colleagues of every queue, grouped: she may transfer to sales and name Sam there.
    assert {"gus", "sue", "sam"} <= set(offered)
    assert '<optgroup label="sales queue">' in agent_view

    csrf = await login("sue", AGENT_PASSWORD)
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert {"gina", "gus", "sam", "sue", "admin"} <= set(_options(page, "transfer-assignee"))
    url = f"/console/tickets/{ticket_id}/transfer"
    # Sam does not work the general queue: the service refuses and says why.
    refused = await client.post(url, data={"csrf": csrf, "assignee": "sam", "reason": "x"})
    assert refused.status == 409
    assert "sam does not work the general queue" in await refused.text()
    done = await client.post(url, data={"csrf": csrf, "assignee": "sam", "queue": "sales",
                                        "reason": "Sam handled her order"})
    html = await done.text()
    assert done.url.path == f"/console/tickets/{ticket_id}"  # a supervisor still sees it
    assert "Ticket transferred." in html
    meta = _section(html, "ticket-meta")
    assert "<dd>sales</dd>" in meta and "<dd>Sam</dd>" in meta
    audit = _section(html, "audit")
    assert "to_operator: sam" in audit and "assignee: nobody → Sam" in audit
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None and ticket.assignee_id == sam.id and ticket.queue == "sales"


async def test_pending_pauses_the_sla_until_the_customer_writes_again(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    started = await handoff()
    ticket_id = started["ticket_id"]
    csrf = await login()
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    sla = _section(page, "ticket-sla")
    assert "First response" in sla and "Resolution" in sla
    assert "running" in sla and "SLA paused" not in sla
    assert 'value="pending"' in page and 'value="solved"' in page
    assert 'value="open"' not in page  # a new ticket is not "reopened"

    url = f"/console/tickets/{ticket_id}/status"
    pending = await client.post(url, data={"csrf": csrf, "status": "pending"})
    html = await pending.text()
    assert "Set to pending: waiting on the customer. The SLA is paused." in html
    sla = _section(html, "ticket-sla")
    assert "SLA paused" in sla and "waiting on the customer" in sla
    assert 'class="clock-paused">paused<' in sla
    assert "Set to pending (waiting on the customer)" in _section(html, "audit")
    assert 'value="open"' in html  # and back

    for wrong in ("closed", "new", ""):
        refused = await client.post(url, data={"csrf": csrf, "status": wrong})
        assert refused.status == 400, wrong

    # The customer answers: the ticket is open again and the clocks run.
    await handoff(text="Here is my order number: 10042",
                  conversation_id=started["conversation_id"])
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None and ticket.status == "open"
    html = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    sla = _section(html, "ticket-sla")
    assert "SLA paused" not in sla and "running" in sla
    assert "Reopened" in _section(html, "audit")

    solved = await client.post(url, data={"csrf": csrf, "status": "solved"})
    assert "Marked solved." in await solved.text()
    reopened = await client.post(url, data={"csrf": csrf, "status": "open"})
    assert "Reopened: the SLA runs again." in await reopened.text()
    await client.post(f"/console/tickets/{ticket_id}/close",
                      data={"csrf": csrf, "outcome": "answered"})
    late = await client.post(url, data={"csrf": csrf, "status": "pending"})
    assert late.status == 409


async def test_merge_a_duplicate_into_another_ticket_of_the_same_customer(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    first = (await handoff(text="I want to talk to a human about my invoice"))["ticket_id"]
    duplicate = (await handoff(text="I want to talk to a human, invoice again"))["ticket_id"]
    stranger = (await handoff(customer_id="c9", name="Zed"))["ticket_id"]
    csrf = await login()
    page = await (await client.get(f"/console/tickets/{duplicate}")).text()
    assert f'<option value="{first}">' in _section(page, "merge-title")
    url = f"/console/tickets/{duplicate}/merge"

    assert (await client.post(url, data={"csrf": csrf, "into": "abc"})).status == 400
    other = await client.post(url, data={"csrf": csrf, "into": str(stranger)})
    assert other.status == 409
    assert "same customer" in await other.text()
    assert (await client.post(url, data={"csrf": csrf, "into": "9999"})).status == 404

    merged = await client.post(url, data={"csrf": csrf, "into": f"#{first}"})
    html = await merged.text()
    assert merged.url.path == f"/console/tickets/{first}"
    assert "The duplicate was merged into this ticket." in html
    assert "Another ticket merged into this one" in _section(html, "audit")
    store = client.app[STORE]
    closed = await store.get_ticket(duplicate)
    assert closed is not None and closed.status == "closed"
    trail = _section(await (await client.get(f"/console/tickets/{duplicate}")).text(), "audit")
    assert "Merged into another ticket" in trail and f"into: {first}" in trail


async def test_canned_answers_come_in_the_customers_language(
    client: TestClient, login: Login, handoff: Handoff, make_operator: MakeOperator
) -> None:
    french = (await handoff(text="Je veux parler à un humain s'il vous plaît", name="Élise",
                            language="fr"))["ticket_id"]
    await login()
    page = await (await client.get(f"/console/tickets/{french}")).text()
    canned = _section(page, "canned")
    assert f'data-answers="/console/tickets/{french}/answers"' in canned
    assert '<label for="canned-filter">' in canned and "(fr)" in canned

    response = await client.get(f"/console/tickets/{french}/answers")
    assert response.status == 200
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    assert body["language"] == "fr"
    answers = {a["id"]: a for a in body["answers"]}
    delivery = answers["delivery-time"]
    assert delivery["language"] == "fr"
    assert delivery["title"] == "Quel est le délai de livraison ?"
    assert "3 à 5 jours ouvrables" in delivery["answer"]
    # Placeholders are filled for this customer, as the bot would have.
    assert answers["late-delivery-complaint"]["answer"].startswith(
        "Nous sommes désolés, Élise, que votre commande")
    assert all("{customer." not in a["answer"] for a in body["answers"])

    english = (await handoff(customer_id="c2", name="Bob"))["ticket_id"]
    body = await (await client.get(f"/console/tickets/{english}/answers")).json()
    assert body["language"] == "en"
    assert {a["id"]: a for a in body["answers"]}["delivery-time"]["title"] == (
        "How long does delivery take?")

    # An agent of another queue learns nothing about the ticket from the answers either.
    await make_operator("sam", queues=["sales"])
    await login("sam", AGENT_PASSWORD)
    assert (await client.get(f"/console/tickets/{french}/answers")).status == 403
