"""Parse a fetched batch's next mails while the current one is being stored.

Parsing runs in the worker process (worker.py), storing and deciding on the event loop:
done one after the other, each mail waits for both, and the loop idles while the worker
parses. Here the worker parses ahead, one mail at a time in the batch's order (so each
mail's time limit is its own parse, never a wait behind another), at most `depth` mails
ahead, so a batch of large mails is not held parsed in memory all at once (issue 21).

With `parse_many` the mails allowed ahead go to the worker in one round trip rather than
one each (issue 21: a round trip to the worker process cost 16-22 ms on a loaded 2-core
machine for a 2 ms parse, so one mail at a time bounded the ingest to 45-60 mails/s); a
batch that fails as a whole (its time limit, a crashed worker) is parsed again one mail
at a time, so a mail's time limit and its failure stay its own.

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

#: Several mails' parses in one call: each mail's result or its own exception, in order.
ParseMany = Callable[[Sequence[bytes]], Awaitable[Sequence[T | BaseException]]]

#: Mails parsed ahead of the one being stored (in flight or waiting).
DEPTH = 4


class ParseAhead(Generic[T]):
    """`parsed(i)` gives the parse of `raws[i]`, started ahead of time. Use as
    `async with ParseAhead(parse, raws) as ahead:`; leaving stops the parsing."""

    def __init__(self, parse: Callable[[bytes], Awaitable[T]], raws: Sequence[bytes],
                 depth: int = DEPTH, parse_many: ParseMany[T] | None = None) -> None:
        self._parse = parse
        self._parse_many = parse_many
        self._raws = raws
        self._depth = max(depth, 1)
        #: The producer parses indexes below this; asking for mail i lets it parse up to
        #: i + depth (so asking for any mail, in any order, never waits on a parse that is
        #: not allowed yet).
        self._allowed = self._depth
        #: The newest mail the store has asked for (it waits for it if not parsed yet).
        self._wanted = -1
        #: With `parse_many`, a call waits for this many mails to be allowed unless the
        #: store is waiting already: in the steady state each call would otherwise carry
        #: the single mail the window has just allowed (issue 21).
        self._gather = max(self._depth // 2, 1) if parse_many is not None else 1
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
        if index > self._wanted:
            self._wanted = index
            self._more.set()
        return await asyncio.shield(self._futures[index])

    async def _run(self) -> None:
        index = 0
        while index < len(self._raws):
            while not self._ready(index):
                self._more.clear()
                await self._more.wait()
            # Every mail allowed now, in one call when the parser takes several.
            end = min(self._allowed, len(self._raws)) if self._parse_many else index + 1
            if end - index > 1 and await self._batch(index, end):
                index = end
                continue
            for at in range(index, end):  # one at a time (or a failed batch again)
                try:
                    self._settle(at, await self._parse(self._raws[at]))
                except Exception as exc:  # the mail's own failure: quarantined by its reader
                    self._settle(at, exc)
            index = end

    def _ready(self, index: int) -> bool:
        """Mail `index` may be parsed now: it is within the window (`depth` mails parsed
        and not yet asked for hold it back), and either the store waits for it or
        enough mails are allowed to make one call worth it (or all that are left)."""
        if index >= self._allowed:
            return False
        enough = min(index + self._gather, len(self._raws))
        return self._wanted >= index or self._allowed >= enough

    async def _batch(self, start: int, end: int) -> bool:
        """Parse mails `start:end` in one call; False when the batch failed as a whole."""
        assert self._parse_many is not None
        try:
            outcomes = list(await self._parse_many(self._raws[start:end]))
        except Exception:  # a time limit or a crash: which mail it was is not known
            return False
        if len(outcomes) != end - start:
            return False
        for at, outcome in enumerate(outcomes, start):
            self._settle(at, outcome)
        return True

    def _settle(self, index: int, outcome: T | BaseException) -> None:
        future = self._futures[index]
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
