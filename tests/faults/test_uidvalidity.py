"""The mailbox recreated under the running gateway (a server migration or a restore):
deleted, created again with the same mails and flags, so it has a new UIDVALIDITY and
new UIDs. Unread mail that was in it must be taken in, read mail must not come back,
and mail arriving afterwards must flow on: every mail once, every reply once."""

from __future__ import annotations

from pathlib import Path

from tests.faults.checks import assert_exactly_once
from tests.faults.scenario import run
from tests.faults.state import Scenario


async def test_a_uidvalidity_reset_while_running_loses_and_doubles_nothing(
        tmp_path: Path) -> None:
    report = await run(Scenario("uidvalidity-reset", mails=24, rate=3, uidvalidity_reset=True,
                                log_level="info"), workdir=tmp_path)
    before, after = report["faults"]["uidvalidity"]
    assert before != after
    assert_exactly_once(report)
