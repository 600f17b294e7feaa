"""Parse a fetched batch's next mails while the current one is being stored.

Parsing runs in the worker process (worker.py), storing and deciding on the event loop:
done one after the other, each mail waits for both, and the loop idles while the worker
parses. Here the worker parses ahead, one mail at a time in the batch's order (so each
mail's time limit is its own parse, never a wait behind another), at most `depth` mails
ahead, so a batch of large mails is not held parsed in memory all at once (issue 21).

Nothing about exactly-once changes: the reader still stores the mails in UID order and
saves the position after the batch; a parse failure is handed to its mail, which is
quarantined as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from gateway.background import stop_task

T = TypeVar("T")

#: Mails parsed ahead of the one being stored (in flight or waiting).
DEPTH = 4


class ParseAhead(Generic[T]):
    """`parsed(i)` gives the parse of `raws[i]`, started ahead of time. Use as
    `async with ParseAhead(parse, raws) as ahead:`; leaving stops the parsing."""

    def __init__(self, parse: Callable[[bytes], Awaitable[T]], raws: Sequence[bytes],
                 depth: int = DEPTH) -> None:
        self._parse = parse
        self._raws = raws
        self._depth = max(depth, 1)
        #: The producer parses indexes below this; asking for mail i lets it parse up to
        #: i + depth (so asking for any mail, in any order, never waits on a parse that is
        #: not allowed yet).
        self._allowed = self._depth
        self._more = asyncio.Event()
        self._futures: list[asyncio.Future[T]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ParseAhead[T]:
        loop = asyncio.get_running_loop()
        self._futures = [loop.create_future() for _ in self._raws]
        self._task = asyncio.create_task(self._run(), name="email-parse-ahead")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await stop_task(self._task)
        for future in self._futures:  # parses nobody asked for (the batch was cut short)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: no "exception never retrieved" warning
            future.cancel()

    async def parsed(self, index: int) -> T:
        """Mail `index`'s parse (its exception, if parsing failed)."""
        if index + 1 + self._depth > self._allowed:  # mail `index` and `depth` after it
            self._allowed = index + 1 + self._depth
            self._more.set()
        return await asyncio.shield(self._futures[index])

    async def _run(self) -> None:
        for index, raw in enumerate(self._raws):
            while index >= self._allowed:  # `depth` mails are parsed and not yet asked for
                self._more.clear()
                await self._more.wait()
            future = self._futures[index]
            try:
                result = await self._parse(raw)
            except Exception as exc:  # the mail's own failure: quarantined by its reader
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)
