"""`POST /api/v1/notifications` through HTTP, on SQLite and PostgreSQL: once per
idempotency key, the integration's own customers only, skipped with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import channel_states, create_app
from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.privacy.personal_data import erase

CRM = {"Authorization": "Bearer crm-key-0123456789"}
SHOP = {"Authorization": "Bearer shop-key-5555555555"}
INTEGRATIONS = {"integrations": {
    "crm": {"key": "crm-key-0123456789"},
    "shop": {"key": "shop-key-5555555555", "link_by_email": True}}}
FIELDS = {"delivery_date": "3 December", "tracking_url": "https://track.example/VEL-1"}


@pytest.fixture
async def api(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
              database_url: str) -> TestClient:
    settings = make_settings(database={"url": database_url}, api=INTEGRATIONS)
    return await aiohttp_client(create_app(settings))


async def notify(client: TestClient, headers: dict[str, str], key: str, status: int = 201,
                 **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"customer": {"id": "cust-1", "name": "Ann"},
                            "template_id": "order-shipped", "fields": FIELDS,
                            "order_ref": "VEL-1", "idempotency_key": key, **overrides}
    response = await client.post("/api/v1/notifications", json=body, headers=headers)
    assert response.status == status, await response.text()
    return dict(await response.json())


async def first_contact(client: TestClient, headers: dict[str, str], **customer: Any) -> None:
    """The customer once wrote through this integration (its app): that is their channel."""
    response = await client.post("/api/v1/messages", headers=headers, json={
        "customer": {"id": "cust-1", "name": "Ann", **customer}, "text": "hello",
        "language": "nl"})
    assert response.status == 201, await response.text()


async def test_a_notification_reaches_the_customer_once_per_idempotency_key(
        api: TestClient) -> None:
    await first_contact(api, CRM)
    first = await notify(api, CRM, "shipped-VEL-1")
    assert first["status"] == "queued" and first["channel"] == "api"
    assert first["language"] == "nl"  # the customer's language
    again = await notify(api, CRM, "shipped-VEL-1", status=200)
    assert again == first
    store = api.app[STORE]
    messages = [m for m in await store.messages(first["conversation_id"])
                if m.kind == "notification"]
    assert len(messages) == 1
    assert messages[0].text.startswith("Hallo Ann, uw bestelling VEL-1")
    assert len(await store.outbox_entries(conversation_id=first["conversation_id"])) == 1
    # the integration's client reads it, and answers in the same conversation
    seen = await api.get(f"/api/v1/conversations/{first['conversation_id']}", headers=CRM)
    assert [m["kind"] for m in (await seen.json())["messages"]] == ["notification"]
    answer = await api.post("/api/v1/messages", headers=CRM, json={
        "customer": {"id": "cust-1"}, "text": "Bedankt!",
        "conversation_id": first["conversation_id"]})
    assert answer.status == 201


async def test_the_same_key_for_another_notification_is_a_conflict(api: TestClient) -> None:
    await first_contact(api, CRM)
    await notify(api, CRM, "k-1")
    await notify(api, CRM, "k-1", status=409, order_ref="VEL-2")


async def test_another_integration_cannot_reach_the_customer(api: TestClient) -> None:
    await first_contact(api, CRM)
    # the same customer id from another (trusted) integration without an address: a stranger
    await notify(api, SHOP, "k-1", status=404)
    await notify(api, CRM, "k-2", status=404, customer={"id": "nobody"})


async def test_fields_are_escaped_and_missing_ones_read_neutrally(api: TestClient) -> None:
    await first_contact(api, CRM)
    sent = await notify(api, CRM, "k-1", fields={
        "delivery_date": "[Pay here](https://evil.example) <script>"})
    (message,) = [m for m in await api.app[STORE].messages(sent["conversation_id"])
                  if m.kind == "notification"]
    assert "\\[Pay here\\]" in message.text and "\\<script\\>" in message.text
    assert "{fields" not in message.text and "volgen: \n" not in message.text


async def test_an_opted_out_customer_is_skipped_with_the_reason(api: TestClient) -> None:
    await first_contact(api, CRM)
    response = await api.put("/api/v1/contact-preferences", headers=CRM, json={
        "customer": {"id": "cust-1"}, "opt_out": ["order"]})
    assert response.status == 200
    assert (await response.json())["opted_out"] == ["order"]
    skipped = await notify(api, CRM, "k-1")
    assert (skipped["status"], skipped["reason"]) == ("skipped", "opted_out")
    assert await notify(api, CRM, "k-1", status=200) == skipped
    # another category still reaches them
    progress = await notify(api, CRM, "k-2", template_id="ticket-progress",
                            fields={"progress": "repaired"})
    assert progress["status"] == "queued"


async def test_an_erased_customer_is_skipped_not_created_again(api: TestClient) -> None:
    sent = await notify(api, SHOP, "k-1", customer={"id": "c-9", "email": "ann@example.com"})
    assert sent["status"] == "skipped" and sent["reason"] == "no_channel"  # e-mail is off
    store = api.app[STORE]
    customer = await store.customer_by_email("ann@example.com")
    assert customer is not None
    await erase(store, customer.id, channel_states(), "admin")
    erased = await notify(api, SHOP, "k-2", customer={"id": "c-9", "email": "ann@example.com"})
    assert (erased["status"], erased["reason"]) == ("skipped", "erased")
    by_address = await notify(api, SHOP, "k-3", customer={"id": "other",
                                                          "email": "ANN@example.com"})
    assert by_address["reason"] == "erased"
    assert await store.customer_by_email("ann@example.com") is None


async def test_a_ticket_of_someone_else_is_not_found(api: TestClient) -> None:
    await first_contact(api, CRM)
    await notify(api, CRM, "k-1", status=404, ticket_id=999)


async def test_an_unknown_template_is_refused_and_not_recorded(api: TestClient) -> None:
    await first_contact(api, CRM)
    await notify(api, CRM, "k-1", status=422, template_id="no-such-template")
    assert (await notify(api, CRM, "k-1"))["status"] == "queued"


async def test_the_openapi_description_lists_notifications(api: TestClient) -> None:
    spec = await (await api.get("/api/v1/openapi.json")).json()
    assert "/api/v1/notifications" in spec["paths"]
    assert "NotificationIn" in spec["components"]["schemas"]
