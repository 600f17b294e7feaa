"""Hand-off as operators see it: priority from urgency × impact, automatic assignment."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from gateway.access.auth import hash_password
from gateway.keys import STORE
from gateway.tickets.routing import set_presence


async def handoff(client: TestClient, headers: dict[str, str], text: str,
                  customer: str) -> dict[str, Any]:
    response = await client.post("/api/v1/messages", headers=headers, json={
        "customer": {"id": customer}, "text": text})
    assert response.status == 201
    body = dict(await response.json())
    assert body["replies"][0]["kind"] == "handoff", body
    return body


async def test_urgent_words_raise_the_priority(client: TestClient,
                                               api_headers: dict[str, str]) -> None:
    calm = await handoff(client, api_headers, "I want to talk to a person", "calm")
    urgent = await handoff(client, api_headers,
                           "Dringend: ik wil met een medewerker spreken", "urgent")
    store = client.app[STORE]
    calm_ticket = await store.get_ticket(calm["ticket_id"])
    urgent_ticket = await store.get_ticket(urgent["ticket_id"])
    assert calm_ticket is not None and urgent_ticket is not None
    assert calm_ticket.priority == "P3"
    assert urgent_ticket.priority == "P2"
    assert "urgent word" in urgent_ticket.bot_attempts[0]["priority_reasons"]


async def test_business_customers_get_a_higher_priority(client: TestClient,
                                                        api_headers: dict[str, str]) -> None:
    store = client.app[STORE]
    first = await handoff(client, api_headers, "I want to talk to a person", "acme")
    ticket = await store.get_ticket(first["ticket_id"])
    assert ticket is not None
    await store.update_customer(ticket.customer_id, segment="business")
    second = await client.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "acme"}, "text": "I want to talk to a person"})
    business = await store.get_ticket((await second.json())["ticket_id"])
    assert business is not None and business.priority == "P2"


async def test_new_ticket_goes_to_the_least_loaded_available_operator(
        client: TestClient, api_headers: dict[str, str]) -> None:
    store = client.app[STORE]
    password = hash_password("password-123")
    busy = await store.create_operator("busy", "Busy", password, "agent", ["en"], ["general"])
    idle = await store.create_operator("idle", "Idle", password, "agent", ["en"], ["general"])
    away = await store.create_operator("away", "Away", password, "agent", ["en"], ["general"])
    for operator, presence in ((busy, "available"), (idle, "available"), (away, "away")):
        await set_presence(store, operator.id, presence, capacity=5)
    for n in range(2):
        taken = await handoff(client, api_headers, "I want to talk to a person", f"x{n}")
        await store.update_ticket(taken["ticket_id"], "test", "ticket.assigned",
                                  assignee_id=busy.id, status="open")
    fresh = await handoff(client, api_headers, "I want to talk to a person", "fresh")
    ticket = await store.get_ticket(fresh["ticket_id"])
    assert ticket is not None and ticket.assignee_id == idle.id
    conversation = await store.get_conversation(ticket.conversation_id)
    assert conversation is not None and conversation.owner == "operator"


async def test_nobody_fits_leaves_the_ticket_in_its_queue(client: TestClient,
                                                          api_headers: dict[str, str]) -> None:
    store = client.app[STORE]
    dutch = await store.create_operator("nl", "NL", hash_password("password-123"), "agent",
                                        ["nl"], ["general"])
    await set_presence(store, dutch.id, "available")
    result = await handoff(client, api_headers, "I want to talk to a person please", "en-only")
    ticket = await store.get_ticket(result["ticket_id"])
    assert ticket is not None and ticket.assignee_id is None and ticket.queue == "general"


async def test_hand_offs_go_to_the_articles_queue_else_its_purpose_category_queue(
        aiohttp_client: Any, make_settings: Any) -> None:
    from gateway.app import create_app
    from gateway.keys import PIPELINE

    client = await aiohttp_client(create_app(make_settings(
        category_queues={"information": "sales", "complaint": "billing"})))
    pipeline = client.app[PIPELINE]
    assert pipeline.bot.queue_for("warranty", None) == "technical"  # the article's own queue
    assert pipeline.bot.queue_for("opening-hours-shops", None) == "sales"  # no queue: category
    assert pipeline.bot.queue_for(None, "complaint") == "billing"  # no article: conversation's
    assert pipeline.bot.queue_for(None, None) == "general"


def test_a_category_queue_must_exist(tmp_path: Any) -> None:
    import pytest

    from gateway.config.settings import load_settings
    from gateway.errors import ConfigError

    path = tmp_path / "gateway.toml"
    path.write_text('category_queues = { complaint = "nowhere" }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"category_queues\.complaint: no queue named"):
        load_settings(path, environ={})
