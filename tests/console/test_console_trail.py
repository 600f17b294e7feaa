"""The ticket's forms and trail say what happened in words: a transfer to a colleague of the
target queue, no entry for a form saved unchanged, labels instead of raw event names."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.keys import STORE
from gateway.models import Operator

MakeOperator = Callable[..., Awaitable[Operator]]


def _audit(html: str) -> str:
    start = html.index('id="audit"')
    return html[start:html.index("</section>", start)]


async def test_an_agent_transfers_to_a_colleague_of_the_target_queue(
    client: TestClient, login: Login, handoff: Handoff, make_operator: MakeOperator
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await make_operator("gina", queues=["general"])
    sam = await make_operator("sam", queues=["sales"])
    csrf = await login("gina", AGENT_PASSWORD)
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    start = page.index('<optgroup label="sales queue">')
    assert 'value="sam"' in page[start:page.index("</optgroup>", start)]
    moved = await client.post(f"/console/tickets/{ticket_id}/transfer", data={
        "csrf": csrf, "queue": "sales", "assignee": "sam", "reason": "Sam knows the order"})
    assert moved.url.path == "/console"  # out of her queues now
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None and (ticket.queue, ticket.assignee_id) == ("sales", sam.id)


async def test_saving_the_fields_unchanged_writes_nothing_and_the_trail_reads_as_words(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    ticket_id = (await handoff(text="I want to talk to a human about my bike"))["ticket_id"]
    csrf = await login()
    store = client.app[STORE]
    before = len(await store.events(ticket_id=ticket_id))
    url = f"/console/tickets/{ticket_id}/fields"
    same = await client.post(url, data={"csrf": csrf, "priority": "P3",
                                        "subject": "I want to talk to a human about my bike"})
    assert "Nothing changed." in await same.text()
    assert len(await store.events(ticket_id=ticket_id)) == before

    changed = await client.post(url, data={"csrf": csrf, "priority": "P3",
                                           "subject": "Bike repair", "category": "assistance"})
    html = await changed.text()
    assert "Ticket updated." in html
    trail = _audit(html)
    assert "Details corrected" in trail and "ticket.updated" not in trail
    assert "category: not set → assistance" in trail and "None" not in trail
    assert not re.search(r"priority: P3 → P3", trail)


async def test_times_are_shown_in_the_desk_time_zone_with_utc_in_the_tooltip(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None
    await login()
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    local = ticket.created_at.astimezone(ZoneInfo("Europe/Brussels"))
    # English as in Britain (Babel's en_GB medium date, 24-hour clock); CET or CEST
    shown = f"{local.day} {local.strftime('%b %Y %H:%M %Z')}"
    utc = ticket.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert f'title="{utc}">{shown}</time>' in page
    listed = await (await client.get("/console")).text()
    assert f"{shown} ({utc})" in listed
