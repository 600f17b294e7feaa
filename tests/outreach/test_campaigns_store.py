"""Campaign bookkeeping on SQLite and PostgreSQL: the audience once per customer, the
sending budget taken by one runner a round, pause and resume, and the counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.channels import Identity
from gateway.config.settings import Settings
from gateway.keys import CAMPAIGNS, STORE
from gateway.models import utcnow


@pytest.fixture
async def app(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
              database_url: str) -> TestClient:
    return await aiohttp_client(create_app(make_settings(database={"url": database_url})))


async def test_budget_pause_and_counts(app: TestClient) -> None:
    store, runner = app.app[STORE], app.app[CAMPAIGNS]
    ids = [(await store.resolve_customer(Identity("email", f"p{n}@x.test", "", f"p{n}@x.test"))
            ).id for n in range(30)]
    start = utcnow() + timedelta(days=2)
    campaign = await store.create_campaign("c", "new-models", 60, start, "admin", ids + ids)
    assert (await store.campaign_counts(campaign))["total"] == 30  # once per customer
    assert await runner.run_once(start + timedelta(seconds=5)) == 5  # 1 a second
    # a second replica in the same round finds the budget spent
    assert await runner.run_once(start + timedelta(seconds=5)) == 0
    assert await store.set_campaign_status(campaign, "paused", was="running")
    assert await runner.run_once(start + timedelta(seconds=20)) == 0
    assert await store.set_campaign_status(campaign, "running", was="paused")
    assert await runner.run_once(start + timedelta(seconds=30)) == 25
    counts = await store.campaign_counts(campaign)
    # e-mail is off in this gateway: nobody can be reached, and it says so
    assert (counts["pending"], counts["skipped"]) == (0, 30)
    assert (await store.campaign(campaign))["status"] == "done"  # type: ignore[index]
