"""The dashboards over HTTP: figures from conversations that came in through the API
channel, a chart and a table per section, CSV downloads, filters checked, agents refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login

from gateway.models import Operator, utcnow
from gateway.store import ticket_queries


async def test_supervisors_see_the_desk_in_charts_tables_and_csv(
        client: TestClient, login: Login, handoff: Handoff, api_headers: dict[str, str],
        make_operator: Callable[..., Awaitable[Operator]]) -> None:
    answered = await client.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "bot-only"}, "text": "What are your opening hours?"})
    assert answered.status == 201
    ticket = (await handoff("I want to talk to a human about my invoice"))["ticket_id"]
    csrf = await login()
    reply = await client.post(f"/console/tickets/{ticket}/reply",
                              data={"csrf": csrf, "text": "Here is your invoice."})
    assert reply.status == 200
    await make_operator("sue", role="supervisor")
    await login("sue", AGENT_PASSWORD)

    page = await client.get("/console/dashboards")
    assert page.status == 200
    html = await page.text()
    for section in ("volume-by-day", "volume-by-channel", "containment", "timings", "sla",
                    "backlog", "operators", "csat-by-queue", "csat-by-operator"):
        assert f'id="{section}"' in html
        assert f'href="/console/dashboards/{section}.csv?' in html
    assert html.count('<svg class="chart"') >= 8 and "<desc id=" in html
    assert "<style" not in html and " style=" not in html  # the CSP allows no inline style

    today = utcnow().date().isoformat()
    volume = await client.get("/console/dashboards/volume-by-channel.csv",
                              params={"from": today, "to": today})
    assert volume.status == 200 and volume.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO((await volume.read()).decode("utf-8-sig"))))
    assert rows == [{"channel": "api", "tickets": "1"}]
    contained = await client.get("/console/dashboards/containment.csv")
    rows = list(csv.DictReader(io.StringIO((await contained.read()).decode("utf-8-sig"))))
    assert [(r["article"], r["contained"]) for r in rows] == [("opening-hours-shops", "1")]
    operators = await client.get("/console/dashboards/operators.csv")
    rows = list(csv.DictReader(io.StringIO((await operators.read()).decode("utf-8-sig"))))
    assert [(r["operator"], r["replies"], r["tickets_closed"]) for r in rows] == [
        ("admin", "1", "0")]

    other = await client.get("/console/dashboards", params={"queue": "sales"})
    assert other.status == 200 and '<option value="sales" selected>' in await other.text()
    for bad in ({"queue": "nope"}, {"from": "2026-02-30"}, {"from": "2020-01-01"}):
        assert (await client.get("/console/dashboards", params=bad)).status == 400
    assert (await client.get("/console/dashboards/nothing.csv")).status == 404


async def test_first_response_counts_business_hours_over_a_weekend(
        client: TestClient, login: Login, handoff: Handoff,
        make_operator: Callable[..., Awaitable[Operator]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Opened on Friday at 17:30 and answered on Monday at 09:30 (Brussels; the office is open
    09:00-18:00 on weekdays): one business hour, not 64 wall-clock ones."""
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    monkeypatch.setattr(ticket_queries, "utcnow", lambda: friday)
    ticket = (await handoff("I want to talk to a human about my invoice"))["ticket_id"]
    monkeypatch.setattr(ticket_queries, "utcnow", lambda: friday + timedelta(hours=64))
    csrf = await login()
    assert (await client.post(f"/console/tickets/{ticket}/reply",
                              data={"csrf": csrf, "text": "Here it is."})).status == 200
    monkeypatch.undo()
    await make_operator("sue", role="supervisor")
    await login("sue", AGENT_PASSWORD)
    friday = {"from": "2026-11-27", "to": "2026-11-27"}
    timings = await client.get("/console/dashboards/timings.csv", params=friday)
    rows = list(csv.DictReader(io.StringIO((await timings.read()).decode("utf-8-sig"))))
    assert [(r["queue"], r["replied"], r["first_response_median"]) for r in rows] == [
        ("general", "1", "60.0"), ("(all queues)", "1", "60.0")]
    html = await (await client.get("/console/dashboards", params=friday)).text()
    assert "Median first response (business hours, minutes)" in html
    assert '<text class="value" x="' in html and ">60 min</text>" in html


async def test_operators_close_times_count_business_hours_over_a_weekend(
        client: TestClient, login: Login, handoff: Handoff,
        make_operator: Callable[..., Awaitable[Operator]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Opened on Friday at 17:30 and closed on Monday at 10:30 (Brussels; open 09:00-18:00 on
    weekdays): two business hours to the agent's closing, not 65 wall-clock ones."""
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    monkeypatch.setattr(ticket_queries, "utcnow", lambda: friday)
    ticket = (await handoff("I want to talk to a human about my invoice"))["ticket_id"]
    monkeypatch.setattr(ticket_queries, "utcnow", lambda: friday + timedelta(hours=64))
    csrf = await login()
    assert (await client.post(f"/console/tickets/{ticket}/reply",
                              data={"csrf": csrf, "text": "Here it is."})).status == 200
    monkeypatch.setattr(ticket_queries, "utcnow", lambda: friday + timedelta(hours=65))
    closed = await client.post(f"/console/tickets/{ticket}/close",
                               data={"csrf": csrf, "outcome": "answered"})
    assert "Ticket closed." in await closed.text()
    monkeypatch.undo()
    await make_operator("sue", role="supervisor")
    await login("sue", AGENT_PASSWORD)
    week = {"from": "2026-11-27", "to": "2026-11-30"}
    operators = await client.get("/console/dashboards/operators.csv", params=week)
    rows = list(csv.DictReader(io.StringIO((await operators.read()).decode("utf-8-sig"))))
    assert [(r["operator"], r["tickets_closed"], r["open_to_close_median"],
             r["open_to_close_p90"]) for r in rows] == [("admin", "1", "120.0", "120.0")]
    html = await (await client.get("/console/dashboards", params=week)).text()
    assert "the business minutes (the queue&#39;s opening hours) from opening to closing" in html


async def test_agents_get_no_dashboards(
        client: TestClient, login: Login,
        make_operator: Callable[..., Awaitable[Operator]]) -> None:
    await make_operator("gina")
    await login("gina", AGENT_PASSWORD)
    assert (await client.get("/console/dashboards")).status == 403
    assert (await client.get("/console/dashboards/sla.csv")).status == 403
