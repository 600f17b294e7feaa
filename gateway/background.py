"""One way to run a background loop for as long as a context lasts (cleanup_ctx style)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def background(loop: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Start `loop` as a task; on exit cancel it and wait until it has really stopped."""
    task = asyncio.create_task(loop, name=name)
    try:
        yield
    finally:
        await stop_task(task)


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait until it has stopped, swallowing only *its* cancellation.

    `suppress(CancelledError)` around `await task` would also swallow a cancellation of
    the task doing the waiting: a loop that stops a child this way and goes on would then
    never stop (the e-mail reader hung shutdowns like that).
    """
    while not task.done():
        # Asked again every second: Python 3.11's `wait_for` can swallow a cancellation
        # that arrives just as its awaitable completes, and a retry loop then goes on.
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)  # the waiter's own cancellation propagates
    if not task.cancelled():
        task.result()  # it ended with an error of its own while stopping: raise it
