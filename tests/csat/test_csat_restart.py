"""The delay survives a restart: a survey scheduled by one gateway process is sent by the
next one on the same database (both engines), once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import STORE, TICKETS
from tests.conftest import ALWAYS_OPEN, API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


async def test_a_survey_scheduled_before_a_restart_is_sent_after_it(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str) -> None:
    settings = make_settings(database={"url": database_url}, calendar=ALWAYS_OPEN, csat={
        "enabled": True, "delay_minutes": 0.05, "sweep_interval": 0.2})
    first = await aiohttp_client(create_app(settings))
    asked = await (await first.post("/api/v1/messages", headers=HEADERS, json={
        "customer": {"id": "r1"}, "text": "I want to talk to a person"})).json()
    admin = await first.app[STORE].operator_by_username("admin")
    await first.app[TICKETS].set_status(admin, asked["ticket_id"], "solved")
    survey = await first.app[STORE].survey_of_ticket(asked["ticket_id"])
    assert survey is not None and survey.status == "scheduled"
    await first.close()  # the process stops before the survey is due (3 s)

    second = await aiohttp_client(create_app(settings))
    deadline = time.monotonic() + 30
    kinds: list[str] = []
    while time.monotonic() < deadline and "survey" not in kinds:
        await asyncio.sleep(0.2)
        got = await second.get(f"/api/v1/conversations/{asked['conversation_id']}",
                               headers=HEADERS)
        kinds = [m["kind"] for m in (await got.json())["messages"]]
    assert kinds.count("survey") == 1
    sent = await second.app[STORE].survey_of_ticket(asked["ticket_id"])
    assert sent is not None and sent.status == "sent"
    entries = await second.app[STORE].outbox_entries(conversation_id=asked["conversation_id"])
    assert [e.payload["kind"] for e in entries].count("survey") == 1
