"""The ticket list and the ticket page, and what operators do there, through HTTP."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login

from gateway.keys import STORE


async def test_list_shows_a_handed_off_ticket(client: TestClient, login: Login,
                                              handoff: Handoff) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await login()
    response = await client.get("/console")
    html = await response.text()
    assert response.status == 200
    assert f'<a href="/console/tickets/{ticket_id}">I want to talk to a human</a>' in html
    row = html[html.index(f'data-ticket-id="{ticket_id}"'):]
    for shown in ("Ann", "<td>api</td>", "<td>general</td>", "P3", "new"):
        assert shown in row
    assert 'data-live="/console/ws"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response.headers


async def test_list_is_newest_first_and_only_open_tickets(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    older = (await handoff(customer_id="c1", name="Ann"))["ticket_id"]
    newer = (await handoff(customer_id="c2", name="Bob"))["ticket_id"]
    csrf = await login()
    html = await (await client.get("/console")).text()
    assert html.index(f'data-ticket-id="{newer}"') < html.index(f'data-ticket-id="{older}"')
    await client.post(f"/console/tickets/{older}/close",
                      data={"csrf": csrf, "outcome": "answered"})
    html = await (await client.get("/console")).text()
    assert f'data-ticket-id="{older}"' not in html
    assert f'data-ticket-id="{newer}"' in html


async def test_ticket_page_shows_transcript_attempts_profile_and_trail(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await login()
    response = await client.get(f"/console/tickets/{ticket_id}")
    html = await response.text()
    assert response.status == 200
    transcript = html[html.index('id="transcript"'):html.index('id="reply-title"')]
    assert "I want to talk to a human" in transcript
    assert "msg-customer" in transcript and "msg-bot" in transcript
    assert "asked for a human" in html  # the bot's attempt: why it handed over
    assert "Ann" in html  # the customer's profile
    assert "Ticket created" in html  # the audit trail
    for action in ("reply", "take", "close", "note"):
        assert f'action="/console/tickets/{ticket_id}/{action}"' in html
    assert '<option value="answered">answered</option>' in html  # the wrap-up outcomes


async def test_bot_scores_are_shown(client: TestClient, login: Login, handoff: Handoff) -> None:
    ticket_id = (await handoff())["ticket_id"]
    store = client.app[STORE]
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None
    conversation = await store.get_conversation(ticket.conversation_id)
    assert conversation is not None
    scored = await store.create_ticket(
        conversation, queue="general", priority="P3", subject="Scored", actor="bot",
        bot_attempts=[{"reason": "no confident answer"},
                      {"decision": "handoff", "confidence": 0.412, "language": "en",
                       "candidates": [{"article_id": "delivery-time", "confidence": 0.412,
                                       "title": "How long does delivery take?"}]}],
    )
    await login()
    html = await (await client.get(f"/console/tickets/{scored.id}")).text()
    assert "no confident answer" in html
    assert "handoff · confidence 41% · language en" in html
    assert "How long does delivery take?" in html and "delivery-time" in html


async def test_reply_reaches_the_customer_through_their_channel(
    client: TestClient, login: Login, handoff: Handoff, api_headers: dict[str, str]
) -> None:
    started = await handoff()
    ticket_id, conversation_id = started["ticket_id"], started["conversation_id"]
    csrf = await login()
    response = await client.post(f"/console/tickets/{ticket_id}/reply",
                                 data={"csrf": csrf, "text": "Hello Ann, **I can help**."})
    assert response.status == 200
    assert response.url.path == f"/console/tickets/{ticket_id}"
    html = await response.text()
    assert "Reply sent to the customer." in html
    assert "<strong>I can help</strong>" in html  # operator Markdown, sanitised

    api = await client.get(f"/api/v1/conversations/{conversation_id}", headers=api_headers)
    messages = (await api.json())["messages"]
    assert messages[-1]["author"] == "operator"
    assert messages[-1]["text"] == "Hello Ann, **I can help**."
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None and ticket.status == "open" and ticket.assignee_id is not None


async def test_take_note_and_close(client: TestClient, login: Login, handoff: Handoff) -> None:
    ticket_id = (await handoff())["ticket_id"]
    csrf = await login()
    taken = await client.post(f"/console/tickets/{ticket_id}/take", data={"csrf": csrf})
    assert "You now own this ticket." in await taken.text()
    noted = await client.post(f"/console/tickets/{ticket_id}/note",
                              data={"csrf": csrf, "text": "Called her back <b>twice</b>"})
    html = await noted.text()
    assert "Internal note" in html
    assert "Called her back &lt;b&gt;twice&lt;/b&gt;" in html
    unfinished = await client.post(f"/console/tickets/{ticket_id}/close", data={"csrf": csrf})
    assert unfinished.status == 409
    assert "pick an outcome" in await unfinished.text()
    closed = await client.post(f"/console/tickets/{ticket_id}/close", data={
        "csrf": csrf, "outcome": "answered", "summary": "Explained the delivery times"})
    html = await closed.text()
    assert "Ticket closed." in html
    assert "outcome: answered" in html and "Explained the delivery times" in html
    assert 'id="reply-text"' not in html  # no replying on a closed ticket
    store = client.app[STORE]
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None and ticket.status == "closed"
    types = [e.type for e in await store.events(ticket_id=ticket_id)]
    assert types == ["ticket.created", "ticket.assigned", "ticket.note", "ticket.closed"]
    # The note stayed internal: nothing new went to the customer.
    assert all(m.author != "operator" for m in await store.messages(ticket.conversation_id))


async def test_closed_ticket_takes_no_reply_and_empty_text_is_refused(
    client: TestClient, login: Login, handoff: Handoff
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    csrf = await login()
    empty = await client.post(f"/console/tickets/{ticket_id}/reply",
                              data={"csrf": csrf, "text": "   "})
    assert empty.status == 400
    await client.post(f"/console/tickets/{ticket_id}/close",
                      data={"csrf": csrf, "outcome": "answered"})
    late = await client.post(f"/console/tickets/{ticket_id}/reply",
                             data={"csrf": csrf, "text": "Too late"})
    assert late.status == 409


async def test_unknown_ticket_is_404(client: TestClient, login: Login) -> None:
    await login()
    response = await client.get("/console/tickets/999")
    assert response.status == 404
    assert "There is no such ticket." in await response.text()
    other = await client.get("/console/tickets/abc")
    assert other.status == 404
    assert "There is no such page." in await other.text()


async def test_customer_html_is_shown_as_text(client: TestClient, login: Login,
                                              handoff: Handoff) -> None:
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
    ticket_id = (await handoff(text=f"{payload} I want to talk to a human"))["ticket_id"]
    await login()
    for path in ("/console", f"/console/tickets/{ticket_id}"):
        html = await (await client.get(path)).text()
        assert "<script>window.__xss" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html, path
        assert "&lt;img src=x onerror=" in html, path
