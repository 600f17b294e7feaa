"""Web-chat replies are pushed right after their decision commits (issue 21), not at the
outbox worker's next round: leased by id as the worker would lease them, so each is still
sent exactly once, by one worker, however the worker's own rounds fall."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.channels import Outbound
from gateway.config.settings import Settings
from gateway.keys import CONNECTORS, STORE
from gateway.models import OutboxEntry
from tests.test_webchat import ack_and_answer, hello

QUESTION = "How long does delivery take?"


async def _gateway(aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
                   database_url: str, poll_interval: float
                   ) -> tuple[TestClient, list[OutboxEntry], Counter[int]]:
    """The gateway, with what its outbox worker claims and what the web chat sends."""
    app = create_app(make_settings(database={"url": database_url},
                                   outbox={"poll_interval": poll_interval}))
    client: TestClient = await aiohttp_client(app)
    store, connector = app[STORE], app[CONNECTORS]["webchat"]
    claimed: list[OutboxEntry] = []
    sends: Counter[int] = Counter()
    claim, send = store.claim_outbox, connector.send

    async def recorded_claim(owner: str, lease: timedelta, limit: int = 20
                             ) -> list[OutboxEntry]:
        entries = await claim(owner, lease, limit)
        claimed.extend(entries)
        return entries

    async def counted_send(outbound: Outbound) -> dict[str, Any] | None:
        sends[outbound.outbox_id] += 1
        return await send(outbound)

    store.claim_outbox = recorded_claim  # type: ignore[method-assign]
    connector.send = counted_send  # type: ignore[method-assign]
    return client, claimed, sends


async def test_a_reply_arrives_without_waiting_for_the_outbox_round(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str) -> None:
    # An hour between the worker's rounds: a reply that waited for the worker (or for it
    # to be woken) is not what the visitor sees; the pipeline sent it after its commit.
    client, claimed, sends = await _gateway(aiohttp_client, make_settings, database_url,
                                            poll_interval=3600)
    async with client.ws_connect("/chat/ws") as ws:
        await hello(ws)
        for n in range(3):
            started = asyncio.get_running_loop().time()
            await ws.send_json({"type": "message", "client_id": f"c{n}", "text": QUESTION})
            ack, answer = await ack_and_answer(ws, f"c{n}")
            assert answer["kind"] == "answer" and answer["id"] > ack["message_id"]
            assert asyncio.get_running_loop().time() - started < 5, "not an outbox round"
    entries = await _settled(client, 3)
    assert [(e.status, e.attempts) for e in entries] == [("sent", 1)] * 3
    assert claimed == [], "the worker had nothing to send"
    assert sorted(sends) == [e.id for e in entries] and set(sends.values()) == {1}


async def test_a_pushed_reply_is_sent_once_while_the_worker_polls(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str) -> None:
    # The worker polling all the time, so its rounds fall between a decision's commit and
    # the push too: whoever leases a reply sends it, the other leaves it.
    client, claimed, sends = await _gateway(aiohttp_client, make_settings, database_url,
                                            poll_interval=0.005)

    async def visitor(name: str) -> list[int]:
        seen: list[int] = []
        async with client.ws_connect("/chat/ws") as ws:
            await hello(ws)
            for n in range(5):
                await ws.send_json({"type": "message", "client_id": f"{name}{n}",
                                    "text": QUESTION})
                _, answer = await ack_and_answer(ws, f"{name}{n}")
                seen.append(answer["id"])
            await ws.send_json({"type": "message", "client_id": f"{name}-last", "text": "ok"})
            seen += await _bot_frames_until_ack(ws, f"{name}-last")
        return seen

    seen = await asyncio.gather(*(visitor(name) for name in ("a", "b", "c")))
    entries = await _settled(client, sum(len(ids) for ids in seen))
    assert {e.status for e in entries} == {"sent"} and {e.attempts for e in entries} == {1}
    assert sorted(sends) == [e.id for e in entries] and set(sends.values()) == {1}, \
        "no reply sent twice, by the push and the worker"
    for ids in seen:  # each visitor saw each reply once (before the widget's own check)
        assert len(ids) == len(set(ids))
    assert {e.id for e in claimed} <= {e.id for e in entries}


async def _settled(client: TestClient, count: int) -> list[OutboxEntry]:
    """The outbox once `count` entries are there and none is pending: the socket may have
    the reply a moment before the entry is marked sent."""
    async with asyncio.timeout(10):
        while True:
            entries = await client.app[STORE].outbox_entries()
            if len(entries) >= count and all(e.status != "pending" for e in entries):
                return entries
            await asyncio.sleep(0.02)


async def _bot_frames_until_ack(ws: aiohttp.ClientWebSocketResponse,
                                client_id: str) -> list[int]:
    """The bot frames that come until `client_id` is acknowledged, and for a moment after
    (a copy would come right behind)."""
    ids: list[int] = []
    acked = False
    while True:
        try:
            frame = await ws.receive_json(timeout=10 if not acked else 0.3)
        except TimeoutError:
            assert acked
            return ids
        if frame["type"] == "ack" and frame.get("client_id") == client_id:
            acked = True
        elif frame["type"] == "message" and frame.get("author") == "bot":
            ids.append(frame["id"])
