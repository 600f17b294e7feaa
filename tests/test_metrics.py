"""GET /metrics: Prometheus text a scraper parses, with figures that follow what happened,
and only for a local probe or a scraper holding the configured token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import OUTBOX, SLA_WATCHER, STORE
from gateway.models import utcnow
from gateway.web.timing import UNMATCHED

#: What a reverse proxy on the same machine adds: the request is not a local probe then.
PROXIED = {"X-Forwarded-For": "203.0.113.7"}


async def scrape(client: TestClient, headers: dict[str, str] | None = None
                 ) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status == 200, await response.text()
    assert response.content_type == "text/plain"
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(await response.text())
            for s in family.samples}


def total(figures: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(value for (metric, _), value in figures.items() if metric == name)


async def test_metrics_follow_messages_tickets_and_the_outbox(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client: TestClient = await aiohttp_client(create_app(
        make_settings(database={"url": database_url})))
    before = await scrape(client)
    assert total(before, "helpdesk_messages_in_total") == 0
    assert before[("helpdesk_kb_articles", ())] >= 15
    for text in ("How long does delivery to Belgium take?", "I want to talk to a human please"):
        response = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": "metrics"}, "text": text, "language": "en"})
        assert response.status == 201, await response.text()
        last = await response.json()
    figures = await scrape(client)
    assert figures[("helpdesk_messages_in_total", (("channel", "api"),))] == 2
    assert total(figures, "helpdesk_decisions_total") == 2
    for decision in ("answer", "handoff"):
        assert figures[("helpdesk_decisions_total",
                        (("decision", decision), ("language", "en")))] == 1
    assert last["ticket_id"] is not None
    assert figures[("helpdesk_tickets_open", (("queue", "general"),))] == 1
    assert figures[("helpdesk_messages_unhandled", ())] == 0
    row = await client.app[STORE].db.fetchone("SELECT COUNT(*) AS n FROM outbox")
    assert row is not None
    # the worker may deliver between two queries: the total, not each status, is stable
    assert total(figures, "helpdesk_outbox_entries") == row["n"] > 0
    assert figures[("helpdesk_outbox_oldest_pending_age_seconds", ())] >= 0


def count(figures: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    """A histogram's `_count` (or a counter's total) over the series with these labels."""
    return sum(value for (metric, series), value in figures.items() if metric == name
               and all(dict(series).get(k) == v for k, v in labels.items()))


async def test_latency_histograms_deliveries_and_sla_alarms_follow_real_traffic(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str, api_headers: dict[str, str]) -> None:
    client: TestClient = await aiohttp_client(create_app(
        make_settings(database={"url": database_url})))
    before = await scrape(client)
    assert count(before, "helpdesk_pipeline_seconds_count") == 0
    assert count(before, "helpdesk_kb_match_seconds_count") == 0
    conversations = []
    for text in ("How long does delivery to Belgium take?", "I want to talk to a human please"):
        response = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": f"latency-{len(conversations)}"}, "text": text,
            "language": "en"})
        assert response.status == 201, await response.text()
        conversations.append((await response.json())["conversation_id"])
    for conversation_id in conversations:
        response = await client.get(f"/api/v1/conversations/{conversation_id}",
                                    headers=api_headers)
        assert response.status == 200
    assert (await client.get("/no/such/page/42")).status == 404
    assert (await client.get("/no/such/page/43")).status == 404
    # the SLA tests' way: the watcher's pass at a moment long after the hand-off's ticket
    alarms = await client.app[SLA_WATCHER].run_once(utcnow() + timedelta(days=30))
    assert {n["type"] for n in alarms} == {"sla.breached"}
    await client.app[SLA_WATCHER].run_once(utcnow() + timedelta(days=31))  # written once
    figures = await scrape(client)

    assert count(figures, "helpdesk_pipeline_seconds_count", decision="answer") == 1
    assert count(figures, "helpdesk_pipeline_seconds_count", decision="handoff") == 1
    assert count(figures, "helpdesk_pipeline_seconds_sum") > 0
    assert count(figures, "helpdesk_pipeline_seconds_bucket", decision="answer", le="+Inf") == 1
    assert count(figures, "helpdesk_kb_match_seconds_count") >= 1  # the question was matched
    assert count(figures, "helpdesk_kb_match_seconds_sum") > 0

    http = "helpdesk_http_request_seconds_count"
    assert count(figures, http, route="/api/v1/messages", method="POST") == 2
    assert count(figures, http, route="/api/v1/conversations/{conversation_id}",
                 method="GET") == 2
    assert count(figures, http, route=UNMATCHED, method="GET") == 2
    assert count(figures, http, route="/metrics", method="GET") == 1  # the first scrape
    routes = {dict(series)["route"] for (metric, series) in figures if metric == http}
    assert not any("no/such" in route or route.endswith(f"/{conversations[0]}")
                   for route in routes)

    # the bot's answer goes out through the API channel's outbox (its worker, soon)
    async with asyncio.timeout(30):
        while not count(figures, "helpdesk_messages_out_total", channel="api", status="sent"):
            await client.app[OUTBOX].run_once()
            await asyncio.sleep(0.05)
            figures = await scrape(client)
    assert count(figures, "helpdesk_sla_alarms_total", kind="breached") == len(alarms) >= 1
    assert count(figures, "helpdesk_sla_alarms_total", kind="breached",
                 clock="first_response", queue="general") == 1


async def test_two_apps_in_one_process_keep_their_own_figures(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str]) -> None:
    busy: TestClient = await aiohttp_client(create_app(make_settings()))
    idle: TestClient = await aiohttp_client(create_app(make_settings()))
    response = await busy.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "busy"}, "text": "How long does delivery to Belgium take?",
        "language": "en"})
    assert response.status == 201
    assert count(await scrape(busy), "helpdesk_pipeline_seconds_count") == 1
    figures = await scrape(idle)
    assert count(figures, "helpdesk_pipeline_seconds_count") == 0
    assert count(figures, "helpdesk_http_request_seconds_count", route="/api/v1/messages") == 0



async def test_metrics_refused_from_elsewhere_without_the_token(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> None:
    token = "scrape-token-0123456789abcdef"
    client: TestClient = await aiohttp_client(create_app(
        make_settings(metrics={"token": token})))
    assert (await client.get("/metrics", headers=PROXIED)).status == 403
    wrong = {**PROXIED, "Authorization": "Bearer not-the-token"}
    assert (await client.get("/metrics", headers=wrong)).status == 403
    figures = await scrape(client, {**PROXIED, "Authorization": f"Bearer {token}"})
    assert figures[("helpdesk_kb_articles", ())] >= 15


async def test_an_empty_token_lets_no_remote_scraper_in(client: TestClient) -> None:
    assert (await client.get("/metrics", headers={**PROXIED, "Authorization": "Bearer "})
            ).status == 403
    assert (await client.get("/metrics", headers=PROXIED)).status == 403
