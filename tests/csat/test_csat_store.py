"""The surveys' store logic on SQLite and PostgreSQL: one survey per ticket, a due time
that the sweep leases (one winner), one answer, and the CSAT figures per queue/operator."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.channels import ConversationKey, Identity
from gateway.models import Ticket, utcnow
from gateway.store import Store, store_for


@pytest.fixture
async def store(database_url: str) -> Store:
    opened = store_for(database_url)
    await opened.open()
    yield opened  # type: ignore[misc]
    await opened.close()


async def solved_ticket(store: Store, who: str, queue: str = "general",
                        assignee: int | None = None) -> Ticket:
    customer = await store.resolve_customer(Identity("webchat", who, who))
    conversation = await store.conversation_for(ConversationKey("webchat", who), customer.id,
                                                "nl")
    ticket = await store.create_ticket(conversation, queue=queue, priority="P3",
                                       subject="help", bot_attempts=[], actor="bot")
    return await store.update_ticket(ticket.id, "op", "ticket.solved", status="solved",
                                     assignee_id=assignee)


async def test_a_ticket_gets_one_survey_however_often_it_is_solved(store: Store) -> None:
    ticket = await solved_ticket(store, "s1")
    first = await store.schedule_survey(ticket, "webchat", "nl", utcnow())
    assert first is not None and first.status == "scheduled" and first.language == "nl"
    assert await store.schedule_survey(ticket, "webchat", "nl", utcnow()) is None
    assert (await store.survey_of_ticket(ticket.id)) == first


async def test_only_due_surveys_are_leased_and_only_once(store: Store) -> None:
    due = await store.schedule_survey(await solved_ticket(store, "d1"), "webchat", None,
                                      utcnow() - timedelta(seconds=1))
    later = await store.schedule_survey(await solved_ticket(store, "d2"), "webchat", None,
                                        utcnow() + timedelta(hours=1))
    assert due is not None and later is not None
    # two sweepers at once (two replicas): the due survey goes to exactly one of them
    a, b = await asyncio.gather(store.claim_due_surveys(timedelta(minutes=5), 10),
                                store.claim_due_surveys(timedelta(minutes=5), 10))
    assert sorted(s.id for s in a + b) == [due.id]
    assert await store.claim_due_surveys(timedelta(minutes=5), 10) == []


async def test_a_sweep_takes_at_most_its_batch_oldest_first(store: Store) -> None:
    now = utcnow()
    ids = []
    for n in range(5):
        s = await store.schedule_survey(await solved_ticket(store, f"b{n}"), "webchat", None,
                                        now - timedelta(minutes=10 - n))
        assert s is not None
        ids.append(s.id)
    taken = await store.claim_due_surveys(timedelta(minutes=5), 3)
    assert [s.id for s in taken] == ids[:3]


async def test_a_lease_that_runs_out_makes_the_survey_due_again(store: Store) -> None:
    s = await store.schedule_survey(await solved_ticket(store, "l1"), "webchat", None,
                                    utcnow() - timedelta(seconds=1))
    assert s is not None
    assert len(await store.claim_due_surveys(timedelta(milliseconds=1), 10)) == 1
    await asyncio.sleep(0.05)  # the sweeper "died": its lease is over
    assert [x.id for x in await store.claim_due_surveys(timedelta(minutes=5), 10)] == [s.id]


async def test_a_survey_is_answered_once_and_only_once_sent(store: Store) -> None:
    ticket = await solved_ticket(store, "a1")
    s = await store.schedule_survey(ticket, "webchat", None, utcnow())
    assert s is not None
    assert await store.answer_survey(s.id, 5, None) is None  # not sent yet
    await store.survey_sent(s.id, message_id=1)
    results = await asyncio.gather(store.answer_survey(s.id, 4, "quick"),
                                   store.answer_survey(s.id, 1, "late"))
    answered = [r for r in results if r is not None]
    assert len(answered) == 1 and answered[0].status == "answered"
    assert (await store.get_survey(s.id)).score == answered[0].score  # type: ignore[union-attr]


async def test_skipped_surveys_keep_why_and_are_never_sent(store: Store) -> None:
    s = await store.schedule_survey(await solved_ticket(store, "k1"), "webchat", None, utcnow())
    assert s is not None
    await store.survey_skipped(s.id, "the ticket is open again")
    await store.survey_sent(s.id, message_id=1)
    kept = await store.get_survey(s.id)
    assert kept is not None and (kept.status, kept.skip_reason) == (
        "skipped", "the ticket is open again")


async def test_the_quiet_period_counts_sent_surveys_of_the_customer(store: Store) -> None:
    ticket = await solved_ticket(store, "q1")
    s = await store.schedule_survey(ticket, "webchat", None, utcnow())
    assert s is not None
    since = utcnow() - timedelta(days=30)
    assert not await store.surveyed_since(ticket.customer_id, since)
    await store.survey_sent(s.id, message_id=1)
    assert await store.surveyed_since(ticket.customer_id, since)
    assert not await store.surveyed_since(ticket.customer_id, utcnow() + timedelta(seconds=1))


async def test_the_signing_secret_is_drawn_once_for_every_replica(store: Store) -> None:
    first = await store.link_secret()
    assert len(first) >= 32
    assert await store.link_secret() == first


async def test_csat_per_queue_and_operator_over_a_period(store: Store) -> None:
    ann = await store.create_operator("ann", "Ann", "x", "agent", queues=["general"])
    bob = await store.create_operator("bob", "Bob", "x", "agent", queues=["sales"])
    scores = [("general", ann.id, 5), ("general", ann.id, 2), ("sales", bob.id, 4),
              ("sales", None, 1)]
    for n, (queue, operator, score) in enumerate(scores):
        ticket = await solved_ticket(store, f"c{n}", queue, operator)
        s = await store.schedule_survey(ticket, "webchat", None, utcnow())
        assert s is not None
        await store.survey_sent(s.id, message_id=n + 1)
        await store.answer_survey(s.id, score, None)
    start, end = utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1)
    queues = {f.key: f for f in await store.csat_per_group("queue", start, end)}
    assert {k: (f.answers, f.average, f.satisfied) for k, f in queues.items()} == {
        "general": (2, 3.5, 1), "sales": (2, 2.5, 1)}
    assert queues["general"].csat_percent == 50.0
    people = await store.csat_per_group("operator", start, end)
    assert [(f.key, f.answers) for f in people] == [("", 1), ("ann", 2), ("bob", 1)]
    only_sales = await store.csat_per_group("operator", start, end, queue="sales")
    assert [(f.key, f.average) for f in only_sales] == [("", 1.0), ("bob", 4.0)]
    assert await store.csat_per_group("queue", end, end + timedelta(hours=1)) == []


async def test_access_requests_show_surveys_and_erasure_removes_the_comment(
        store: Store) -> None:
    from gateway.privacy import personal_data

    answered = await solved_ticket(store, "p1")
    s = await store.schedule_survey(answered, "webchat", None, utcnow())
    assert s is not None
    await store.survey_sent(s.id, message_id=1)
    await store.answer_survey(s.id, 2, "Ann Peeters, 12 Main St: never again")
    conversation = await store.get_conversation(answered.conversation_id)
    assert conversation is not None
    other = await store.create_ticket(conversation, queue="general", priority="P3",
                                      subject="again", bot_attempts=[], actor="bot")
    later = await store.schedule_survey(other, "webchat", None, utcnow() + timedelta(hours=1))
    assert later is not None
    exported = await personal_data.export(store, answered.customer_id, ())
    assert [(x["score"], x["comment"]) for x in exported["satisfaction_surveys"]] == [
        (2, "Ann Peeters, 12 Main St: never again"), (None, None)]
    await personal_data.erase(store, answered.customer_id, (), "admin")
    kept = await store.get_survey(s.id)
    assert kept is not None and (kept.score, kept.comment) == (2, None)
    cancelled = await store.get_survey(later.id)
    assert cancelled is not None and (cancelled.status, cancelled.skip_reason) == (
        "skipped", "customer data erased")
