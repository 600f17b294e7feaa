"""SQL statements per request, counted through the drivers (benchmarks and a test use it).

`install()` wraps the driver calls every statement goes through: asyncpg's
`Connection.execute` without arguments (BEGIN, COMMIT, a pool reset's query) and
`Connection._execute` (every statement with arguments: fetch, fetchrow, execute),
aiosqlite's `Connection.execute` and `execute_fetchall`. A statement counts when the task
that runs it is inside `counting()`, or was started from one (contextvars are inherited),
so a gateway's own background work (the outbox worker, sweeps) is not charged to a
message.
`count_requests(app)` counts each HTTP request the app serves that way, and times each
statement (`Tally.slowest`: what a page waits on).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import asyncpg.connection
from aiohttp import web


@dataclass
class Tally:
    """The statements one request ran, by kind (the SQL's first words)."""

    kinds: Counter[str] = field(default_factory=Counter)
    response: dict[str, Any] = field(default_factory=dict)
    #: Milliseconds and the SQL's start, per statement, in order (what a page waits on).
    timings: list[tuple[float, str]] = field(default_factory=list)

    def slowest(self, n: int = 3) -> list[tuple[float, str]]:
        return sorted(self.timings, reverse=True)[:n]

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


_CURRENT: ContextVar[Tally | None] = ContextVar("sql-count", default=None)
_installed = False


def kind(sql: str) -> str:
    """`INSERT messages`, `SELECT tickets`, `BEGIN`, `reset`: what a statement is."""
    words = sql.split()
    if not words:
        return "empty"
    head = words[0].upper().rstrip(";")
    if "pg_advisory_unlock_all" in sql or head == "RESET":
        return "pool reset"
    table = ""
    lowered = [w.lower() for w in words]
    for keyword in ("into", "update", "from"):
        if keyword in lowered[:12]:
            at = lowered.index(keyword)
            if at + 1 < len(words):
                table = words[at + 1].strip("(,")
                break
    return f"{head} {table}".strip()


def _count(sql: str) -> None:
    tally = _CURRENT.get()
    if tally is not None:
        tally.kinds[kind(sql)] += 1


async def _timed(sql: str, call: Awaitable[Any]) -> Any:
    """Await a driver call, counting it and noting how long it took."""
    _count(sql)
    tally = _CURRENT.get()
    started = time.perf_counter()
    try:
        return await call
    finally:
        if tally is not None:
            tally.timings.append((round((time.perf_counter() - started) * 1000, 2),
                                  " ".join(sql.split())[:160]))


def install() -> None:
    """Wrap the drivers' statement calls once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    pg = asyncpg.connection.Connection
    pg_execute, pg_run = pg.execute, pg._execute

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:  # with arguments it goes through _execute, counted there
            return await _timed(query, pg_execute(self, query, *args, **kwargs))
        return await pg_execute(self, query, *args, **kwargs)

    async def run(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        return await _timed(query, pg_run(self, query, *args, **kwargs))

    pg.execute, pg._execute = execute, run  # type: ignore[method-assign]
    sqlite_execute = aiosqlite.Connection.execute

    async def sqlite_run(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await _timed(sql, sqlite_execute(self, sql, *args, **kwargs))

    sqlite_fetchall = aiosqlite.Connection.execute_fetchall

    async def sqlite_fetch(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await _timed(sql, sqlite_fetchall(self, sql, *args, **kwargs))

    aiosqlite.Connection.execute = sqlite_run  # type: ignore[assignment,method-assign]
    aiosqlite.Connection.execute_fetchall = sqlite_fetch  # type: ignore[method-assign]


@contextlib.contextmanager
def counting() -> Iterator[Tally]:
    install()
    tally = Tally()
    token = _CURRENT.set(tally)
    try:
        yield tally
    finally:
        _CURRENT.reset(token)


def count_requests(app: web.Application) -> list[Tally]:
    """Count every request `app` serves (call before it starts); the tallies, with each
    JSON response, are appended to the returned list as the requests finish."""
    tallies: list[Tally] = []

    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
        with counting() as tally:
            response = await handler(request)
        if isinstance(response, web.Response) and response.content_type == "application/json":
            with contextlib.suppress(ValueError, TypeError):
                tally.response = json.loads(response.body)  # type: ignore[arg-type]
        tallies.append(tally)
        return response

    app.middlewares.insert(0, middleware)
    return tallies
