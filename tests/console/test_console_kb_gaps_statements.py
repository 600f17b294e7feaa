"""The gap report's SQL statements do not grow with the hand-offs it reads: each hand-off's
context, operator reply and ticket come in set-based queries (on PostgreSQL each statement
is a round trip; 500 hand-offs used to cost 1,500 of them). Counted through the drivers
(`benchmarks/sql_count.py`), for the report page's request only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import Login

from benchmarks.sql_count import Tally, count_requests
from gateway.app import create_app
from gateway.config.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


@pytest.fixture
async def counted(aiohttp_client: Callable[..., Any],
                  settings: Settings) -> tuple[TestClient, list[Tally]]:
    app = create_app(settings)
    tallies = count_requests(app)
    return await aiohttp_client(app), tallies


@pytest.fixture
def client(counted: tuple[TestClient, list[Tally]]) -> TestClient:
    return counted[0]


async def _unanswered(client: TestClient, headers: dict[str, str], customer: str) -> int:
    response = await client.post("/api/v1/messages", headers=headers, json={
        "customer": {"id": customer}, "text": "Do you sell gift cards?"})
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    assert body["ticket_id"] is not None
    return int(body["ticket_id"])


async def test_the_gap_report_costs_the_same_statements_for_3_or_9_handoffs(
        counted: tuple[TestClient, list[Tally]], login: Login,
        api_headers: dict[str, str]) -> None:
    client, tallies = counted
    tickets = [await _unanswered(client, api_headers, f"c{n}") for n in range(3)]
    csrf = await login()
    assert (await client.post(f"/console/tickets/{tickets[0]}/reply", data={
        "csrf": csrf, "text": "Yes: gift cards of 25 to 500 euro."})).status == 200

    async def report(questions: int) -> Tally:
        page = await client.get("/console/reports/gaps")
        assert page.status == 200
        html = await page.text()
        assert f"{questions} such questions" in html
        assert "Yes: gift cards of 25 to 500 euro." in html
        return tallies[-1]

    three = await report(3)
    for n in range(3, 9):
        await _unanswered(client, api_headers, f"c{n}")
    nine = await report(9)
    # the session's idle expiry is written at most once a minute: not the report's
    same = [(k, three.kinds[k], nine.kinds[k]) for k in set(three.kinds) | set(nine.kinds)
            if k != "UPDATE sessions"]
    assert all(a == b for _, a, b in same), same
    # the hand-offs with their replies, their context; the tickets' attempts
    assert nine.kinds["SELECT messages"] == 2 and nine.kinds["SELECT tickets"] == 1, nine.kinds
