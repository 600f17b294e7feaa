"""Parse mails in a separate process, so that no mail can stall the event loop.

MIME parsing, charset repair, HTML rendering and reply stripping are pure CPU work: a
hostile mail (megabytes of text, a deeply nested MIME tree) would otherwise freeze
`/healthz`, the web chat and the API for as long as it takes. A thread cannot be
interrupted, a process can: a mail that takes longer than the time limit has its
worker process killed and raises `ParseTimeout`, which the connector turns into
quarantine with that reason. The next mail gets a fresh worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from connectors.email.parse import ParsedMail, parse_message

#: Seconds one mail may take to parse; real mail takes milliseconds.
DEFAULT_TIME_LIMIT = 30.0
#: Seconds a new worker process may take to start (a loaded machine, a cold disk).
_START_LIMIT = 120.0


class ParseTimeout(Exception):
    """The mail took longer than the time limit to parse; its worker was stopped."""


class ParseWorker:
    """One worker process, started on first use and replaced after a timeout or a crash."""

    def __init__(self, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        self.time_limit = time_limit
        self._pool: ProcessPoolExecutor | None = None
        #: One start at a time: two mails arriving while the worker boots must not each
        #: start a pool (the loser would be left running, and joined at interpreter exit).
        self._starting = asyncio.Lock()

    async def parse(self, raw: bytes, *, max_attachment_bytes: int) -> ParsedMail:
        loop = asyncio.get_running_loop()
        pool = await self._ensure()
        future = loop.run_in_executor(pool, _parse, raw, max_attachment_bytes)
        try:
            return await asyncio.wait_for(future, self.time_limit)
        except TimeoutError:
            self._kill()
            raise ParseTimeout(
                f"parsing took longer than {self.time_limit:g} s ({len(raw)} bytes); "
                "stopped") from None
        except BrokenProcessPool:
            self._kill()  # the worker died (out of memory...): this mail is the suspect
            raise

    async def parse_many(self, raws: Sequence[bytes], *, max_attachment_bytes: int
                         ) -> list[ParsedMail | Exception]:
        """Several mails in one round trip to the worker (issue 21: the trip, not the
        parse, was most of a mail's time there): each mail's result or its own exception,
        in order. The time limit is the batch's: past it the worker is stopped and
        `ParseTimeout` raised, as is a crash; the caller then parses them one by one, so
        that the mail to blame is found and the others are not."""
        loop = asyncio.get_running_loop()
        pool = await self._ensure()
        future = loop.run_in_executor(pool, _parse_many, list(raws), max_attachment_bytes)
        try:
            return await asyncio.wait_for(future, self.time_limit)
        except TimeoutError:
            self._kill()
            raise ParseTimeout(f"parsing {len(raws)} mails took longer than "
                               f"{self.time_limit:g} s; stopped") from None
        except BrokenProcessPool:
            self._kill()
            raise

    def close(self) -> None:
        self._kill()

    async def _ensure(self) -> ProcessPoolExecutor:
        """The worker, started and ready: its start-up does not count against a mail."""
        async with self._starting:
            if self._pool is None:
                # forkserver: a clean child, not a fork of a process running an event loop
                # and threads; the parser is imported once, in the server.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["connectors.email.parse"])
                pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
                # The first submit starts the processes and waits for the fork server to
                # boot (seconds on a loaded machine): in a thread, so the event loop goes on.
                try:
                    await asyncio.wait_for(asyncio.to_thread(_start, pool), _START_LIMIT)
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)  # never left running
                    raise
                self._pool = pool
            return self._pool

    def _kill(self) -> None:
        """Stop the worker now, even in the middle of a mail (shutdown alone would wait)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=1)  # SIGTERM ends a parse at once; do not wait longer


def _ready() -> bool:
    return True


def _start(pool: ProcessPoolExecutor) -> bool:
    return pool.submit(_ready).result()


def _parse(raw: bytes, max_attachment_bytes: int) -> ParsedMail:
    return parse_message(raw, max_attachment_bytes=max_attachment_bytes)


def _parse_many(raws: list[bytes], max_attachment_bytes: int) -> list[ParsedMail | Exception]:
    outcomes: list[ParsedMail | Exception] = []
    for raw in raws:
        try:
            outcomes.append(parse_message(raw, max_attachment_bytes=max_attachment_bytes))
        except Exception as exc:  # this mail's own failure, handed to it
            outcomes.append(exc)
    return outcomes
