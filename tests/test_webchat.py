"""The web chat WebSocket protocol: answers pushed live, nothing lost or doubled on reconnect."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from connectors.webchat.connector import MAX_FRAME_BYTES


async def receive_until(ws: aiohttp.ClientWebSocketResponse, type_: str,
                        **match: Any) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
            return dict(frame)


async def ack_and_answer(ws: aiohttp.ClientWebSocketResponse,
                         client_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The message's ack and the bot's answer, in whichever order they come (the outbox may
    push the answer before the socket acknowledges the question)."""
    ack: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None
    while ack is None or answer is None:
        frame = dict(await ws.receive_json(timeout=10))
        if frame["type"] == "ack" and frame.get("client_id") == client_id:
            ack = frame
        elif frame["type"] == "message" and frame.get("author") == "bot":
            answer = frame
    return ack, answer


async def hello(ws: aiohttp.ClientWebSocketResponse, session: str | None = None,
                after: int = 0) -> dict[str, Any]:
    await ws.send_json({"type": "hello", "session": session, "after": after})
    return await receive_until(ws, "welcome")


async def test_question_gets_an_answer_pushed_to_the_socket(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        welcome = await hello(ws)
        assert len(welcome["session"]) >= 20
        await ws.send_json({"type": "message", "client_id": "c1",
                            "text": "How long does delivery take?"})
        ack, answer = await ack_and_answer(ws, "c1")
        assert answer["kind"] == "answer"
        assert answer["id"] > ack["message_id"]
        assert "<p>" in answer["html"] and answer["feedback"] is True


async def test_resent_message_after_reconnect_is_stored_once(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        session = (await hello(ws))["session"]
        await ws.send_json({"type": "message", "client_id": "same",
                            "text": "How long does delivery take?"})
        first_ack, first_answer = await ack_and_answer(ws, "same")
    async with client.ws_connect("/chat/ws") as ws:
        await hello(ws, session, after=first_answer["id"])
        await ws.send_json({"type": "message", "client_id": "same",
                            "text": "How long does delivery take?"})
        again, replayed = await ack_and_answer(ws, "same")
    assert again["message_id"] == first_ack["message_id"]
    assert replayed["id"] == first_answer["id"]


async def test_reconnecting_tab_catches_up_on_missed_replies(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        session = (await hello(ws))["session"]
        await ws.send_json({"type": "message", "client_id": "q", "text": "I want a human"})
        await receive_until(ws, "message", kind="handoff")
    async with client.ws_connect("/chat/ws") as ws:
        welcome = await hello(ws, session)
        customer = await receive_until(ws, "message", author="customer")
        bot = await receive_until(ws, "message", author="bot")
    assert welcome["conversation_id"] is not None
    assert customer["text"] == "I want a human"
    assert customer["client_id"] == "q"  # so a tab still waiting for its ack shows it once
    assert bot["kind"] == "handoff"


async def test_sessions_are_separate_conversations(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as one, client.ws_connect("/chat/ws") as two:
        await hello(one)
        await hello(two)
        await one.send_json({"type": "message", "client_id": "a", "text": "I want a human"})
        first = await receive_until(one, "ack")
        await two.send_json({"type": "message", "client_id": "a", "text": "I want a human"})
        second = await receive_until(two, "ack")
    assert first["conversation_id"] != second["conversation_id"]


async def test_foreign_origin_is_refused(client: TestClient) -> None:
    response = await client.get("/chat/ws", headers={
        "Origin": "https://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert response.status == 403


async def test_oversized_frame_closes_the_socket(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        await hello(ws)
        await ws.send_str("x" * (MAX_FRAME_BYTES + 1))
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.ERROR)


async def test_flood_is_rate_limited_without_losing_the_rest(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        await hello(ws)
        for n in range(12):
            await ws.send_json({"type": "message", "client_id": f"f{n}", "text": f"hello {n}"})
        outcomes = {}
        while len(outcomes) < 12:
            frame = await ws.receive_json(timeout=10)
            if frame["type"] in ("ack", "error") and frame.get("client_id"):
                outcomes[frame["client_id"]] = frame
    refused = [f for f in outcomes.values() if f["type"] == "error"]
    assert refused and all(f["retry"] is True for f in refused)


async def test_demo_page_embeds_the_widget(client: TestClient) -> None:
    page = await (await client.get("/")).text()
    assert '<script src="/chat/static/widget.js"' in page
    script = await client.get("/chat/static/widget.js")
    assert script.status == 200
    # UTF-8 whatever the embedding page's encoding ("reconnecting…" is not ASCII), one scope
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    source = await script.text()
    assert "reconnecting…" in source and source.rstrip().endswith("})();")
    assert (await client.get("/chat/static/widget.css")).status == 200  # the static files too


async def test_a_first_visit_is_greeted_in_the_visitors_language(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        await ws.send_json({"type": "hello", "session": None, "after": 0, "lang": "fr"})
        welcome = await receive_until(ws, "welcome")
        assert welcome["greeting"].startswith("Bonjour ! Je suis l'assistant de Velora.")
        await ws.send_json({"type": "message", "client_id": "q",
                            "text": "How long does delivery take?"})
        await receive_until(ws, "message", author="bot")
    async with client.ws_connect("/chat/ws") as ws:  # the same visitor comes back
        await ws.send_json({"type": "hello", "session": welcome["session"], "after": 0,
                            "lang": "fr"})
        assert "greeting" not in await receive_until(ws, "welcome")



async def test_an_answer_to_a_nameless_customer_leaves_no_stray_comma(client: TestClient) -> None:
    async with client.ws_connect("/chat/ws") as ws:
        await hello(ws)
        await ws.send_json({"type": "message", "client_id": "late",
                            "text": "My delivery is late"})
        answer = await receive_until(ws, "message", author="bot")
    assert "We're sorry, that your order" in answer["text"]
    assert ",," not in answer["text"] and ",," not in answer["html"]
