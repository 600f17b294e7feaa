"""The order-status article looks the order up in the back office, through the REST API
against a fake back office on loopback: slots from the question or asked for, verification
first, and an honest hand-off with a ticket whenever the lookup gives no answer."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from gateway.keys import STORE
from tests.integrations.conftest import Chat, kinds
from tests.integrations.fake_backoffice import FakeBackOffice

Fake = tuple[FakeBackOffice, TestServer]


async def _verified(chat: Chat, question: str, language: str = "en") -> dict[str, Any]:
    asked = await chat.say(question, language)
    assert kinds(asked) == ["verify"]
    return await chat.say("C-1042 9000", language)


async def test_an_order_number_in_the_question_is_looked_up_after_verification(
        chat: Chat, backoffice: Fake) -> None:
    fake, _ = backoffice
    answered = await _verified(chat, "where is my order vel-20481?")
    assert kinds(answered) == ["verified", "answer"]
    text = answered["replies"][1]["text"]
    assert "VEL-20481 left our warehouse on 2 December with bpost" in text
    assert "Expected delivery: 4 December" in text
    assert answered["ticket_id"] is None
    (call,) = fake.calls
    # the verified customer's own orders only, the number upper-cased as the slot says
    assert (call.method, call.path) == ("GET", "/customers/C-1042/orders/VEL-20481")


async def test_a_missing_order_number_is_asked_for_in_the_customers_language(
        chat: Chat, backoffice: Fake) -> None:
    asked = await _verified(chat, "Où en est ma commande ?", "fr")
    assert kinds(asked) == ["verified", "slot"]
    assert "Quel est votre numéro de commande" in asked["replies"][1]["text"]
    answered = await chat.say("c'est VEL-20418", "fr")
    assert kinds(answered) == ["answer"]
    assert answered["replies"][0]["text"] == \
        "Votre commande VEL-20418 a été livrée le 28 November."


async def test_a_wrong_format_is_asked_again_then_handed_off(chat: Chat,
                                                              backoffice: Fake) -> None:
    await _verified(chat, "Where is my order?")
    again = await chat.say("12345")
    assert kinds(again) == ["slot"]
    assert again["replies"][0]["text"].startswith("Sorry, I could not read that.")
    given_up = await chat.say("my order from Tuesday")
    assert kinds(given_up) == ["handoff"] and given_up["ticket_id"] is not None
    ticket = await chat.client.app[STORE].get_ticket(given_up["ticket_id"])
    assert ticket is not None and ticket.queue == "logistics"
    assert ticket.bot_attempts[0]["reason"] == "order-status: no valid order_number after 2" \
        " attempts"
    assert backoffice[0].calls == []


async def test_an_unknown_order_gets_the_articles_404_answer(chat: Chat,
                                                              backoffice: Fake) -> None:
    answered = await _verified(chat, "status of order VEL-99999 please")
    assert kinds(answered) == ["verified", "answer"]
    assert "I cannot find order VEL-99999 under your customer number" in \
        answered["replies"][1]["text"]


async def test_another_customers_order_is_not_shown(chat: Chat, backoffice: Fake) -> None:
    # VEL-30000 is Luc's: Ann's verified number is in the path, the back office says 404
    answered = await _verified(chat, "where is order VEL-30000")
    assert "I cannot find order VEL-30000" in answered["replies"][1]["text"]
    assert backoffice[0].calls[0].path == "/customers/C-1042/orders/VEL-30000"


async def test_server_errors_are_retried_then_answered(chat: Chat, backoffice: Fake) -> None:
    fake, _ = backoffice
    fake.fail_next = [503, 500]
    answered = await _verified(chat, "where is my order VEL-20481")
    assert kinds(answered) == ["verified", "answer"]
    assert len(fake.calls) == 3


async def test_a_back_office_that_keeps_failing_hands_off_with_the_reason(
        chat: Chat, backoffice: Fake) -> None:
    fake, _ = backoffice
    fake.fail_next = [503, 503, 503]
    handed = await _verified(chat, "where is my order VEL-20481")
    assert kinds(handed) == ["verified", "handoff"]
    text = handed["replies"][1]["text"]
    assert "cannot check this in our systems right now" in text
    assert f"ticket #{handed['ticket_id']}" in text
    ticket = await chat.client.app[STORE].get_ticket(handed["ticket_id"])
    assert ticket is not None
    assert ticket.bot_attempts[0]["reason"] == "lookup failed: backoffice: HTTP 503"
    action = next(a["action"] for a in ticket.bot_attempts if "action" in a)
    assert action["path"] == "/customers/{customer_number}/orders/{order_number}"
    assert action["slots"] == {"order_number": "VEL-20481"}
    assert action["result"] == "backoffice: HTTP 503"


@pytest.mark.parametrize("integration_overrides", [{"timeout": 0.3, "retries": 1}])
async def test_a_timeout_hands_off(chat: Chat, backoffice: Fake) -> None:
    fake, _ = backoffice
    fake.delay = 1.5
    handed = await _verified(chat, "where is my order VEL-20481")
    assert kinds(handed) == ["verified", "handoff"]
    ticket = await chat.client.app[STORE].get_ticket(handed["ticket_id"])
    assert ticket is not None
    assert ticket.bot_attempts[0]["reason"] == "lookup failed: backoffice: no answer within 0.3 s"
    assert len(fake.calls) == 2  # the first attempt and one retry


@pytest.mark.parametrize("integration_overrides", [{"max_response_bytes": 1024}])
async def test_an_oversize_response_is_not_read(chat: Chat, backoffice: Fake) -> None:
    backoffice[0].oversize = 5000
    handed = await _verified(chat, "where is my order VEL-20481")
    assert kinds(handed) == ["verified", "handoff"]
    ticket = await chat.client.app[STORE].get_ticket(handed["ticket_id"])
    assert ticket is not None
    assert ticket.bot_attempts[0]["reason"] == \
        "lookup failed: backoffice: response over 1024 bytes"
    assert len(backoffice[0].calls) == 1  # an oversize answer is not asked for again


async def test_a_response_without_the_fields_the_answer_needs_hands_off(
        chat: Chat, backoffice: Fake) -> None:
    backoffice[0].orders[("C-1042", "VEL-20481")] = {"status": "shipped"}
    handed = await _verified(chat, "where is my order VEL-20481")
    assert kinds(handed) == ["verified", "handoff"]
    ticket = await chat.client.app[STORE].get_ticket(handed["ticket_id"])
    assert ticket is not None
    assert "shipped_on" in ticket.bot_attempts[0]["reason"]


async def test_a_delayed_order_is_told_and_handed_to_people(chat: Chat,
                                                             backoffice: Fake) -> None:
    backoffice[0].orders[("C-1042", "VEL-20481")] = {"status": "delayed"}
    told = await _verified(chat, "where is my order VEL-20481")
    assert kinds(told) == ["verified", "answer", "handoff"]
    assert "is delayed. A colleague is checking it" in told["replies"][1]["text"]
    assert told["ticket_id"] is not None  # the promise has a ticket behind it


async def test_another_question_instead_of_the_number_is_answered_as_such(
        chat: Chat, backoffice: Fake) -> None:
    await _verified(chat, "Where is my order?")
    other = await chat.say("What are your opening hours?")
    assert kinds(other) == ["answer"] and "Monday to Saturday" in other["replies"][0]["text"]
    assert backoffice[0].calls == []


async def test_a_corrected_order_number_is_looked_up_again(chat: Chat, backoffice: Fake) -> None:
    first = await _verified(chat, "what's the status of order VEL-20481")
    assert "VEL-20481 left our warehouse" in first["replies"][1]["text"]
    corrected = await chat.say("no, it's VEL-20418")
    assert kinds(corrected) == ["answer"]
    assert corrected["replies"][0]["text"] == "Your order VEL-20418 was delivered on 28 November."
    assert [call.path for call in backoffice[0].calls] == [
        "/customers/C-1042/orders/VEL-20481", "/customers/C-1042/orders/VEL-20418"]
    unhelpful = await chat.say("that didn't help")  # still what it was
    assert kinds(unhelpful) == ["handoff"]
