"""Stopping a background task stops it, even when the one stopping it is itself cancelled
meanwhile (a gateway shutdown while the e-mail reader waits for its IMAP loop to finish)."""

from __future__ import annotations

import asyncio

from gateway.background import stop_task


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
