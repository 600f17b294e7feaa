"""The surveys' hot queries keep to their indexes however many surveys history holds: the
sweep reads only scheduled rows, the quiet-period check one customer's, the CSAT figures
the period's answers (the method of tests/test_query_plans.py, on both engines)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gateway.models import utcnow
from gateway.store import store_for
from tests import test_query_plans
from tests.test_query_plans import HISTORY, SEED, Recorder, full_scans

OLD = "'2020-01-01T00:00:00.000000Z'"

SURVEYS = (
    f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {HISTORY})"
    " INSERT INTO csat_surveys (ticket_id, conversation_id, customer_id, channel, queue,"
    " status, due_at, sent_at, score, answered_at, created_at)"
    f" SELECT i, i, i, 'email', 'general', 'answered', {OLD}, {OLD}, 1 + i % 5, {OLD}, {OLD}"
    " FROM n"
)


async def test_survey_queries_use_indexes_not_history(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(test_query_plans, "BIG", test_query_plans.BIG | {"csat_surveys"})
    store = store_for(database_url)
    await store.open()
    try:
        for statement in (*SEED, SURVEYS):
            await store.db.execute(statement)
        await store.db.execute("ANALYZE")
        recorder = Recorder(store)
        now = utcnow()
        jobs: dict[str, Any] = {
            "claim_due_surveys": store.claim_due_surveys(timedelta(minutes=5), 50),
            "surveyed_since": store.surveyed_since(7, now - timedelta(days=30)),
            "csat_per_queue": store.csat_per_group("queue", now - timedelta(days=30), now),
            "csat_per_operator": store.csat_per_group("operator", now - timedelta(days=30),
                                                      now),
            "survey_of_ticket": store.survey_of_ticket(7),
        }
        scans: dict[str, list[str]] = {}
        for name, job in jobs.items():
            recorder.sent.clear()
            await job
            for sql, args in list(recorder.sent):
                found = [s for s in await full_scans(store, sql, args)
                         if "csat_surveys" in s or "operators" not in s]
                if found:
                    scans.setdefault(name, []).extend(found)
        assert scans == {}
    finally:
        await store.close()
