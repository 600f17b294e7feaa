"""Web chat back-pressure (issue 21): a message is acknowledged as soon as it is stored, its
reply follows; when the process decides as many messages as it may at once, one more is
told "busy, retrying" at once (never a silent wait) and goes through when sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import PIPELINE, STORE
from tests.test_webchat import hello, receive_until


async def test_ack_on_store_and_busy_when_the_process_is_full(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        monkeypatch: Any) -> None:
    app = create_app(make_settings(webchat={"max_in_flight": 1}))
    client: TestClient = await aiohttp_client(app)
    pipeline = app[PIPELINE]
    release = asyncio.Event()
    decide = pipeline._process

    async def held_decision(*args: Any, **kwargs: Any) -> None:
        await release.wait()  # the decision of the first message takes its time
        await decide(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_process", held_decision)
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

