"""Call-backs through the API channel and the store on SQLite and PostgreSQL: asked in each
language, planned once on the ticket, attempts logged, the assignee reminded once before
the window ends, and a follow-up date bringing a pending ticket back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import HUB, SETTINGS, STORE
from gateway.models import utcnow
from gateway.sla.callbacks import CallbackWatch
from tests.conftest import ALWAYS_OPEN, API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
ASKED = {"en": ("call me tomorrow after 5", "we will call you back on"),
         "nl": ("bel me morgen na 17u", "we bellen u terug op"),
         "fr": ("rappelez-moi lundi matin", "nous vous rappelons le"),
         "de": ("ruf mich morgen früh an", "Wir rufen Sie am")}


@pytest.fixture
async def api(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
              database_url: str) -> TestClient:
    settings = make_settings(database={"url": database_url}, calendar=ALWAYS_OPEN)
    return await aiohttp_client(create_app(settings))


async def ask(client: TestClient, text: str, language: str, message_id: str,
              status: int = 201) -> dict[str, Any]:
    response = await client.post("/api/v1/messages", headers=HEADERS, json={
        "customer": {"id": f"c-{language}", "name": "Ann"}, "text": text,
        "language": language, "message_id": message_id})
    assert response.status == status, await response.text()
    return dict(await response.json())


async def test_a_call_back_is_planned_once_in_each_language(api: TestClient) -> None:
    store = api.app[STORE]
    for language, (text, confirmation) in ASKED.items():
        answer = await ask(api, text, language, f"m-{language}")
        assert answer["ticket_id"] is not None
        assert confirmation in answer["replies"][0]["text"]
        again = await ask(api, text, language, f"m-{language}", status=200)
        assert again["duplicate"]
        (planned,) = await store.callbacks_of(answer["ticket_id"])
        assert planned.kind == "call_back" and planned.window_end > planned.window_start
    due, total = await store.due_callbacks(None, utcnow() + timedelta(days=14))
    assert total == 4 and [r["callback"].window_start for r in due] == sorted(
        r["callback"].window_start for r in due)
    assert (await store.due_callbacks(("sales",), utcnow() + timedelta(days=14)))[1] == 0


async def test_attempts_reminders_and_follow_ups(api: TestClient) -> None:
    store, hub = api.app[STORE], api.app[HUB]
    answer = await ask(api, "please call me back", "en", "m-1")
    ticket_id = answer["ticket_id"]
    (planned,) = await store.callbacks_of(ticket_id)
    await store.log_callback_attempt(planned.id, None, "no_answer")
    assert (await store.get_callback(planned.id)).status == "open"  # type: ignore[union-attr]

    sla = api.app[SETTINGS].sla  # two replicas' watchers
    first, second = CallbackWatch(store, hub, sla), CallbackWatch(store, hub, sla)
    later = planned.window_end
    reminded = await first.run_once(later) + await second.run_once(later)
    assert [n["type"] for n in reminded] == ["callback.reminder"]  # one replica, once

    start = utcnow() + timedelta(days=1)
    await store.log_callback_attempt(planned.id, None, "call_back_at",
                                     again=(start, start + timedelta(hours=1)))
    moved = await store.get_callback(planned.id)
    assert moved is not None and moved.reminded_at is None and moved.attempts == 2
    await store.log_callback_attempt(planned.id, None, "reached")
    assert (await store.get_callback(planned.id)).status == "done"  # type: ignore[union-attr]

    await store.update_ticket(ticket_id, "admin", "ticket.status", status="pending")
    at = utcnow() + timedelta(hours=3)
    await store.add_callback(ticket_id, "follow_up", at, at, created_by="admin")
    assert await first.run_once(utcnow()) == []
    back = await first.run_once(at) + await second.run_once(at)
    assert [n["type"] for n in back] == ["follow_up.due"]
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None and ticket.status == "open"


async def test_access_shows_and_erasure_removes_what_the_customer_said_of_the_window(
        api: TestClient) -> None:
    from gateway.app import channel_states
    from gateway.privacy.personal_data import erase, export

    store = api.app[STORE]
    answer = await ask(api, "call me tomorrow after 5, my number is 0470 12 34 56", "en", "m")
    (planned,) = await store.callbacks_of(answer["ticket_id"])
    assert "0470" in planned.phrase
    await store.log_callback_attempt(planned.id, None, "no_answer", "tried 0470 12 34 56")
    ticket = await store.get_ticket(answer["ticket_id"])
    assert ticket is not None
    exported = await export(store, ticket.customer_id, channel_states())
    assert [c["phrase"] for c in exported["call_backs"]] == [planned.phrase]
    assert exported["notifications"] == [] and exported["contact_opt_outs"] == []
    await erase(store, ticket.customer_id, channel_states(), "admin")
    (after,) = await store.callbacks_of(answer["ticket_id"])
    assert after.phrase == ""
    assert [a["note"] for a in await store.callback_attempts(planned.id)] == [""]
