"""The hot queries keep to their indexes however long the history (issue 21).

A store gets a few thousand rows of closed history per table, then `ANALYZE`; each query is
taken from the store's (or console's) real method by recording what it sends to the driver,
and its plan must not scan a table that grows with history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from gateway.channels import ConversationKey, Identity
from gateway.privacy.personal_data import find_customer
from gateway.store import Store, store_for

HISTORY = 3000
OLD = "'2020-01-01T00:00:00+00:00'"
BIG = {"customers", "identities", "conversations", "messages", "outbox", "tickets", "events"}
#: Closed history: one customer, identity, conversation, handled message, sent delivery,
#: closed ticket and SLA alarm per row of `n`.
SEED = tuple(
    f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {HISTORY})"
    f" INSERT INTO {table} SELECT {columns} FROM n"
    for table, columns in (
        ("customers (name, email, created_at)", f"'c' || i, 'c' || i || '@x.test', {OLD}"),
        ("identities (customer_id, channel, address, created_at)",
         f"i, 'email', 'c' || i || '@x.test', {OLD}"),
        ("conversations (customer_id, channel, address, created_at, updated_at)",
         f"i, 'email', 'c' || i || '@x.test', {OLD}, {OLD}"),
        ("messages (conversation_id, channel, direction, author, text, handled, claimed_until,"
         " created_at)", f"i, 'email', 'inbound', 'customer', 'x', 1, {OLD}, {OLD}"),
        ("outbox (message_id, conversation_id, channel, address, status, next_attempt_at,"
         " created_at)", f"i, i, 'email', 'c' || i || '@x.test', 'sent', {OLD}, {OLD}"),
        ("tickets (conversation_id, customer_id, status, priority, queue, subject, created_at,"
         " updated_at)", f"i, i, 'closed', 'normal', 'general', 's', {OLD}, {OLD}"),
        ("events (ticket_id, actor, type, created_at)", f"i, 'sla', 'sla.breached', {OLD}"),
    )
)


class Recorder:
    """Wraps the store's driver calls and keeps every (sql, args) sent through them."""

    def __init__(self, store: Store) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        for name in ("fetchall", "fetchone", "execute"):
            setattr(store.db, name, self._wrap(getattr(store.db, name)))

    def _wrap(self, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def recorded(sql: str, *args: Any) -> Any:
            self.sent.append((sql, args))
            return await call(sql, *args)
        return recorded


async def test_hot_queries_use_indexes_not_history(database_url: str) -> None:
    store = store_for(database_url)
    await store.open()
    try:
        for statement in SEED:
            await store.db.execute(statement)
        customer = await store.resolve_customer(Identity("webchat", "live"))
        conversation = await store.conversation_for(ConversationKey("webchat", "live"),
                                                    customer.id, "en")
        await store.add_inbound(conversation, "help", "m1", claim=timedelta(seconds=-1))
        _, entry = await store.add_reply(conversation, author="bot", text="hi", kind="answer")
        await store.create_ticket(conversation, queue="general", priority="normal",
                                  subject="s", bot_attempts=[], actor="bot")
        await store.db.execute("ANALYZE")
        recorder = Recorder(store)
        jobs: dict[str, Awaitable[Any]] = {
            "claim_outbox": store.claim_outbox("w", timedelta(seconds=30)),
            "lease_outbox": store.lease_outbox(entry.id, "w", timedelta(seconds=30)),
            "unhandled_messages": store.unhandled_messages(),
            "open_ticket_of": store.open_ticket_of(conversation.id),
            "conversations_of": store.conversations_of(customer.id),
            "find_customer": find_customer(store, "webchat:live"),
        }
        scans: dict[str, list[str]] = {}
        for name, job in jobs.items():
            recorder.sent.clear()
            await job
            sent = list(recorder.sent)
            for sql, args in sent:
                found = await full_scans(store, sql, args)
                if found:
                    scans.setdefault(name, []).extend(found)
        assert scans == {}
    finally:
        await store.close()


async def full_scans(store: Store, sql: str, args: tuple[Any, ...]) -> list[str]:
    """The history tables `sql` would read whole, from the database's own plan."""
    if store.db.dialect == "sqlite":
        rows = await store.db.fetchall("EXPLAIN QUERY PLAN " + sql, *args)
        details = [str(row["detail"]) for row in rows]
        partial = {r["name"] for r in await store.db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")}
        # A scan of a partial index reads only the rows in work, not history.
        return [d for d in details if (m := re.match(r"SCAN (TABLE )?(\w+)(.* INDEX (\w+))?", d))
                and m.group(4) not in partial]
    row = await store.db.fetchone("EXPLAIN (FORMAT JSON) " + sql, *args)
    assert row is not None
    plan = row["QUERY PLAN"]
    return [f"Seq Scan on {node['Relation Name']}" for node in _nodes(
        (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
        if node["Node Type"] == "Seq Scan" and node["Relation Name"] in BIG]


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


async def test_the_newest_first_list_reads_the_open_tickets_not_the_closed(
        database_url: str) -> None:
    """A desk where the oldest tickets stay open: the console's newest-first list walks the
    tickets in work (`tickets_open`, migration 3440), never the closed ones between them
    (`tickets_pkey` backwards read every closed ticket newer than the page)."""
    from gateway.console import listing
    from gateway.models import utcnow

    store = store_for(database_url)
    await store.open()
    try:
        for statement in SEED:
            await store.db.execute(statement)
        await store.db.execute(f"UPDATE tickets SET status = 'open' WHERE id <= {HISTORY // 20}")
        await store.db.execute("ANALYZE")
        for queues in (("general",), None):
            wanted = listing.TicketFilter(statuses=("new", "open", "pending"), queues=queues)
            sql, args = listing.page_sql(wanted, utcnow(), dialect=store.db.dialect)
            # `p` is the page itself (50 rows), joined to its customers and conversations
            assert [s for s in await full_scans(store, sql, args) if s != "SCAN p"] == []
            used = await ticket_indexes(store, sql, args)
            assert "tickets_open" in used and "tickets_pkey" not in used, used
            rows = await store.db.fetchall(sql, *args)
            assert [row["id"] for row in rows] == list(range(HISTORY // 20, 100, -1))
    finally:
        await store.close()


async def ticket_indexes(store: Store, sql: str, args: tuple[Any, ...] | list[Any]) -> set[str]:
    """The indexes a plan reads `tickets` through (`tickets_pkey` for a walk by number)."""
    if store.db.dialect == "sqlite":
        rows = await store.db.fetchall("EXPLAIN QUERY PLAN " + sql, *args)
        found = set()
        for row in rows:
            detail = str(row["detail"])
            if re.match(r"(SCAN|SEARCH) t\b", detail):
                index = re.search(r"INDEX (\w+)", detail)
                found.add(index.group(1) if index else "tickets_pkey")
        return found
    row = await store.db.fetchone("EXPLAIN (FORMAT JSON) " + sql, *args)
    assert row is not None
    plan = row["QUERY PLAN"]
    return {str(node.get("Index Name", "tickets_pkey")) for node in _nodes(
        (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
        if node.get("Relation Name") == "tickets"}
