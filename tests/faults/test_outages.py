"""Mail servers failing under the real gateway process: SMTP and PostgreSQL.

The SMTP sink becomes unreachable for a while and a send is cut half-way through
DATA (the server never got the end of the mail); PostgreSQL loses every gateway
connection three times, between two mails. Each reply must still arrive exactly once.
"""

from __future__ import annotations

from pathlib import Path

from tests.faults.checks import assert_exactly_once
from tests.faults.scenario import run
from tests.faults.state import Scenario


async def test_smtp_outage_and_a_cut_during_data_deliver_every_reply_once(
        tmp_path: Path) -> None:
    report = await run(Scenario("smtp-outage-and-data-cuts", mails=24, rate=3,
                                smtp_outage=5.0, smtp_cuts=1), workdir=tmp_path)
    assert report["faults"]["smtp_outage_s"] == 5.0
    assert report["faults"]["smtp_connections_cut"] == 1
    assert_exactly_once(report)


async def test_killed_postgresql_connections_lose_and_double_nothing(tmp_path: Path) -> None:
    """Between two mails: a kill in the middle of one mail's handling leaves that mail
    claimed for 60 s, and its reply waits for the resume sweep (docs/reliability.md)."""
    report = await run(Scenario("pg-kills", mails=24, rate=3, pg_kills=3, kill_at="quiet",
                                database="postgresql"), workdir=tmp_path)
    assert report["faults"]["pg_backends_terminated"] >= 3
    assert_exactly_once(report)
