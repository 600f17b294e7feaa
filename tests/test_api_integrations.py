"""Each API key is an integration that owns its customers and conversations; hostile
input gets a 4xx, never a 500 (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config.settings import Settings, load_settings
from gateway.errors import ConfigError
from gateway.keys import STORE, TICKETS

CRM = {"Authorization": "Bearer crm-key-0123456789"}
APP = {"Authorization": "Bearer app-key-9876543210"}
TRUSTED = {"Authorization": "Bearer shop-key-5555555555"}


INTEGRATIONS = {"integrations": {
    "crm": {"key": "crm-key-0123456789"},
    "app": {"key": "app-key-9876543210"},
    "shop": {"key": "shop-key-5555555555", "link_by_email": True}}}


@pytest.fixture
async def api(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
              database_url: str) -> TestClient:
    """On SQLite and PostgreSQL."""
    settings = make_settings(database={"url": database_url}, api=INTEGRATIONS)
    return await aiohttp_client(create_app(settings))


@pytest.fixture
async def api_sqlite(aiohttp_client: Callable[..., Any],
                     make_settings: Callable[..., Settings]) -> TestClient:
    """For what the database has no part in (authentication, validation)."""
    return await aiohttp_client(create_app(make_settings(api=INTEGRATIONS)))


async def send(client: TestClient, headers: dict[str, str], text: str, status: int = 201,
               **customer: Any) -> dict[str, Any]:
    top = {k: customer.pop(k) for k in ("conversation_id", "message_id") if k in customer}
    body: dict[str, Any] = {"customer": {"id": "cust-1", "name": "Ann", **customer},
                            "text": text, **top}
    response = await client.post("/api/v1/messages", json=body, headers=headers)
    assert response.status == status, await response.text()
    return dict(await response.json())


async def test_another_integration_gets_404_on_reading_and_posting(api: TestClient) -> None:
    mine = await send(api, CRM, "I want to talk to a human")
    conversation_id = mine["conversation_id"]
    admin = await api.app[STORE].operator_by_username("admin")
    assert admin is not None
    await api.app[TICKETS].reply(admin, mine["ticket_id"], "Hello Ann, I am on it.")

    other = await api.get(f"/api/v1/conversations/{conversation_id}", headers=APP)
    assert other.status == 404
    # the same customer id, from another integration, is another customer
    await send(api, APP, "show me", status=404, conversation_id=conversation_id)

    own = await api.get(f"/api/v1/conversations/{conversation_id}", headers=CRM)
    assert own.status == 200
    assert (await own.json())["messages"][-1]["text"] == "Hello Ann, I am on it."
    theirs = await send(api, APP, "hello")
    assert theirs["conversation_id"] != conversation_id
    customers = {(await api.app[STORE].get_conversation(c)).customer_id  # type: ignore[union-attr]
                 for c in (conversation_id, theirs["conversation_id"])}
    assert len(customers) == 2


async def test_the_same_message_id_from_two_integrations_is_two_messages(
        api: TestClient) -> None:
    first = await send(api, CRM, "hello", message_id="m-1")
    second = await send(api, APP, "hello", message_id="m-1")
    assert second["duplicate"] is False
    assert second["conversation_id"] != first["conversation_id"]


async def test_anything_but_bearer_and_a_known_key_is_401(api_sqlite: TestClient) -> None:
    for authorization in [
        "crm-key-0123456789",              # no scheme
        "Basic crm-key-0123456789",        # another scheme
        "Bearer",                          # no key
        "Bearer clé-non-ascii-ü",          # non-ASCII key (sent as UTF-8 bytes)
        "Bearer crm-key-0123456789x",      # a longer key sharing the prefix
        None,                              # no header at all
    ]:
        headers = {} if authorization is None else \
            {"Authorization": authorization.encode().decode("latin-1")}
        response = await api_sqlite.post("/api/v1/messages", json={}, headers=headers)
        assert response.status == 401, authorization
        assert response.headers["WWW-Authenticate"] == "Bearer"
    response = await api_sqlite.get("/api/v1/conversations/1",
                                    headers={"Authorization": "bearer crm-key-0123456789"})
    assert response.status == 404  # the scheme is case-insensitive (RFC 9110)


async def test_an_untrusted_email_does_not_join_a_verified_customer(api: TestClient) -> None:
    """The shop is trusted with addresses and created Ann; the CRM sends the same address
    under another name: it gets a customer of its own, and never learns Ann's name."""
    ann = await send(api, TRUSTED, "hello", id="shop-7", name="Ann Peeters",
                     email="ann@example.be")
    linked = await send(api, TRUSTED, "hello again", id="shop-8", name="",
                        email="ANN@example.be")
    store = api.app[STORE]

    async def customer_of(result: dict[str, Any]) -> int:
        conversation = await store.get_conversation(result["conversation_id"])
        assert conversation is not None
        return conversation.customer_id

    assert await customer_of(linked) == await customer_of(ann)  # trusted: one customer
    mallory = await send(api, CRM, "Where is my order?", id="crm-1", name="Mallory",
                         email="ann@example.be")
    assert await customer_of(mallory) != await customer_of(ann)
    assert all("Ann" not in reply["text"] for reply in mallory["replies"])
    stranger = await store.get_customer(await customer_of(mallory))
    assert stranger is not None and stranger.email is None and stranger.name == "Mallory"


async def test_invalid_email_addresses_are_refused(api_sqlite: TestClient) -> None:
    for email in ["%", "ann", "ann@", "@example.be", "a b@example.be", "ann@example",
                  "ann@example.be\n", "<ann@example.be>"]:
        response = await api_sqlite.post("/api/v1/messages", headers=CRM, json={
            "customer": {"id": "c", "email": email}, "text": "hello"})
        assert response.status == 400, email
        assert (await response.json())["error"].startswith("customer.email:")
    await send(api_sqlite, CRM, "hello", email="john_doe%1@example.be")  # odd, but valid


async def test_ids_beyond_64_bits_are_not_found(api: TestClient) -> None:
    for raw in (str(2**63), str(2**64), "9" * 40, "0", "٣"):
        response = await api.get(f"/api/v1/conversations/{raw}", headers=CRM)
        assert response.status == 404, raw
    response = await api.post("/api/v1/messages", headers=CRM, json={
        "customer": {"id": "c"}, "text": "hello", "conversation_id": 2**63})
    assert response.status == 400


async def test_nul_and_lone_surrogates_are_400(api: TestClient) -> None:
    where = {"text": "text", "name": "customer.name", "id": "customer.id",
             "message_id": "message_id"}
    for field in where:
        for bad in ("\\u0000", "\\ud800", "\\udfff"):
            values = {"id": "cust", "name": "Ann", "text": "hello", "message_id": "m"}
            values[field] = f"x{bad}y"
            raw = ('{{"customer": {{"id": "{id}", "name": "{name}"}}, "text": "{text}",'
                   ' "message_id": "{message_id}"}}'.format(**values))
            response = await api.post("/api/v1/messages", data=raw, headers={
                **CRM, "Content-Type": "application/json"})
            assert response.status == 400, (field, bad, await response.text())
            assert (await response.json())["error"].startswith(
                "body: Invalid JSON" if bad != "\\u0000" else f"{where[field]}: Value error")
    assert (await send(api, CRM, "hello"))["conversation_id"]  # and the API still works


def test_the_old_keys_list_is_refused_with_the_way_forward(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text('[api]\nkeys = ["k1"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"api.integrations.NAME.*HELPDESK_API__INTEGRATIONS"):
        load_settings(path, environ={})
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"api\.integrations\.crm\.key: .*empty key"):
        load_settings(path, environ={"HELPDESK_API__INTEGRATIONS__CRM__KEY": " "})
    with pytest.raises(ConfigError, match="integration name"):
        load_settings(path, environ={"HELPDESK_API__INTEGRATIONS__A:B__KEY": "k"})
