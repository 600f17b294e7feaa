"""Which hand-offs are knowledge-base gaps and what question each one stands for
(gateway/reports/gaps.py), on SQLite and PostgreSQL: the question an answer replied to, not
"that didn't help"; a request for a person only after an answer; the newest hand-offs
only, saying when there were more."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from gateway.models import utcnow
from gateway.reports.gaps import find_gaps
from gateway.store import Store, codec, store_for


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = store_for(database_url)
    await store.open()
    yield store
    await store.close()


async def _conversation(store: Store, number: int,
                        messages: list[tuple[str, str, str | None, dict[str, Any]]]) -> None:
    """(author, text, kind, meta) in order, a second apart, an hour ago."""
    start = utcnow() - timedelta(hours=1)
    await store.db.execute("INSERT INTO customers (id, name, created_at) VALUES (?, 'c', ?)",
                           number, codec.ts(start))
    await store.db.execute(
        "INSERT INTO conversations (id, customer_id, channel, address, language, created_at,"
        " updated_at) VALUES (?, ?, 'api', ?, 'en', ?, ?)", number, number, f"a{number}",
        codec.ts(start), codec.ts(start))
    for n, (author, text, kind, meta) in enumerate(messages):
        direction = "inbound" if author == "customer" else "outbound"
        await store.db.execute(
            "INSERT INTO messages (conversation_id, channel, direction, author, text, kind, meta,"
            " handled, created_at) VALUES (?, 'api', ?, ?, ?, ?, ?, 1, ?)", number, direction,
            author, text, kind, json.dumps(meta), codec.ts(start + timedelta(seconds=n)))


def _handoff(reason: str) -> tuple[str, str, str, dict[str, Any]]:
    return ("bot", "A colleague will help.", "handoff", {"reason": reason})


ANSWER = ("bot", "We open at 9.", "answer", {"article_id": "hours", "confidence": 0.93})


async def test_gaps_are_the_questions_the_bot_fell_short_on(store: Store) -> None:
    await _conversation(store, 1, [("customer", "Do you sell gift cards?", None, {}),
                                   _handoff("no confident answer")])
    await _conversation(store, 2, [("customer", "When do you open on Sunday?", None, {}),
                                   ANSWER, ("customer", "that didn't help", None, {}),
                                   _handoff("answer did not help"),
                                   ("operator", "Sundays we are closed.", "operator", {})])
    await _conversation(store, 3, [("customer", "I want to talk to a human", None, {}),
                                   _handoff("asked for a human")])
    await _conversation(store, 4, [("customer", "Opening hours at Christmas?", None, {}),
                                   ANSWER, ("customer", "a person please", None, {}),
                                   _handoff("asked for a human")])
    await _conversation(store, 5, [("customer", "I am furious!!", None, {}),
                                   _handoff("customer frustrated")])
    gaps, more = await find_gaps(store, utcnow() - timedelta(days=1))
    assert not more
    found = {g.conversation_id: (g.reason, g.question, g.article_id, g.confidence, g.reply)
             for g in gaps}
    assert found == {
        1: ("no confident answer", "Do you sell gift cards?", None, None, None),
        2: ("answer did not help", "When do you open on Sunday?", "hours", 0.93,
            "Sundays we are closed."),
        4: ("asked for a human", "Opening hours at Christmas?", "hours", 0.93, None),
    }
    newest, more = await find_gaps(store, utcnow() - timedelta(days=1), limit=2)
    # the two newest of the four gap-kind hand-offs (5 is not one: never read)
    assert more and [g.conversation_id for g in newest] == [4, 2]
    assert await find_gaps(store, utcnow() - timedelta(minutes=5)) == ([], False)
