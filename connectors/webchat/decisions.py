"""The web chat's stored-but-undecided messages: decided in turn, a few at a time.

A chat message is stored and acknowledged first (`Pipeline.store_only`), then decided here
(`Pipeline.decide`): so its ack never waits behind other messages' decisions, in a burst
either. The messages of one conversation are decided one after the other in the order
they were stored; conversations take turns for `at_once` places, so every visitor's first
message is answered before anybody's fifth.

The queue is bounded by the admission in `limits.py` (`max_in_flight`): a message over it
is told "busy" before it is stored. What waits here is stored and claimed: if the process
dies, the claims run out and the resume sweep (`Pipeline.resuming`) decides the messages;
a message that waits longer than its claim is decided by whoever renews or takes it over
first, never twice (`Pipeline.decide`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable, Hashable

import structlog

from gateway.bot.pipeline import Pipeline, Stored

log = structlog.get_logger(__name__)

#: Decisions under way at once: they share one event loop (and on SQLite one connection),
#: so more only lengthen each one; a few overlap one's database waits with another's work.
AT_ONCE = 8
#: Messages taken and not yet stored, at most: one more is told "busy" at once, so what
#: is taken is acknowledged promptly however long the decision queue is. A store is one or
#: two statements (about a millisecond on SQLite when the machine is quiet).
MAX_STORING = 256
#: The longest a decision waits for the messages waiting to be stored.
STORES_FIRST_S = 1.0


class Decisions:
    """The process's queue of stored messages waiting for their decision."""

    def __init__(self, pipeline: Callable[[], Pipeline], at_once: int = AT_ONCE) -> None:
        self._pipeline = pipeline  # made after the connectors, when the gateway starts
        self._places = asyncio.Semaphore(at_once)
        self._at_once = at_once
        #: Per conversation, its messages waiting in store order (the first being decided).
        self._chains: dict[Hashable, collections.deque[tuple[Stored, Callable[[], None]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.waiting = 0
        #: Messages taken and not yet stored. No decision starts while some wait: a store
        #: never queues behind decisions that began after it was taken.
        self.storing = 0
        self._no_stores = asyncio.Event()
        self._no_stores.set()
        #: Decisions per second, smoothed: how long a busy visitor should wait.
        self._rate = 0.0
        self._last = time.monotonic()

    def may_store(self, more: bool = False) -> bool:
        """Whether one more message may wait to be stored (`MAX_STORING`); `more`: its
        session has a message held already, it may use only a quarter of that (so a
        burst's first messages of every visitor come before anybody's next ones)."""
        return self.storing < (MAX_STORING // 4 if more else MAX_STORING)

    def storing_begins(self) -> None:
        self.storing += 1
        self._no_stores.clear()

    def storing_ends(self) -> None:
        self.storing -= 1
        if self.storing == 0:
            self._no_stores.set()

    def queued(self, key: Hashable) -> bool:
        """Whether a message stored now for `key` waits behind others (the ack says so)."""
        return key in self._chains or self.waiting >= self._at_once

    def submit(self, stored: Stored, done: Callable[[], None]) -> None:
        """Decide `stored` in its conversation's turn; `done` is called once it is decided
        (or its decision failed: the resume sweep has it)."""
        key = stored.inbound.key
        self.waiting += 1
        chain = self._chains.get(key)
        if chain is not None:
            chain.append((stored, done))
            return
        self._chains[key] = collections.deque([(stored, done)])
        task = asyncio.create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def seconds_for(self, messages: int) -> float:
        """About how long deciding `messages` of the queue takes at the recent pace."""
        return messages / self._rate if self._rate > 0 else float(messages) / 50

    async def _run(self, key: Hashable) -> None:
        chain = self._chains[key]
        try:
            while chain:
                stored, done = chain[0]
                try:
                    # Acks first, for at most a second (stores are bounded: never halted).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(STORES_FIRST_S):
                            await self._no_stores.wait()
                    async with self._places:
                        await self._pipeline().decide(stored)
                except Exception as exc:  # stored and claimed: the resume sweep answers it
                    log.error("webchat.decision_failed", message_id=stored.outcome.message_id,
                              error=f"{type(exc).__name__}: {exc}")
                finally:
                    chain.popleft()
                    self.waiting -= 1
                    done()
                self._decided()
        finally:
            for _, done in chain:  # cancelled (shutdown): left to the resume sweep
                self.waiting -= 1
                done()
            del self._chains[key]

    def _decided(self) -> None:
        now = time.monotonic()
        elapsed, self._last = max(now - self._last, 1e-3), now
        weight = min(1.0, elapsed)  # about a one-second memory
        self._rate = (1 - weight) * self._rate + weight / elapsed

    async def stop(self) -> None:
        """Cancel what waits: stored and claimed, it is decided by the resume sweep of the
        next process (or of another replica) once the claims run out."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
