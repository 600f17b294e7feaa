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
    task.cancel()
    await asyncio.wait({task})  # a cancellation of the waiter itself still propagates
    if not task.cancelled():
        task.result()  # it ended with an error of its own while stopping: raise it
