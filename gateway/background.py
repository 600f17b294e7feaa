"""One way to run a background loop for as long as a context lasts (cleanup_ctx style).

A loop that dies of an error it did not expect (a driver error no `except` names, a bug)
is started again after a pause, and its crashes show in `/readyz`: before, the outbox
worker, the SLA watcher or the resume sweep stopped for good and silently on one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)

#: Pause before a crashed loop starts again: doubling from the first to the last, and back
#: to the first once it ran `HEALTHY_AFTER` seconds without crashing.
RESTART_PAUSES = (1.0, 60.0)
HEALTHY_AFTER = 60.0

#: Crashes of each loop of this process: name -> {"crashes", "last_error", "last_at"}.
_crashes: dict[str, dict[str, Any]] = {}


def crashes() -> dict[str, dict[str, Any]]:
    """The loops that crashed in this process (for /readyz), each a copy."""
    return {name: dict(record) for name, record in _crashes.items()}


@contextlib.asynccontextmanager
async def background(loop: Callable[[], Coroutine[Any, Any, None]],
                     name: str) -> AsyncIterator[None]:
    """Run `loop()` as a task, started again after a pause if it crashes; on exit cancel
    it and wait until it has really stopped."""
    task = asyncio.create_task(_supervised(loop, name), name=name)
    try:
        yield
    finally:
        await stop_task(task)


async def _supervised(loop: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
    pause = RESTART_PAUSES[0]
    while True:
        started = time.monotonic()
        try:
            await loop()
            return  # it finished its work
        except Exception as exc:  # a cancellation is not one: it stops the loop
            if time.monotonic() - started >= HEALTHY_AFTER:
                pause = RESTART_PAUSES[0]
            record = _crashes.setdefault(name, {"crashes": 0})
            record.update(crashes=record["crashes"] + 1, last_error=f"{type(exc).__name__}: {exc}",
                          last_at=time.time())
            log.exception("background.crashed", loop=name, restart_in=pause)
        await asyncio.sleep(pause)
        pause = min(pause * 2, RESTART_PAUSES[1])


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
