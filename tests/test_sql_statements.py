"""SQL statements per message through the real REST API, counted through the drivers
(BEGIN, COMMIT and pool resets included): issue 21's budget, deterministic on both engines.
`benchmarks/api_throughput.py` prints the same counts with its throughput."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from benchmarks.sql_count import Tally, count_requests
from gateway.app import create_app
from gateway.config.settings import Settings
from tests.test_replicas import _login

#: What an answered message costs, per engine: the known customer and the conversation
#: (one upsert that reads the customer too, `Store.open_as`), the inbound message, then
#: one transaction: reply, outbox entry, and the conversation's UPDATE and `handled`
#: (on PostgreSQL one statement: `WITH w0 AS (UPDATE …) UPDATE …`). It was 9 on both: the
#: customer was read on its own and the two updates went one by one.
ANSWERED = {"sqlite": 8, "postgresql": 7}
#: An answered follow-up (`conversation_id` given): the API reads the conversation and the
#: customer to check they go together, and the bot's last word before the message.
FOLLOW_UP = {"sqlite": 11, "postgresql": 10}
#: A hand-off on first contact: the same as an answer, with the operators and the new
#: ticket and its event inside the transaction (no ticket to look for in a conversation
#: this new; on PostgreSQL the event goes with the updates). It was 12 on both.
HANDOFF = {"sqlite": 11, "postgresql": 9}


def _engine(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite:") else "postgresql"


async def _client(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
                  database_url: str) -> tuple[TestClient, list[Tally]]:
    app = create_app(make_settings(database={"url": database_url}))
    tallies = count_requests(app)
    client: TestClient = await aiohttp_client(app)
    return client, tallies


async def test_statements_per_answered_message_and_per_handoff(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client, tallies = await _client(aiohttp_client, make_settings, database_url)

    async def post(text: str, message_id: str, **extra: Any) -> Tally:
        response = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": "count-1", "name": "Ann"}, "text": text,
            "message_id": message_id, **extra})
        assert response.status == 201, await response.text()
        return tallies[-1]

    await post("Hello there, how long does delivery take?", "warm")  # a known customer now
    answered = await post("How long does delivery take?", "a-1")
    assert [r["kind"] for r in answered.response["replies"]] == ["answer"]
    engine = _engine(database_url)
    assert answered.total <= ANSWERED[engine], answered.kinds
    assert answered.kinds["BEGIN"] == 1 and answered.kinds["pool reset"] == 0
    assert answered.kinds["SELECT customers"] == 0, answered.kinds
    follow_up = await post("How long does delivery take?", "a-2",
                           conversation_id=answered.response["conversation_id"])
    assert [r["kind"] for r in follow_up.response["replies"]] == ["answer"]
    assert follow_up.total <= FOLLOW_UP[engine], follow_up.kinds
    handoff = await post("I want to talk to a person", "h-1")
    assert handoff.response["ticket_id"] is not None
    assert handoff.total <= HANDOFF[engine], handoff.kinds
    # The events go in as one INSERT: alone on SQLite, inside the updates' WITH on
    # PostgreSQL.
    inserts = {"sqlite": ("INSERT events", 1), "postgresql": ("WITH", 1)}[engine]
    assert handoff.kinds["BEGIN"] == 1 and handoff.kinds[inserts[0]] == inserts[1], handoff.kinds


async def test_a_duplicate_costs_reads_only(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client, tallies = await _client(aiohttp_client, make_settings, database_url)
    body = {"customer": {"id": "count-2", "name": "Bo"}, "text": "How long does delivery take?",
            "message_id": "dup-1"}
    assert (await client.post("/api/v1/messages", headers=api_headers, json=body)).status == 201
    again = await client.post("/api/v1/messages", headers=api_headers, json=body)
    assert again.status == 200
    duplicate = tallies[-1]
    assert duplicate.kinds["BEGIN"] == 0 and duplicate.kinds["INSERT outbox"] == 0


#: The ticket list as an admin: session with its operator and presence, the known tags
#: (the filters' choices), the SLA watcher's catch-up, the list's total counted with the
#: seven views (one statement), the page with its rows' customers, channels, timers,
#: replies and tags (one statement), the operators, the SLA banner. It was 23 on both
#: engines: each view was a COUNT of its own and the session's expiry was written on every
#: page; then 16: the session and its operator were two statements, and the operators were
#: read three times; then 14: the list's own COUNT, and the rows' customers, conversations,
#: timers, replies and tags a query each; then 8: the presence apart from the session.
LIST_PAGE = 7
#: A ticket page: session (with operator and presence), the operators (with their
#: presence, for the transfer form), the ticket with its conversation, customer, tags,
#: survey and the desk's known tags, its trail (with the conversation's own events), its
#: conversation's messages (with their outbox state and split placement), the customer's
#: conversations and other tickets (each with its count), the banner (one more, the
#: attachments, when a message has any). It was 25, then 22: the presence, the ticket,
#: conversation, customer, tags, survey, known tags, the trail's two halves, the merges,
#: the placements, the outbox and the attachments were a statement each, and the customer
#: card's two counts and the other tickets' channels three more.
TICKET_PAGE = 8
#: The notifications page: session with operator, presence, the banner, a page, the count;
#: the presence now with the session.
NOTIFICATIONS_PAGE = 4


async def test_the_ticket_list_counts_its_views_in_one_statement(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client, tallies = await _client(aiohttp_client, make_settings, database_url)
    for n in range(3):
        made = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": f"list-{n}"}, "text": "I want to talk to a person"})
        assert made.status == 201
    await _login(client)
    first = await client.get("/console")  # the login's own expiry is fresh: not written
    assert first.status == 200
    page = tallies[-1]
    html = await first.text()
    assert "3 open tickets" in html
    assert page.total <= LIST_PAGE, page.kinds
    assert not any(kind.startswith("UPDATE sessions") for kind in page.kinds), page.kinds
    assert page.kinds["SELECT operators"] == 1, page.kinds  # read once per request
    # read with the page, whose statement counts as `SELECT customers` (its first FROM)
    for table in ("conversations", "sla_timers", "events", "ticket_tags"):
        assert page.kinds[f"SELECT {table}"] == 0, page.kinds
    assert page.kinds["SELECT customers"] == 1, page.kinds


async def test_a_ticket_page_and_the_notifications_read_the_operators_once(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client, tallies = await _client(aiohttp_client, make_settings, database_url)
    made = await client.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "page-1"}, "text": "I want to talk to a person"})
    ticket_id = (await made.json())["ticket_id"]
    await _login(client)
    shown = await client.get(f"/console/tickets/{ticket_id}")
    assert shown.status == 200 and "I want to talk to a person" in await shown.text()
    ticket = tallies[-1]
    assert ticket.total <= TICKET_PAGE, ticket.kinds
    assert ticket.kinds["SELECT operators"] == 1, ticket.kinds
    # read with the ticket, with the messages, with the session or with the operators
    for table in ("customers", "csat_surveys", "ticket_tags", "outbox", "ticket_messages",
                  "attachments", "operator_status"):
        assert ticket.kinds[f"SELECT {table}"] == 0, ticket.kinds
    assert ticket.kinds["SELECT conversations"] == 1, ticket.kinds  # the customer card's
    assert ticket.kinds["SELECT events"] == 1, ticket.kinds  # the trail, once
    assert ticket.kinds["SELECT tags"] == 0, ticket.kinds  # the known ones with the ticket
    assert (await client.get("/console/notifications")).status == 200
    notices = tallies[-1]
    assert notices.total <= NOTIFICATIONS_PAGE, notices.kinds
    assert notices.kinds["SELECT operators"] == 0, notices.kinds  # the session's join


#: A one-word search page as an admin: session with its operator, presence, the word's
#: rarity probe and the search (on PostgreSQL in a transaction with its `SET LOCAL`), the
#: operators, the rows' customers, channels and tags in one statement (they were three: it
#: was 9 and 12), the banner; the presence with the session (it was 7 and 10).
SEARCH_PAGE = {"sqlite": 6, "postgresql": 9}


async def test_a_search_reads_its_rows_in_one_statement(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client, tallies = await _client(aiohttp_client, make_settings, database_url)
    for n in range(3):
        made = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": f"find-{n}"}, "text": "I want to talk to a person"})
        assert made.status == 201
    await _login(client)
    found = await client.get("/console/search", params={"q": "person"})
    assert found.status == 200
    search = tallies[-1]
    assert search.kinds["SELECT ticket_tags"] == 0 and search.kinds["SELECT conversations"] == 0
    assert search.total <= SEARCH_PAGE[_engine(database_url)], search.kinds
