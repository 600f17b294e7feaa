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
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
