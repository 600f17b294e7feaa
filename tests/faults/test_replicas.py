"""Two gateway processes started together on one mailbox and one PostgreSQL database, one
of them killed and restarted on the way: every mail once, every reply once."""

from __future__ import annotations

from pathlib import Path

from tests.faults.checks import assert_exactly_once
from tests.faults.scenario import run
from tests.faults.state import Scenario


async def test_two_replicas_on_one_mailbox_ingest_and_answer_once(tmp_path: Path) -> None:
    report = await run(Scenario("two-replicas", mails=24, rate=3, replicas=2,
                                database="postgresql", kills=1, kill_at="quiet",
                                outbox={"lease_seconds": 5}), workdir=tmp_path)
    assert report["gateway_crashes"] == 0
    assert_exactly_once(report)
