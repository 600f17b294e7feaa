"""One unit of work: the connection and the transaction a task holds for one message.

A message used to acquire and release a pooled connection for every statement, each with
its own transaction and each release followed by asyncpg's reset (issue 21: 35 statements
per answered message on PostgreSQL, 13 of them resets). Inside `Store.unit()` the drivers
run every statement of the task on the one connection it holds; inside a transaction the
query mixins' `self.db` calls join that transaction, so a mixin written without knowing
about units benefits from them unchanged.

A transaction also defers the writes that only need to be there at commit: `Pending`
merges the field updates of one row (a message bumping `conversations.updated_at` three
times writes it once) and sends the events as one multi-row INSERT. Pending writes are
flushed before any statement of the transaction that names a table they write to, and
before COMMIT: the transaction reads its own writes as before, and a later write to the
same row lands after them. (A view or trigger reading these tables under another name
would have to be named too; there is none.)

A lazy transaction (`transaction(lazy=True)`, the pipeline's decision) sends BEGIN only
at its first write or inner transaction: the plain reads a decision starts with, and any
call it makes to the outside world before writing (a back-office lookup), hold no
transaction and, on SQLite, not the database lock. Writes deferred to the commit alone
need no BEGIN when they are one statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar


class Runner(Protocol):
    #: The engine runs several writes as one statement (PostgreSQL's data-modifying
    #: `WITH`): `Pending.flush` sends them in one round trip.
    combines: bool

    async def execute(self, sql: str, *args: Any) -> int: ...


class Transaction(Protocol):
    async def begin(self) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


TxT = TypeVar("TxT", bound=Transaction)


#: Columns of an event row, in the order `Pending.event` takes them.
_EVENT_COLUMNS = "conversation_id, ticket_id, actor, type, data, created_at"
#: Rows per multi-row INSERT (6 parameters each, far below both drivers' limits).
_EVENTS_PER_INSERT = 100
#: Parameters of one combined flush at most (PostgreSQL takes 32,767 per statement).
_COMBINED_ARGS = 10_000


class Pending:
    """Writes deferred to the end of a transaction (or to its next read)."""

    def __init__(self) -> None:
        self.updates: dict[tuple[str, int], dict[str, Any]] = {}
        self.events: list[tuple[Any, ...]] = []

    def __bool__(self) -> bool:
        return bool(self.updates or self.events)

    def statements(self, combines: bool = False) -> int:
        """How many statements `flush` will run (on a `Runner` that `combines` or not)."""
        if combines and self and self._args() <= _COMBINED_ARGS:
            return 1
        return len(self.updates) + -(-len(self.events) // _EVENTS_PER_INSERT)

    def _args(self) -> int:
        return sum(len(fields) + 1 for fields in self.updates.values()) + 6 * len(self.events)

    def needed_by(self, sql: str) -> bool:
        """`sql` names a table with pending writes: they go first, so it reads them and a
        write of its own to the same row comes after them."""
        if not self:
            return False
        tables = {table for table, _ in self.updates} | ({"events"} if self.events else set())
        return any(re.search(rf"\b{table}\b", sql, re.IGNORECASE) for table in tables)

    def update(self, table: str, row_id: int, fields: dict[str, Any]) -> None:
        """Merge into the row's pending UPDATE: the last value of each field wins."""
        self.updates.setdefault((table, row_id), {}).update(fields)

    def event(self, conversation_id: int | None, ticket_id: int | None, actor: str,
              type_: str, data: dict[str, Any], created_at: str) -> None:
        self.events.append((conversation_id, ticket_id, actor, type_,
                            json.dumps(data, default=str), created_at))

    async def flush(self, conn: Runner) -> None:
        """Run what is pending on `conn`, in the order updates then events; as one
        statement where the engine combines writes (each row is updated once, so the
        order inside it does not matter: issue 21, `handled` and the conversation's
        UPDATE were two round trips of every message on PostgreSQL)."""
        combined = self.statements(conn.combines) == 1
        updates, events = self.updates, self.events
        self.updates, self.events = {}, []
        writes: list[tuple[str, list[Any]]] = []
        for (table, row_id), fields in updates.items():
            assignments = ", ".join(f"{name} = ?" for name in fields)
            writes.append((f"UPDATE {table} SET {assignments} WHERE id = ?",
                           [*fields.values(), row_id]))
        for start in range(0, len(events), _EVENTS_PER_INSERT):
            chunk = events[start:start + _EVENTS_PER_INSERT]
            values = ", ".join("(?, ?, ?, ?, ?, ?)" for _ in chunk)
            writes.append((f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES {values}",
                           [value for row in chunk for value in row]))
        if combined and len(writes) > 1:
            # WITH w0 AS (UPDATE …), w1 AS (UPDATE …) INSERT INTO events …: every
            # data-modifying WITH runs, once, whether the main statement reads it or not.
            *first, (last, last_args) = writes
            head = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(first))
            await conn.execute(f"WITH {head} {last}",
                               *(arg for _, args in first for arg in args), *last_args)
            return
        for sql, args in writes:
            await conn.execute(sql, *args)


_LOCKING = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)\b|pg_advisory", re.IGNORECASE)


def plain_read(sql: str) -> bool:
    """A SELECT that takes no lock: a lazy transaction may run it before its BEGIN."""
    return sql.lstrip()[:6].upper() == "SELECT" and _LOCKING.search(sql) is None


class Unit:
    """What a task holds: a connection (None on SQLite: there is one) and its transaction.

    Tasks started inside the unit inherit it (contextvars are copied): they share the
    connection one statement at a time (`lock`), but never its open transaction, which
    belongs to the task that began it (`tx_task`); they use a connection of their own
    meanwhile. Once the unit is over (`open` False) nobody uses it any more.
    """

    def __init__(self, conn: Any = None) -> None:
        self.conn = conn
        self.open = True
        self.lock = asyncio.Lock()
        self.tx: Any = None
        self.tx_task: asyncio.Task[Any] | None = None
        self.pending = Pending()
        self.after_commit: list[Callable[[], None]] = []

    def usable(self) -> bool:
        """This task may run statements on the held connection now."""
        return self.open and (self.tx_task is None or self.tx_task is asyncio.current_task())

    def in_transaction(self) -> bool:
        """This task has the unit's transaction open."""
        return self.open and self.tx is not None and self.tx_task is asyncio.current_task()

    def finish(self, *, committed: bool) -> None:
        """The transaction is over: run its after-commit callbacks if it committed."""
        callbacks = self.after_commit if committed else []
        self.tx, self.tx_task = None, None
        self.pending = Pending()
        self.after_commit = []
        for callback in callbacks:
            callback()


def after_commit(unit: Unit | None, callback: Callable[[], None]) -> None:
    """Run `callback` once this task's transaction commits (never if it rolls back); at
    once outside a transaction."""
    if unit is not None and unit.in_transaction():
        unit.after_commit.append(callback)
    else:
        callback()


@contextlib.asynccontextmanager
async def running(unit: Unit, tx: TxT, *, lazy: bool) -> AsyncIterator[TxT]:
    """Make `tx` the unit's transaction for this task: commit when the block ends, roll
    back if it raises, then run the after-commit callbacks. Both drivers' skeleton."""
    unit.tx = tx
    unit.tx_task = asyncio.current_task()
    committed = False
    try:
        if not lazy:
            await tx.begin()
        try:
            yield tx
            await tx.commit()
        except BaseException:
            await tx.rollback()
            raise
        committed = True
    finally:
        unit.finish(committed=committed)


def unit_var(name: str) -> ContextVar[Unit | None]:
    return ContextVar(name, default=None)
