"""Stopping a background task stops it, even when the one stopping it is itself cancelled
meanwhile (a gateway shutdown while the e-mail reader waits for its IMAP loop to finish)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway import background
from gateway.app import create_app
from gateway.background import stop_task
from gateway.config.settings import Settings
from gateway.store.outbox_queries import OutboxQueries


async def _slow_to_stop() -> None:
    """A child whose clean-up takes a moment (releasing a claim, closing a session)."""
    try:
        await asyncio.sleep(3600)
    finally:
        await asyncio.shield(asyncio.sleep(0.2))


async def test_a_loop_that_restarts_its_child_still_stops_when_cancelled() -> None:
    stopping = asyncio.Event()

    async def supervisor() -> None:
        while True:  # like the e-mail reader: run a child, stop it, start again
            child = asyncio.create_task(_slow_to_stop())
            await asyncio.sleep(0.01)
            stopping.set()
            await stop_task(child)

    task = asyncio.create_task(supervisor())
    await stopping.wait()
    await asyncio.sleep(0.05)  # the supervisor is now waiting for its child to stop
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done == {task} and task.cancelled()


async def test_the_childs_own_cancellation_is_not_an_error() -> None:
    child = asyncio.create_task(_slow_to_stop())
    await asyncio.sleep(0.01)
    await stop_task(child)
    assert child.cancelled()


async def test_a_child_that_swallowed_one_cancellation_is_still_stopped() -> None:
    """Python 3.11's wait_for can lose a cancellation that arrives as its awaitable ends;
    a retry loop like the e-mail reader's then goes on. Stopping must still end it."""
    async def swallows_once() -> None:
        swallowed = False
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed = True
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    child = asyncio.create_task(swallows_once())
    await asyncio.sleep(0.02)
    await asyncio.wait_for(stop_task(child), 5)
    assert child.cancelled()


async def test_a_loop_that_crashes_starts_again_and_readyz_shows_it(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox worker hit an error no `except` of its loop names (a PostgreSQL deadlock,
    a bug): before, it stopped for good and nothing said so."""
    monkeypatch.setattr(background, "RESTART_PAUSES", (0.05, 0.1))
    monkeypatch.setattr(background, "_crashes", {})
    claims = 0
    claim = OutboxQueries.claim_outbox

    async def fails_once(self: OutboxQueries, *args: Any, **kwargs: Any) -> Any:
        nonlocal claims
        claims += 1
        if claims == 1:
            raise RuntimeError("deadlock detected")
        return await claim(self, *args, **kwargs)

    monkeypatch.setattr(OutboxQueries, "claim_outbox", fails_once)
    client = await aiohttp_client(create_app(make_settings(outbox={"poll_interval": 0.05})))
    deadline = time.monotonic() + 10
    while claims < 3 and time.monotonic() < deadline:  # claiming again after the crash
        await asyncio.sleep(0.05)
    assert claims >= 3
    details = await (await client.get("/readyz")).json()
    crashed = details["checks"]["background_crashes"]["outbox"]
    assert crashed["crashes"] == 1 and "deadlock detected" in crashed["last_error"]
    assert details["status"] == "ready"
