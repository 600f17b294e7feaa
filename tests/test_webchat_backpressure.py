"""Web chat back-pressure (issue 21): a message is acknowledged as soon as it is stored, its
reply follows; when the process decides as many messages as it may at once, one more is
told "busy, retrying" at once (never a silent wait) and goes through when sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import PIPELINE, STORE
from gateway.store.codec import ts
from tests.test_webchat import hello, receive_until


def hold_decisions(app: Any, monkeypatch: Any) -> asyncio.Event:
    """Every decision waits until the returned event is set (storing and acks do not)."""
    pipeline = app[PIPELINE]
    release = asyncio.Event()
    decide = pipeline._process

    async def held_decision(*args: Any, **kwargs: Any) -> None:
        await release.wait()
        await decide(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_process", held_decision)
    return release


async def test_ack_on_store_and_busy_when_the_process_is_full(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        monkeypatch: Any) -> None:
    app = create_app(make_settings(webchat={"max_in_flight": 1}))
    client: TestClient = await aiohttp_client(app)
    release = hold_decisions(app, monkeypatch)
    async with client.ws_connect("/chat/ws") as first, client.ws_connect("/chat/ws") as second:
        await hello(first)
        await hello(second)
        await first.send_json({"type": "message", "client_id": "a1",
                               "text": "How long does delivery take?"})
        ack = await receive_until(first, "ack", client_id="a1")  # stored, not yet decided
        stored = await app[STORE].messages(ack["conversation_id"])
        assert [m.direction for m in stored] == ["inbound"]

        await second.send_json({"type": "message", "client_id": "b1",
                                "text": "Can I do a test ride?"})
        busy = await receive_until(second, "error", client_id="b1")
        assert busy["busy"] is True and busy["retry"] is True

        release.set()
        answer = await receive_until(first, "message", author="bot")
        assert answer["kind"] == "answer"
        # The widget's resend. The answer is pushed as the first decision commits, a moment
        # before that message gives its place back: busy again then, resent again.
        for _ in range(20):
            await second.send_json({"type": "message", "client_id": "b1",
                                    "text": "Can I do a test ride?"})
            frame = await second.receive_json(timeout=10)
            while frame.get("client_id") != "b1" or frame["type"] not in ("ack", "error"):
                frame = await second.receive_json(timeout=10)
            if frame["type"] == "ack":
                break
            assert frame.get("busy") is True
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("never acknowledged")
        await receive_until(second, "message", author="bot")



async def _feedback(ws: Any, client_id: str, pushed: list[int] | None = None
                    ) -> dict[str, Any]:
    """The message's ack or its error frame (busy, slow down); the ids of the bot's
    messages pushed meanwhile go to `pushed`."""
    while True:
        frame = dict(await ws.receive_json(timeout=10))
        if frame.get("client_id") == client_id and frame["type"] in ("ack", "error"):
            return frame
        if frame["type"] == "message" and frame.get("author") == "bot" and pushed is not None:
            pushed.append(frame["id"])


async def test_a_burst_beyond_the_bound_gets_acks_or_busy_before_any_decision(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        monkeypatch: Any) -> None:
    """Six visitors send four messages each at once, three times what the process may
    hold: while no decision can finish, every message is acknowledged (stored) or told
    busy, every visitor's first one is acknowledged, a visitor's later ones say they wait
    in the queue; resent as told, every message is answered exactly once."""
    app = create_app(make_settings(webchat={"max_in_flight": 8}))
    client: TestClient = await aiohttp_client(app)
    release = hold_decisions(app, monkeypatch)
    sockets = [await client.ws_connect("/chat/ws") for _ in range(6)]
    try:
        for ws in sockets:
            await hello(ws)
        ids = [[f"v{v}-{n}" for n in range(4)] for v in range(len(sockets))]
        for ws, mine in zip(sockets, ids, strict=True):
            for client_id in mine:
                await ws.send_json({"type": "message", "client_id": client_id,
                                    "text": "How long does delivery take?"})
        busy: list[tuple[int, str]] = []
        acked: dict[str, int] = {}
        pushed: list[list[int]] = [[] for _ in sockets]
        for v, (ws, mine) in enumerate(zip(sockets, ids, strict=True)):
            first: dict[str, dict[str, Any]] = {}  # busy comes at once, an ack once stored
            while len(first) < len(mine):  # the decisions are all still held
                frame = dict(await ws.receive_json(timeout=10))
                if frame["type"] in ("ack", "error"):
                    first.setdefault(frame["client_id"], frame)
            for n, client_id in enumerate(mine):
                frame = first[client_id]
                if frame["type"] == "ack":
                    acked[client_id] = frame["message_id"]
                    assert frame.get("queued") is (True if n else None)
                else:
                    assert frame["busy"] is True and frame["retry_after"] >= 1.0
                    busy.append((v, client_id))
        assert all(mine[0] in acked for mine in ids)  # every visitor's first message
        assert len(acked) <= 8 and len(acked) + len(busy) == 24
        release.set()
        while busy:  # the widget's resends, here without waiting `retry_after`
            v, client_id = busy.pop(0)
            await asyncio.sleep(0.02)
            await sockets[v].send_json({"type": "message", "client_id": client_id,
                                        "text": "How long does delivery take?"})
            frame = await _feedback(sockets[v], client_id, pushed[v])
            if frame["type"] == "ack":
                acked[client_id] = frame["message_id"]
            else:
                assert frame.get("busy") is True, frame  # never "slow down"
                busy.append((v, client_id))
        store = app[STORE]
        for _ in range(200):
            replies = {v: [m for m in await store.messages(acked[mine[0]])
                           if m.direction == "outbound"] for v, mine in enumerate(ids)}
            if all(len(r) == 4 for r in replies.values()):
                break
            await asyncio.sleep(0.05)
        for v, mine in enumerate(ids):
            stored = await store.messages(acked[mine[0]])
            inbound = [m for m in stored if m.direction == "inbound"]
            assert sorted(m.channel_message_id.partition(":")[2] for m in inbound) == mine
            assert all(m.handled for m in inbound)
            assert len(replies[v]) == 4  # one answer each, none twice
            # ... pushed to the visitor's socket, each once
            while len(pushed[v]) < 4:
                frame = await sockets[v].receive_json(timeout=10)
                if frame["type"] == "message" and frame.get("author") == "bot":
                    pushed[v].append(frame["id"])
            assert sorted(pushed[v]) == sorted(m.id for m in replies[v])
        # A resend of an answered message (a lost ack): its ack and its answer again, the
        # same message ids; nothing stored twice.
        await sockets[0].send_json({"type": "message", "client_id": "v0-0",
                                    "text": "How long does delivery take?"})
        again = await _feedback(sockets[0], "v0-0")
        assert again["type"] == "ack" and again["message_id"] == acked["v0-0"]
        replayed = await receive_until(sockets[0], "message", author="bot")
        assert replayed["id"] in pushed[0]
        assert len(await store.messages(acked["v0-0"])) == 8
    finally:
        for ws in sockets:
            await ws.close()


async def test_resending_a_busy_message_is_not_counted_against_the_rate_limit(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        monkeypatch: Any) -> None:
    app = create_app(make_settings(webchat={"max_in_flight": 1, "session_burst": 2,
                                            "session_per_minute": 1}))
    client: TestClient = await aiohttp_client(app)
    release = hold_decisions(app, monkeypatch)
    async with client.ws_connect("/chat/ws") as first, client.ws_connect("/chat/ws") as second:
        await hello(first)
        await hello(second)
        await first.send_json({"type": "message", "client_id": "a1",
                               "text": "How long does delivery take?"})
        assert (await _feedback(first, "a1"))["type"] == "ack"
        for _ in range(5):  # more than the session's two messages at once
            await second.send_json({"type": "message", "client_id": "b1",
                                    "text": "Can I do a test ride?"})
            assert (await _feedback(second, "b1")).get("busy") is True
        release.set()
        await receive_until(first, "message", author="bot")
        for _ in range(50):
            await second.send_json({"type": "message", "client_id": "b1",
                                    "text": "Can I do a test ride?"})
            frame = await _feedback(second, "b1")
            if frame["type"] == "ack":
                break
            assert frame.get("busy") is True, frame
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("never acknowledged")
        await receive_until(second, "message", author="bot")


async def test_a_message_acknowledged_but_never_decided_is_answered_by_the_resume_sweep(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        monkeypatch: Any) -> None:
    """The process dies between the ack and the decision (here: the decision never runs,
    its claim is left as a dead process leaves it): once the claim runs out, the resume
    sweep decides the stored message, and the visitor gets its answer, once."""
    app = create_app(make_settings())
    client: TestClient = await aiohttp_client(app)
    pipeline = app[PIPELINE]

    async def died(stored: Any) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(pipeline, "decide", died)
    async with client.ws_connect("/chat/ws") as ws:
        await hello(ws)
        await ws.send_json({"type": "message", "client_id": "c1",
                            "text": "How long does delivery take?"})
        ack = await _feedback(ws, "c1")
        assert ack["type"] == "ack"
        store = app[STORE]
        assert await pipeline.resume_unhandled() == 0  # claimed: not the sweep's yet
        await store.db.execute("UPDATE messages SET claimed_until = ? WHERE id = ?",
                               ts(datetime(2000, 1, 1, tzinfo=UTC)), ack["message_id"])
        assert await pipeline.resume_unhandled() == 1
        answer = await receive_until(ws, "message", author="bot")
        assert answer["kind"] == "answer"
        stored = await store.messages(ack["conversation_id"])
        assert [m.direction for m in stored] == ["inbound", "outbound"]
        assert stored[0].handled
        assert await pipeline.resume_unhandled() == 0
