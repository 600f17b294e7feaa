"""The SLA watcher writes each warning and breach once, even with two gateways on one database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from gateway.channels import ConversationKey, Identity
from gateway.config.policy import SlaSettings
from gateway.delivery.notify import Hub
from gateway.models import Ticket
from gateway.sla.watcher import SlaWatcher
from gateway.store import Store, store_for

from .helpers import always_open

MIN = timedelta(minutes=1)
SLA = SlaSettings()  # P1: first response 30 min, resolution 4 h; warning at 75 %


async def open_store(url: str) -> Store:
    store = store_for(url)
    await store.open()
    return store


async def new_ticket(store: Store, address: str, priority: str = "P1") -> Ticket:
    customer = await store.resolve_customer(Identity("test", address))
    conversation = await store.conversation_for(ConversationKey("test", address), customer.id,
                                                "en")
    return await store.create_ticket(conversation, queue="billing", priority=priority,
                                     subject="s", bot_attempts=[], actor="bot")


def watcher(store: Store, hub: Hub) -> SlaWatcher:
    return SlaWatcher(store, hub, SLA, lambda queue: always_open())


async def sla_events(store: Store, ticket_id: int) -> list[tuple[str, str]]:
    return [(e.type, e.data["clock"]) for e in await store.events(ticket_id=ticket_id)
            if e.type.startswith("sla.")]


async def test_two_watchers_write_each_alarm_once(database_url: str) -> None:
    one, two = await open_store(database_url), await open_store(database_url)
    hub_one, hub_two = Hub(), Hub()
    inbox_one, inbox_two = hub_one.subscribe("notifications"), hub_two.subscribe("notifications")
    try:
        await two.create_operator("sue", "Sue", "x", "supervisor", ["en"], ["billing"])
        await two.create_operator("sam", "Sam", "x", "supervisor", ["en"], ["sales"])
        await two.create_operator("al", "Al", "x", "agent", ["en"], ["billing"])
        ticket = await new_ticket(one, "c1")
        watchers = [watcher(one, hub_one), watcher(two, hub_two)]

        async def both(at: datetime) -> None:
            for _ in range(3):
                await asyncio.gather(*(w.run_once(at) for w in watchers))

        await both(ticket.created_at + 10 * MIN)
        assert await sla_events(one, ticket.id) == []
        await both(ticket.created_at + 25 * MIN)
        await both(ticket.created_at + 31 * MIN)
        await both(ticket.created_at + 200 * MIN)
        await both(ticket.created_at + 241 * MIN)
        assert await sla_events(one, ticket.id) == [
            ("sla.warning", "first_response"), ("sla.breached", "first_response"),
            ("sla.warning", "resolution"), ("sla.breached", "resolution"),
        ]
        notes = [*drain(inbox_one), *drain(inbox_two)]
        assert sorted(str(n["type"]) for n in notes) == ["sla.breached", "sla.breached",
                                                    "sla.warning", "sla.warning"]
        breach = next(n for n in notes if n["type"] == "sla.breached")
        assert breach["ticket_id"] == ticket.id and breach["queue"] == "billing"
        assert breach["supervisors"] == ["sue"]  # the escalation: billing's supervisor only
        timer = await one.db.fetchone("SELECT * FROM sla_timers WHERE ticket_id = ?", ticket.id)
        assert timer is not None and timer["state"] == "breached"
    finally:
        await one.close()
        await two.close()


def drain(inbox: asyncio.Queue[dict[str, object]]) -> list[dict[str, object]]:
    items = []
    while not inbox.empty():
        items.append(inbox.get_nowait())
    return items


async def test_a_pending_ticket_raises_no_alarm_and_its_due_time_moves(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        ticket = await new_ticket(store, "c2")
        w = watcher(store, Hub())
        await w.run_once(ticket.created_at + MIN)
        await store.update_ticket(ticket.id, "ann", "ticket.updated", status="pending")
        await w.run_once(ticket.created_at + 5 * 60 * MIN)
        assert await sla_events(store, ticket.id) == []
        timer = await store.db.fetchone("SELECT * FROM sla_timers WHERE ticket_id = ?", ticket.id)
        assert timer is not None and timer["paused"] == 1 and timer["state"] == "ok"
        assert timer["next_check_at"].startswith("9999")
    finally:
        await store.close()


async def test_a_timely_first_reply_prevents_the_first_response_alarm(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        ticket = await new_ticket(store, "c3")
        w = watcher(store, Hub())
        await w.run_once(ticket.created_at + MIN)
        await store.update_ticket(ticket.id, "ann", "ticket.replied", {"message_id": 1},
                                  status="open")
        await w.run_once(ticket.created_at + 40 * MIN)
        assert await sla_events(store, ticket.id) == []
    finally:
        await store.close()


async def test_the_running_loop_publishes_breaches(database_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = await open_store(database_url)
    hub = Hub()
    inbox = hub.subscribe("notifications")
    try:
        from gateway.store import ticket_queries

        opened_long_ago = datetime.now().astimezone() - 300 * MIN
        monkeypatch.setattr(ticket_queries, "utcnow", lambda: opened_long_ago)
        ticket = await new_ticket(store, "c4")
        monkeypatch.undo()
        settings = SlaSettings(check_interval=0.01)
        async with SlaWatcher(store, hub, settings, lambda queue: always_open()).running():
            notes = [await asyncio.wait_for(inbox.get(), 5) for _ in range(2)]
        assert {(n["type"], n["clock"]) for n in notes} == {
            ("sla.breached", "first_response"), ("sla.breached", "resolution")}
        assert all(n["ticket_id"] == ticket.id for n in notes)
    finally:
        await store.close()


async def test_catch_up_reads_only_changes_since_the_last_one_and_misses_none(
        database_url: str) -> None:
    store = await open_store(database_url)
    try:
        old, changed = await new_ticket(store, "c-old"), await new_ticket(store, "c-new")
        w = watcher(store, Hub())
        await w.catch_up()
        timer = "SELECT paused FROM sla_timers WHERE ticket_id = ?"
        assert (await store.db.fetchone(timer, changed.id)) == {"paused": 0}
        # One changed now, the other changed "long ago" without the watcher hearing of it
        # (stamped before the last catch-up, beyond the margin): only the first is read.
        await store.update_ticket(changed.id, "ann", "ticket.pending", status="pending")
        await store.update_ticket(old.id, "ann", "ticket.pending", status="pending")
        await store.db.execute("UPDATE tickets SET updated_at = ? WHERE id = ?",
                               "2000-01-01T00:00:00.000000Z", old.id)
        await w.catch_up()
        assert (await store.db.fetchone(timer, changed.id)) == {"paused": 1}
        assert (await store.db.fetchone(timer, old.id)) == {"paused": 0}
        # A new watcher (a restart) reads everything once; the periodic pass does too.
        await watcher(store, Hub()).catch_up()
        assert (await store.db.fetchone(timer, old.id)) == {"paused": 1}
    finally:
        await store.close()
