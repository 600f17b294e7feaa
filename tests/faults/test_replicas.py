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


async def test_one_replica_reads_the_mailbox_and_another_takes_over_when_it_dies(
        tmp_path: Path) -> None:
    """Two replicas on one PostgreSQL database: only the holder of the mailbox lease keeps
    an IMAP connection, and when it is killed the other takes over within the lease."""
    lease = 9.0
    report = await run(Scenario("mailbox-lease", mails=30, rate=2, replicas=2,
                                database="postgresql", kills=2, kill_at="holder",
                                email={"lease_seconds": lease},
                                outbox={"lease_seconds": 5}), workdir=tmp_path)
    assert_exactly_once(report)
    assert report["faults"]["imap_connections_open_at_once"] == 1
    takeovers = report["faults"]["lease_takeover_s"]
    assert len(takeovers) == 2
    # the lease runs out, the other replica's next try (every third) takes it, connects
    assert max(takeovers) < lease + lease / 3 + 8.0, takeovers
