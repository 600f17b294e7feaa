"""Identity verification by the bot, through the API channel: an account-specific article
is answered only after the customer gave a customer number and postal code that belong
together in the company's directory; wrong details get one more try, then a person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.config.settings import Settings, load_settings
from gateway.errors import ConfigError
from gateway.keys import STORE

DIRECTORY = ("number,postal_code,name,email,segment\n"
             "C-1042,9000,Ann Peeters,ann@example.be,consumer\n"
             "C-2001,1000,Luc Dubois,luc@example.be,consumer\n")


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    (tmp_path / "customers.csv").write_text(DIRECTORY, encoding="utf-8")
    return make_settings(customers={"directory": str(tmp_path / "customers.csv")})


async def _say(client: TestClient, headers: dict[str, str], text: str,
               conversation_id: int | None = None) -> dict[str, Any]:
    answer = await client.post("/api/v1/messages", headers=headers, json={
        "customer": {"id": "ann-1", "name": "Ann"}, "text": text,
        "conversation_id": conversation_id, "language": "en"})
    assert answer.status == 201, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


def _kinds(body: dict[str, Any]) -> list[str]:
    return [reply["kind"] for reply in body["replies"]]


async def test_the_bot_verifies_before_an_account_specific_answer(
        client: TestClient, api_headers: dict[str, str]) -> None:
    asked = await _say(client, api_headers, "Where is my order?")
    assert _kinds(asked) == ["verify"] and asked["ticket_id"] is None
    assert "customer number and postal code" in asked["replies"][0]["text"]
    conversation = asked["conversation_id"]

    wrong = await _say(client, api_headers, "C-1042 1000", conversation)  # Luc's postal code
    assert _kinds(wrong) == ["verify"]
    assert "do not match our records" in wrong["replies"][0]["text"]
    right = await _say(client, api_headers, "my number is c1042, postcode 9000", conversation)
    # the order-status article looks the order up: it asks for the number now
    # (tests/integrations/test_order_status.py has the lookup)
    assert _kinds(right) == ["verified", "slot"]
    assert "What is your order number?" in right["replies"][1]["text"]

    store = client.app[STORE]
    stored = await store.get_conversation(conversation)
    assert stored is not None and stored.verified_number == "C-1042"
    customer = await store.get_customer(stored.customer_id)
    assert customer is not None and customer.number == "C-1042"
    again = await _say(client, api_headers, "Can I get a copy of my invoice?", conversation)
    assert _kinds(again) == ["answer"]  # verified once per conversation
    events = [e.type for e in await store.events(conversation_id=conversation)]
    assert events.count("verification.failed") == 1
    assert events.count("verification.succeeded") == 1


async def test_wrong_details_twice_go_to_a_person(
        client: TestClient, api_headers: dict[str, str]) -> None:
    asked = await _say(client, api_headers, "Where is my order?")
    conversation = asked["conversation_id"]
    await _say(client, api_headers, "C-9999 9000", conversation)  # no such customer
    given_up = await _say(client, api_headers, "C-1042 9001", conversation)
    assert _kinds(given_up) == ["handoff"] and given_up["ticket_id"] is not None
    ticket = await client.app[STORE].get_ticket(given_up["ticket_id"])
    assert ticket is not None and ticket.queue == "logistics"  # the article's queue
    assert ticket.bot_attempts[0]["reason"] == "identity could not be verified"


async def test_another_question_instead_of_the_details_is_answered_as_such(
        client: TestClient, api_headers: dict[str, str]) -> None:
    asked = await _say(client, api_headers, "Where is my order?")
    other = await _say(client, api_headers, "What are your opening hours?",
                       asked["conversation_id"])
    assert _kinds(other) == ["answer"]
    assert "Monday to Saturday" in other["replies"][0]["text"]
    # numbers that are no customer number + postal code are no failed attempt either
    again = await _say(client, api_headers, "Can you check the status of my order please?",
                       asked["conversation_id"])
    order = await _say(client, api_headers, "I ordered 2 bikes, order VEL-20481, where is it?",
                       asked["conversation_id"])
    assert _kinds(again) == ["verify"] and _kinds(order) == ["verify"]  # asked, not refused
    events = await client.app[STORE].events(conversation_id=asked["conversation_id"])
    assert "verification.failed" not in [e.type for e in events]


def test_a_broken_directory_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("number,name\nC-1,Ann\n", encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text('[customers]\ndirectory = "customers.csv"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"customers\.directory.*missing column.*postal_code"):
        load_settings(config)
    (tmp_path / "customers.csv").unlink()
    with pytest.raises(ConfigError, match=r"customers\.directory.*No such file"):
        load_settings(config)
