"""The Grafana dashboard in docs/ queries only what GET /metrics exposes: every metric name
in its PromQL is in a real scrape (parsed with the Prometheus text parser), so a renamed
metric fails here rather than as an empty panel in production."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard.json"
METRIC = re.compile(r"\bhelpdesk_[a-z0-9_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("_sum", "_count", ""), "gauge": ("",), "info": ("_info",),
            "stateset": ("",), "unknown": ("",)}


def _queries(dashboard: dict[str, Any]) -> list[str]:
    found = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    found += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return found


def _exposed(text: str) -> set[str]:
    """Every series name a scraper sees: a counter family `x` is queried as `x_total`."""
    return {family.name + suffix for family in text_string_to_metric_families(text)
            for suffix in SUFFIXES[family.type]}


async def test_every_metric_the_dashboard_queries_is_in_a_scrape(
        client: TestClient, api_headers: dict[str, str]) -> None:
    response = await client.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "grafana"}, "text": "How long does delivery take?"})
    assert response.status == 201
    scrape = await client.get("/metrics")
    assert scrape.status == 200
    exposed = _exposed(await scrape.text())
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {name for query in _queries(dashboard) for name in METRIC.findall(query)}
    assert len(queried) >= 10
    assert queried - exposed == set()


def test_the_dashboard_is_importable_json() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] == "helpdesk-gateway"
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])
