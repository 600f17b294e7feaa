"""The demo as `make run` starts it: config/gateway.toml and the demo KB with Velora's demo
back office (examples/backoffice/app.py) on a loopback port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from examples.backoffice.app import make_app
from gateway.app import create_app
from gateway.config.settings import load_settings
from tests.conftest import ALWAYS_OPEN, ROOT
from tests.integrations.conftest import Chat, kinds


async def _demo(aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any],
                tmp_path: Any) -> TestClient:
    backoffice = await aiohttp_server(make_app())
    settings = load_settings(ROOT / "config" / "gateway.toml", environ={
        "HELPDESK_INTEGRATIONS__BACKOFFICE__BASE_URL": str(backoffice.make_url("/api")),
        "HELPDESK_DATABASE__URL": f"sqlite:{tmp_path / 'demo.db'}"})
    settings = settings.model_copy(update={"calendar": settings.calendar.model_validate(
        ALWAYS_OPEN)})
    client: TestClient = await aiohttp_client(create_app(settings))
    return client


async def test_the_demo_looks_orders_up_in_the_demo_back_office(
        aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any],
        tmp_path: Any) -> None:
    client = await _demo(aiohttp_server, aiohttp_client, tmp_path)
    chat = Chat(client, {"Authorization": "Bearer demo-api-key"})
    assert kinds(await chat.say("Wo ist meine Bestellung VEL-30000?", "de")) == ["verify"]
    answered = await chat.say("C-2001 1000", "de")
    assert kinds(answered) == ["verified", "answer"]
    assert answered["replies"][1]["text"].startswith(
        "Ihre Bestellung VEL-30000 wird in unserem Lager vorbereitet")


@pytest.mark.parametrize(("language", "question", "expected"), [
    ("en", "Is the City M in stock in Ghent?",
     "Yes: our shop in Ghent has 3 City M in stock today."),
    ("fr", "Est-ce que le City M est en stock à Gand ?",
     "Oui : notre magasin de Gand a 3 City M en stock aujourd'hui."),
    ("nl", "Is de City M in voorraad in Gent?",
     "Ja: onze winkel in Gent heeft vandaag 3 City M in voorraad."),
    ("de", "Ist das City M in Antwerpen auf Lager?",
     "Das City M ist in Antwerpen gerade nicht auf Lager; die nächsten kommen am 9 December."
     " Auf Lager in: Ghent, Brussels."),
])
async def test_the_demo_says_whether_a_bike_is_in_stock_in_a_shop(
        aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any],
        tmp_path: Any, language: str, question: str, expected: str) -> None:
    client = await _demo(aiohttp_server, aiohttp_client, tmp_path)
    chat = Chat(client, {"Authorization": "Bearer demo-api-key"}, customer=f"s-{language}")
    answered = await chat.say(question, language)
    assert kinds(answered) == ["answer"], answered
    assert answered["replies"][0]["text"].startswith(expected)


async def test_the_demo_asks_for_the_shop_the_stock_question_did_not_name(
        aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any],
        tmp_path: Any) -> None:
    client = await _demo(aiohttp_server, aiohttp_client, tmp_path)
    chat = Chat(client, {"Authorization": "Bearer demo-api-key"})
    asked = await chat.say("Do you have the Bakfiets in stock?")
    assert kinds(asked) == ["slot"], asked
    assert asked["replies"][0]["text"] == "In which shop: Ghent, Antwerp, Brussels or Liège?"
    answered = await chat.say("Brussels")
    assert kinds(answered) == ["answer"]
    assert answered["replies"][0]["text"].startswith(
        "Yes: our shop in Brussels has 1 Bakfiets in stock today.")


@pytest.mark.parametrize(("language", "booking", "plain", "prompt"), [
    ("en", "I want to book a test ride on Saturday", "Can I take a test ride?", "In which shop"),
    ("fr", "je veux réserver un essai pour samedi", "Puis-je faire un essai ?",
     "Dans quel magasin"),
    ("nl", "ik wil een proefrit reserveren voor zaterdag", "Kan ik een proefrit maken?",
     "In welke winkel"),
    ("de", "ich möchte am Samstag eine Probefahrt buchen", "Kann ich eine Probefahrt machen?",
     "In welchem Geschäft"),
])
async def test_the_demo_books_test_rides_and_still_answers_questions_about_them(
        aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any],
        tmp_path: Any, language: str, booking: str, plain: str, prompt: str) -> None:
    client = await _demo(aiohttp_server, aiohttp_client, tmp_path)
    headers = {"Authorization": "Bearer demo-api-key"}
    informed = await Chat(client, headers, customer=f"q-{language}").say(plain, language)
    assert kinds(informed) == ["answer"]
    assert informed["replies"][0]["article_id"] == "test-ride"
    chat = Chat(client, headers, customer=f"b-{language}")
    shop = await chat.say(booking, language)
    assert kinds(shop) == ["slot"] and shop["replies"][0]["text"].startswith(prompt)
    offered = await chat.say("Ghent", language)
    assert kinds(offered) == ["slot"]
    assert offered["replies"][0]["text"].endswith("1. Sat 10:00\n2. Sat 11:00\n3. Sat 14:00")
    assert kinds(await chat.say("3", language)) == ["confirm"]
    booked = await chat.say("ja" if language in {"nl", "de"} else "yes", language)
    assert kinds(booked) == ["answer"] and "TR-0001" in booked["replies"][0]["text"]
