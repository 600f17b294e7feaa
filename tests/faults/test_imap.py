"""The IMAP side failing under the real gateway process: connections reset (at random, and
half-way through a FETCH answer), a graceful server stop (BYE) during IDLE, and the server
unreachable for a while. Mail keeps arriving in
Dovecot meanwhile; each mail must be taken in and answered once, without a stall.
"""

from __future__ import annotations

from pathlib import Path

from tests.faults.checks import assert_exactly_once
from tests.faults.scenario import run
from tests.faults.state import Scenario


async def test_reset_imap_connections_lose_nothing_and_stall_nothing(tmp_path: Path) -> None:
    report = await run(Scenario("imap-cuts", mails=24, rate=3, imap_cuts=2,
                                imap_transfer_cuts=1), workdir=tmp_path)
    assert report["faults"]["imap_connections_cut"] >= 1
    assert_exactly_once(report)


async def test_a_graceful_imap_server_stop_is_followed_by_a_reconnect(tmp_path: Path) -> None:
    report = await run(Scenario("imap-bye", mails=24, rate=3, imap_byes=1), workdir=tmp_path)
    assert report["faults"]["imap_byes"] == 1
    assert_exactly_once(report)


async def test_an_imap_outage_loses_nothing(tmp_path: Path) -> None:
    report = await run(Scenario("imap-outage", mails=24, rate=3, imap_outage=5.0),
                       workdir=tmp_path)
    assert report["faults"]["imap_outage_s"] == 5.0
    assert_exactly_once(report)
