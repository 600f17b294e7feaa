"""After a merge, the customer's later messages on the duplicate's conversation land on the
surviving ticket, whose page shows both conversations (over HTTP and the API channel)."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login

from gateway.keys import STORE


async def test_a_reply_on_the_merged_conversation_goes_to_the_surviving_ticket(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    first = await handoff(text="I want to talk to a human about my invoice")
    duplicate = await handoff(text="I want to talk to a human, the invoice is wrong")
    csrf = await login()
    merged = await client.post(f"/console/tickets/{duplicate['ticket_id']}/merge",
                               data={"csrf": csrf, "into": str(first["ticket_id"])})
    assert merged.url.path == f"/console/tickets/{first['ticket_id']}"

    again = await handoff(text="Hello? Is anyone looking at the invoice 4471?",
                          conversation_id=duplicate["conversation_id"])
    assert again["ticket_id"] == first["ticket_id"]
    store = client.app[STORE]
    assert len(await store.tickets(("new", "open", "pending", "solved", "closed"))) == 2

    page = await (await client.get(f"/console/tickets/{first['ticket_id']}")).text()
    start = page.index('id="transcript"')
    transcript = page[start:page.index("</ol>", start)]
    texts = re.findall(r'<p class="msg-body plain">([^<]*)</p>', transcript)
    assert texts[0] == "I want to talk to a human about my invoice"
    assert texts[-1] == "Hello? Is anyone looking at the invoice 4471?"
    assert "I want to talk to a human, the invoice is wrong" in texts
    assert f"from merged ticket #{duplicate['ticket_id']} (api)" in transcript
