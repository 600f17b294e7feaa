"""The dashboards' volume and backlog over HTTP, on SQLite and PostgreSQL: the CSVs and the
page read from the daily rows (gateway/sla/daily.py) are those read from the tickets."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.models import Operator, utcnow
from gateway.sla import daily


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


async def _csvs(client: TestClient, periods: list[dict[str, str]]) -> list[list[list[str]]]:
    found = []
    for params in periods:
        for name in ("volume-by-day", "volume-by-channel", "volume-by-language",
                     "volume-by-category", "backlog"):
            response = await client.get(f"/console/dashboards/{name}.csv", params=params)
            assert response.status == 200
            found.append(list(csv.reader(io.StringIO((await response.read()).decode(
                "utf-8-sig")))))
    return found


async def test_volume_and_backlog_from_the_daily_rows_are_the_tickets_own(
        client: TestClient, login: Login, handoff: Handoff,
        make_operator: Callable[..., Awaitable[Operator]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Tickets handed off through the API, one transferred to sales, one closed: the CSVs and
    the page are the same read from the daily rows (gateway/sla/daily.py) as from the
    tickets themselves."""
    tickets = [(await handoff(f"I want to talk to a human about invoice {n}",
                              customer_id=f"cust-{n}",
                              language=("en", "fr", "nl")[n]))["ticket_id"] for n in range(3)]
    csrf = await login()
    assert (await client.post(f"/console/tickets/{tickets[0]}/transfer", data={
        "csrf": csrf, "queue": "sales", "reason": "a quote"})).status == 200
    assert (await client.post(f"/console/tickets/{tickets[1]}/close", data={
        "csrf": csrf, "outcome": "answered"})).status == 200
    await make_operator("sue", role="supervisor")
    await login("sue", AGENT_PASSWORD)
    today = utcnow().date()
    periods = [{}, {"queue": "sales"}, {"from": today.isoformat(), "to": today.isoformat()},
               {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()},
               {"from": (today - timedelta(days=3)).isoformat(),
                "to": (today - timedelta(days=1)).isoformat(), "queue": "general"}]
    stored = await _csvs(client, periods)  # each request's sweep counts what changed
    assert await daily.ready(client.app[STORE].db)
    page = await (await client.get("/console/dashboards", params={"queue": "sales"})).text()

    async def never(db: object) -> bool:
        return False

    monkeypatch.setattr(daily, "ready", never)
    assert await _csvs(client, periods) == stored
    assert await (await client.get("/console/dashboards", params={"queue": "sales"})).text() \
        == page
    assert stored[1][1:] == [["api", "3"]]  # volume by channel, last 30 days
    assert stored[4][-1] == [today.isoformat(), "2"]  # backlog: two still open
    assert stored[9][-1] == [today.isoformat(), "1"]  # of which one in sales
