"""The web chat against a hostile client, through the real WebSocket: sessions are the
server's, limits hold across sockets, junk frames get error frames and the socket stays."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from connectors.webchat.connector import CHANNEL, address_of
from gateway.app import create_app
from gateway.channels import ConversationKey
from gateway.config.settings import Settings
from gateway.keys import STORE
from tests.test_webchat import hello, receive_until


@pytest.fixture
async def chat(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
               database_url: str) -> TestClient:
    """On SQLite and PostgreSQL."""
    return await aiohttp_client(create_app(make_settings(database={"url": database_url})))


@pytest.fixture
async def strict(aiohttp_client: Callable[..., Any],
                 make_settings: Callable[..., Settings]) -> TestClient:
    """Small limits that do not refill during a test."""
    return await aiohttp_client(create_app(make_settings(webchat={
        "session_burst": 3, "session_per_minute": 0.001, "address_burst": 5,
        "address_per_minute": 0.001, "new_sessions_per_minute": 4})))


async def outcomes(ws: aiohttp.ClientWebSocketResponse, count: int) -> dict[str, dict[str, Any]]:
    """The ack or error frame of each of `count` messages, by client_id."""
    found: dict[str, dict[str, Any]] = {}
    while len(found) < count:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] in ("ack", "error") and frame.get("client_id"):
            found[frame["client_id"]] = frame
    return found


async def ack_and_reply(ws: aiohttp.ClientWebSocketResponse,
                        client_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ack of a message and the bot's reply to it, in whichever order they come (the
    outbox may push the reply before the ack is sent)."""
    ack: dict[str, Any] | None = None
    replies: list[dict[str, Any]] = []
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == "ack" and frame["client_id"] == client_id:
            ack = frame
        elif frame["type"] == "message" and frame["author"] == "bot":
            replies.append(frame)
        after = [r for r in replies if ack is not None and r["id"] > ack["message_id"]]
        if ack is not None and after:
            return ack, after[0]


async def test_a_session_the_client_made_up_is_replaced_by_the_servers(
        strict: TestClient) -> None:
    chosen = "attacker-chosen-session-0001"
    async with strict.ws_connect("/chat/ws") as ws:
        welcome = await hello(ws, chosen)
        session = welcome["session"]
        assert session != chosen and len(session) >= 32  # 192 random bits, url-safe
        await ws.send_json({"type": "message", "client_id": "a", "text": "I want a human"})
        await receive_until(ws, "ack", client_id="a")
    async with strict.ws_connect("/chat/ws") as ws:  # the real one is resumed
        again = await hello(ws, session)
        assert again["session"] == session and again["conversation_id"] is not None
    store = strict.app[STORE]
    assert await store.conversation_at(ConversationKey(CHANNEL, address_of(chosen))) is None


async def test_limits_hold_across_sockets_sessions_and_new_sessions(strict: TestClient) -> None:
    # one session, three sockets: the session's burst (3) is shared
    async with strict.ws_connect("/chat/ws") as first:
        session = (await hello(first))["session"]
        sockets = [first]
        for _ in range(2):
            ws = await strict.ws_connect("/chat/ws")
            await hello(ws, session)
            sockets.append(ws)
        for n, ws in enumerate(sockets):
            for m in range(2):
                await ws.send_json({"type": "message", "client_id": f"s{n}-{m}",
                                    "text": f"question {n} {m}"})
        results: dict[str, dict[str, Any]] = {}
        for ws in sockets:
            results |= await outcomes(ws, 2)
        for ws in sockets[1:]:
            await ws.close()
    acked = [r for r in results.values() if r["type"] == "ack"]
    refused = [r for r in results.values() if r["type"] == "error"]
    assert len(acked) == 3 and len(refused) == 3 and all(r["retry"] for r in refused)

    # the address's burst (5) is shared by its sessions: 3 were used above
    async with strict.ws_connect("/chat/ws") as two, strict.ws_connect("/chat/ws") as three:
        await hello(two)
        await hello(three)
        for n in range(2):
            await two.send_json({"type": "message", "client_id": f"t{n}", "text": "hi two"})
            await three.send_json({"type": "message", "client_id": f"u{n}", "text": "hi three"})
        both = await outcomes(two, 2) | await outcomes(three, 2)
    assert sum(r["type"] == "ack" for r in both.values()) == 2

    # 4 new sessions a minute per address: the three above and one more; the fifth is refused
    async with strict.ws_connect("/chat/ws") as fourth:
        await hello(fourth)
    async with strict.ws_connect("/chat/ws") as fifth:
        await fifth.send_json({"type": "hello", "session": None})
        refusal = await fifth.receive_json(timeout=10)
        assert refusal["type"] == "error" and refusal["retry"] is True
        closing = await fifth.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    async with strict.ws_connect("/chat/ws") as back:  # a known session is still resumed
        assert (await hello(back, session))["session"] == session


async def test_a_message_without_letters_or_digits_opens_no_ticket(chat: TestClient) -> None:
    store = chat.app[STORE]
    async with chat.ws_connect("/chat/ws") as ws:
        await ws.send_json({"type": "hello", "session": None, "lang": "fr-BE"})
        await receive_until(ws, "welcome")
        for n, text in enumerate(["???", "  …  !!", "👍👍", "🙂 ?! ¿¡", "—"]):
            await ws.send_json({"type": "message", "client_id": f"e{n}", "text": text})
            ack, reply = await ack_and_reply(ws, f"e{n}")
            assert reply["kind"] == "smalltalk"
            assert reply["text"] == ("Comment puis-je vous aider ? Dites-moi en quelques mots"
                                     " ce dont vous avez besoin.")
            assert await store.open_ticket_of(ack["conversation_id"]) is None
        await ws.send_json({"type": "message", "client_id": "h", "text": "un humain svp"})
        human = await receive_until(ws, "message", kind="handoff")
        assert human["author"] == "bot"


async def test_text_no_database_stores_gets_an_error_frame_and_the_socket_stays(
        chat: TestClient) -> None:
    async with chat.ws_connect("/chat/ws") as ws:
        await ws.send_str('{"type": "hello", "session": null, "name": "Ann\\u0000"}')
        assert (await ws.receive_json(timeout=10))["error"].startswith("name: Value error")
        await hello(ws)
        for n, bad in enumerate(["\\u0000", "\\ud800", "x\\udfffy"]):
            await ws.send_str(f'{{"type": "message", "client_id": "b{n}", "text": "hi {bad}"}}')
            refused = await receive_until(ws, "error", client_id=f"b{n}")
            assert refused["error"].startswith("text:") and "retry" not in refused
        await ws.send_str('{"type": "message", "client_id": "x\\u0000", "text": "hi"}')
        assert (await ws.receive_json(timeout=10))["error"].startswith("client_id:")
        await ws.send_json({"type": "message", "client_id": "ok",
                            "text": "How long does delivery take?"})
        await receive_until(ws, "ack", client_id="ok")


async def test_malformed_frames_get_error_frames_and_the_socket_stays(
        chat: TestClient) -> None:
    async with chat.ws_connect("/chat/ws") as ws:
        await ws.send_str(json.dumps({"type": "hello", "after": 2**70}))
        assert (await ws.receive_json(timeout=10))["error"].startswith("after:")
        await hello(ws)
        junk: list[str | bytes] = [
            b"\x00\x01binary",
            "[" * 30_000 + "]" * 30_000,   # too deep for the JSON parser
            "1e999999", '"a string"', "not json",
            json.dumps({"type": "message", "client_id": "a1", "text": "hi", "action": [1]}),
            json.dumps({"type": "message", "client_id": "a2", "text": "hi", "action": {}}),
            json.dumps({"type": "message", "client_id": "a3", "text": "hi", "action": "x"}),
            json.dumps({"type": "message", "client_id": "a4", "text": {"a": 1}}),
            json.dumps({"type": "message", "client_id": "a5", "text": "hi", "language": 5}),
            json.dumps({"type": "ping"}), json.dumps({"type": ["hello"]}),
            json.dumps({"type": "hello"}),   # twice
        ]
        for frame in junk:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
            reply = await ws.receive_json(timeout=10)
            assert reply["type"] == "error", frame[:40]
        await ws.send_json({"type": "message", "client_id": "ok",
                            "text": "How long does delivery take?"})
        await receive_until(ws, "ack", client_id="ok")


async def test_the_origin_check_compares_scheme_host_and_port(
        strict: TestClient, aiohttp_client: Callable[..., Any],
        make_settings: Callable[..., Settings]) -> None:
    host = f"{strict.host}:{strict.port}"
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    for origin in (f"https://{host}", f"http://{strict.host}:1", f"ws://{host}",
                   f"http://{host}.evil.example", f"http://evil.example/{host}"):
        response = await strict.get("/chat/ws", headers={**upgrade, "Origin": origin})
        assert response.status == 403, origin
    async with strict.ws_connect("/chat/ws", origin=f"http://{host}") as ws:
        assert (await hello(ws))["session"]
    # behind a proxy that terminates HTTPS: the public URL's origin is the gateway's own
    proxied = await aiohttp_client(create_app(make_settings(
        server={"public_url": "https://support.example.be"})))
    async with proxied.ws_connect("/chat/ws", origin="https://support.example.be") as ws:
        assert (await hello(ws))["session"]
    refused = await proxied.get("/chat/ws", headers={**upgrade,
                                                     "Origin": "http://support.example.be"})
    assert refused.status == 403


async def test_a_name_cannot_put_a_link_into_the_bots_answer(client: TestClient) -> None:
    name = "[Reset your password here](https://evil.example/login) ![x](https://evil.example/t)"
    async with client.ws_connect("/chat/ws") as ws:
        await ws.send_json({"type": "hello", "session": None, "name": name})
        await receive_until(ws, "welcome")
        await ws.send_json({"type": "message", "client_id": "q", "text": "My delivery is late"})
        _, answer = await ack_and_reply(ws, "q")
    assert answer["kind"] == "answer"
    assert "evil.example" in answer["html"]  # the name is there, as text...
    assert "<a" not in answer["html"] and "<img" not in answer["html"]  # ...not as a link
    assert "[Reset your password here](https://evil.example/login)" in answer["html"]
