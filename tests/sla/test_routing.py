"""Routing gives a ticket to the least-loaded fitting operator, or leaves it in the queue."""

from __future__ import annotations

import pytest

from gateway.calendar import BusinessCalendar
from gateway.channels import ConversationKey, Identity
from gateway.models import Operator, Ticket
from gateway.store import store_for
from gateway.tickets import routing
from gateway.tickets.routing import Agent, Presence, Queue, pick_operator

from .helpers import local, office

MONDAY_10 = local(2026, 3, 9, 10)


def schedules(name: str) -> BusinessCalendar:
    """Named working hours, as `CalendarSettings.calendar` gives them."""
    return {"day": office()}[name]


def ticket(queue: str = "billing", language: str | None = "nl") -> Ticket:
    return Ticket(id=1, conversation_id=1, customer_id=1, status="new", priority="P3",
                  queue=queue, assignee_id=None, subject="s", language=language, category=None,
                  bot_attempts=[], created_at=MONDAY_10, updated_at=MONDAY_10)


def agent(id_: int, *, languages: tuple[str, ...] = ("nl", "fr"),
          queues: tuple[str, ...] = ("billing",), presence: Presence = "available",
          capacity: int = 3, skills: frozenset[str] = frozenset(), office_hours: bool = False,
          active: bool = True) -> Agent:
    operator = Operator(id=id_, username=f"op{id_}", display_name=f"Op {id_}", password_hash="",
                        role="agent", languages=languages, queues=queues, active=active)
    return Agent(operator, presence, capacity, skills, office() if office_hours else None)


def test_the_least_loaded_fitting_operator_gets_the_ticket() -> None:
    team = [agent(1), agent(2), agent(3)]
    chosen = pick_operator(ticket(), team, {1: 2, 2: 0, 3: 1}, at=MONDAY_10)
    assert chosen is not None and chosen.id == 2


def test_ties_go_to_the_lower_relative_load() -> None:
    team = [agent(1, capacity=2), agent(2, capacity=8)]
    chosen = pick_operator(ticket(), team, {1: 1, 2: 1}, at=MONDAY_10)
    assert chosen is not None and chosen.id == 2


def test_language_queue_presence_capacity_and_activity_all_count() -> None:
    misfits = [
        agent(1, languages=("fr",)),
        agent(2, queues=("sales",)),
        agent(3, presence="busy"),
        agent(4, presence="away"),
        agent(5, capacity=2),
        agent(6, active=False),
    ]
    assert pick_operator(ticket(), misfits, {5: 2}, at=MONDAY_10) is None
    fitting = agent(7)
    chosen = pick_operator(ticket(), [*misfits, fitting], {5: 2, 7: 2}, at=MONDAY_10)
    assert chosen == fitting


def test_operators_outside_their_working_hours_are_skipped() -> None:
    day_shift = agent(1, office_hours=True)
    assert pick_operator(ticket(), [day_shift], {}, at=MONDAY_10) == day_shift
    assert pick_operator(ticket(), [day_shift], {}, at=local(2026, 3, 9, 20)) is None
    assert pick_operator(ticket(), [day_shift], {}, at=local(2026, 7, 21, 10)) is None


def test_queue_skills_and_languages_are_required() -> None:
    technical = Queue("billing", frozenset({"nl", "fr"}), frozenset({"sepa"}))
    plain, skilled = agent(1), agent(2, skills=frozenset({"sepa", "vat"}))
    loads = {2: 2}
    assert pick_operator(ticket(), [plain, skilled], loads, at=MONDAY_10,
                         queue=technical) == skilled
    assert pick_operator(ticket(language="de"), [plain, skilled], loads, at=MONDAY_10,
                         queue=technical) is None


def test_a_ticket_without_a_known_language_goes_to_anyone_in_the_queue() -> None:
    chosen = pick_operator(ticket(language=None), [agent(1, languages=("de",))], {},
                           at=MONDAY_10)
    assert chosen is not None


async def test_presence_capacity_and_load_come_from_the_store(database_url: str) -> None:
    store = store_for(database_url)
    await store.open()
    try:
        ann = await store.create_operator("ann", "Ann", "x", "agent", ["nl"], ["billing"])
        bob = await store.create_operator("bob", "Bob", "x", "agent", ["nl"], ["billing"])
        cid = await store.create_operator("cid", "Cid", "x", "agent", ["nl"], ["billing"])
        customer = await store.resolve_customer(Identity("test", "c1"))
        conversation = await store.conversation_for(ConversationKey("test", "c1"),
                                                    customer.id, "nl")

        async def new_ticket() -> Ticket:
            return await store.create_ticket(conversation, queue="billing", priority="P3",
                                             subject="s", bot_attempts=[], actor="bot")

        first = await new_ticket()
        # Nobody has said they are available yet: the ticket stays in the queue.
        assert await routing.auto_assign(store, first, schedules, at=MONDAY_10) == first

        await routing.set_presence(store, ann.id, "available", capacity=1)
        await routing.set_presence(store, bob.id, "available")
        await routing.set_presence(store, cid.id, "busy", capacity=9)
        await routing.set_presence(store, bob.id, "available")  # keeps the capacity
        await routing.set_profile(store, bob.id, skills=["sepa"], schedule="day")

        assigned = await routing.auto_assign(store, first, schedules, at=MONDAY_10)
        assert assigned.assignee_id == ann.id  # lowest id among equally idle
        second = await routing.auto_assign(store, await new_ticket(), schedules, at=MONDAY_10)
        assert second.assignee_id == bob.id  # ann is at capacity 1
        third = await routing.auto_assign(store, await new_ticket(), schedules,
                                          at=local(2026, 3, 9, 19))
        assert third.assignee_id is None  # bob's day is over; cid is busy
        assert await routing.operator_load(store) == {ann.id: 1, bob.id: 1}

        found = {a.operator.username: a for a in await routing.agents(store, schedules)}
        assert found["ann"].capacity == 1 and found["bob"].capacity == routing.DEFAULT_CAPACITY
        assert found["bob"].skills == {"sepa"} and found["cid"].presence == "busy"
        events = [e.type for e in await store.events(ticket_id=first.id)]
        assert events == ["ticket.created", "ticket.assigned"]
        assert assigned.status == "new"  # taken in hand only when the operator acts
    finally:
        await store.close()


async def test_presence_must_be_known() -> None:
    with pytest.raises(ValueError, match="presence must be one of"):
        await routing.set_presence(store_for("sqlite::memory:"), 1, "lunch")
