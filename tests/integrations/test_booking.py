"""Booking a test ride through the REST API: the shop, a slot among those the back office
offers, a confirmation, then one POST with an Idempotency-Key, so a retried or repeated
submit never books twice. The KB is the demo's (config/kb/book-test-ride.yaml)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.config.settings import Settings
from gateway.keys import STORE
from tests.conftest import ALWAYS_OPEN
from tests.integrations.conftest import Chat, integration, kinds
from tests.integrations.fake_backoffice import FakeBackOffice
from tests.test_webchat import ack_and_answer, hello

Fake = tuple[FakeBackOffice, TestServer]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], backoffice: Fake) -> Settings:
    backoffice[0].slots = {"Ghent": ["Sat 10:00", "Sat 11:00"], "Antwerp": ["Sat 15:00"]}
    return make_settings(calendar=ALWAYS_OPEN,
                         integrations={"backoffice": integration(backoffice[1])})


def _posts(fake: FakeBackOffice) -> list[Any]:
    return [call for call in fake.calls if call.method == "POST"]


async def _up_to_confirmation(chat: Chat, fake: FakeBackOffice) -> dict[str, Any]:
    shop = await chat.say("I want to book a test ride on Saturday")
    assert kinds(shop) == ["slot"] and "Ghent, Antwerp" in shop["replies"][0]["text"]
    offered = await chat.say("Ghent please")
    assert kinds(offered) == ["slot"]
    assert offered["replies"][0]["text"].endswith("1. Sat 10:00\n2. Sat 11:00")
    assert fake.calls[-1].query == {"shop": "Ghent"}
    confirm = await chat.say("2")
    assert kinds(confirm) == ["confirm"]
    assert confirm["replies"][0]["text"] == (
        "I will book a 30-minute test ride in Ghent on Sat 11:00.\n\n"
        "Reply yes to confirm or no to cancel.")
    assert _posts(fake) == []  # nothing is booked before the customer says yes
    return confirm


async def test_a_test_ride_is_booked_after_the_customer_confirms(
        chat: Chat, backoffice: Fake) -> None:
    fake, _ = backoffice
    await _up_to_confirmation(chat, fake)
    booked = await chat.say("yes")
    assert kinds(booked) == ["answer"]
    assert booked["replies"][0]["text"].startswith(
        "Booked: test ride in Ghent on Sat 11:00, reference TR-0001.")
    (post,) = _posts(fake)
    assert post.body == {"shop": "Ghent", "slot": "Sat 11:00", "language": "en"}
    assert post.headers["Idempotency-Key"].startswith("helpdesk-")
    again = await chat.say("yes")  # a second "yes" is no second booking
    assert "answer" not in kinds(again) or "Booked" not in again["replies"][0]["text"]
    assert len(fake.bookings) == 1 and len(_posts(fake)) == 1


async def test_a_booking_whose_answer_was_lost_is_retried_and_booked_once(
        chat: Chat, backoffice: Fake) -> None:
    fake, _ = backoffice
    fake.lose_next_booking_response = True  # booked, then 504 instead of the answer
    await _up_to_confirmation(chat, fake)
    booked = await chat.say("oui")
    assert kinds(booked) == ["answer"] and "reference TR-0001" in booked["replies"][0]["text"]
    first, retry = _posts(fake)
    assert first.headers["Idempotency-Key"] == retry.headers["Idempotency-Key"]
    assert len(fake.bookings) == 1


async def test_no_books_nothing(chat: Chat, backoffice: Fake) -> None:
    fake, _ = backoffice
    await _up_to_confirmation(chat, fake)
    cancelled = await chat.say("no thanks")
    assert cancelled["replies"][0]["text"].startswith("All right, nothing has been booked.")
    assert _posts(fake) == [] and fake.bookings == {}
    events = await chat.client.app[STORE].events(conversation_id=chat.conversation_id)
    assert "action.cancelled" in [e.type for e in events]


async def test_the_shop_in_the_question_fills_its_slot(chat: Chat, backoffice: Fake) -> None:
    offered = await chat.say("book me a test ride in Ghent")
    assert kinds(offered) == ["slot"] and offered["replies"][0]["text"].endswith("2. Sat 11:00")
    assert backoffice[0].calls[0].query == {"shop": "Ghent"}


async def test_no_free_slot_hands_off_honestly(chat: Chat, backoffice: Fake) -> None:
    backoffice[0].slots = {}
    await chat.say("I want to book a test ride on Saturday")
    handed = await chat.say("Brussels")
    assert kinds(handed) == ["handoff"]
    assert "I see nothing available right now" in handed["replies"][0]["text"]
    ticket = await chat.client.app[STORE].get_ticket(handed["ticket_id"])
    assert ticket is not None and ticket.queue == "sales"
    assert ticket.bot_attempts[0]["reason"] == "book-test-ride: no slot available (HTTP 200)"


async def test_the_web_chat_offers_the_choices_as_buttons(
        client: TestClient, backoffice: Fake) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        await hello(ws)
        await ws.send_json({"type": "message", "client_id": "c1",
                            "text": "I want to book a test ride on Saturday"})
        _, shops = await ack_and_answer(ws, "c1")
        assert (shops["kind"], shops["choices"]) == (
            "slot", ["Ghent", "Antwerp", "Brussels", "Liège"])
        await ws.send_json({"type": "message", "client_id": "c2", "text": "1"})  # a button
        _, slots = await ack_and_answer(ws, "c2")
        assert (slots["kind"], slots["choices"]) == ("slot", ["Sat 10:00", "Sat 11:00"])
        await ws.send_json({"type": "message", "client_id": "c3", "text": "2"})
        _, confirm = await ack_and_answer(ws, "c3")
        assert confirm["kind"] == "confirm" and "Ghent on Sat 11:00" in confirm["text"]
