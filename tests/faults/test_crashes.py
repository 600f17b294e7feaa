"""The real gateway process against Dovecot and an SMTP sink, with and without SIGKILLs.

Each test delivers mail while faults happen, then checks the three witnesses (the mailbox,
the database, the SMTP sink): every mail ingested once, every reply delivered once.
"""

from __future__ import annotations

from pathlib import Path

from tests.faults.checks import RESUMED_WITHIN, assert_exactly_once
from tests.faults.scenario import run
from tests.faults.state import Scenario


async def test_without_faults_every_mail_is_ingested_and_answered_once(tmp_path: Path) -> None:
    report = await run(Scenario("baseline", mails=20, rate=10), workdir=tmp_path)
    assert_exactly_once(report)


async def test_sigkill_between_mails_then_a_backlog_loses_and_doubles_nothing(
        tmp_path: Path) -> None:
    """Killed after the last mail's reply (its flag and position may still be unwritten);
    mail keeps arriving while the process is down and restarts."""
    report = await run(Scenario("sigkill-quiet", mails=24, rate=4, kills=1, kill_at="quiet",
                                outbox={"lease_seconds": 5}), workdir=tmp_path)
    assert report["faults"]["sigkills"] == 1
    assert report["gateway_down_s"] > 0  # mail did arrive while it was down
    assert_exactly_once(report)


async def test_sigkill_right_after_the_smtp_250_sends_the_reply_once(tmp_path: Path) -> None:
    """The sink accepted a reply's DATA and holds back its answer to QUIT; the process dies
    there, before any bookkeeping that follows the send, and restarts."""
    report = await run(Scenario("sigkill-after-250", mails=12, rate=3, kills=1,
                                kill_at="after-250", outbox={"lease_seconds": 5}),
                       workdir=tmp_path)
    assert report["faults"]["sigkills"] == 1
    assert_exactly_once(report)


async def test_sigkill_while_a_mail_is_being_decided_answers_it_soon_after_the_restart(
        tmp_path: Path) -> None:
    """Killed while one mail is stored and its handling holds the claim. The restarted
    process finds the mail claimed by the dead one: the reply waits for the claim to
    expire and a resume sweep to notice (60-90 s of running time before issue 11's fix)."""
    report = await run(Scenario("sigkill-mid-mail", mails=6, rate=3, kills=1,
                                kill_at="mid-mail", database="postgresql",
                                outbox={"lease_seconds": 5}), workdir=tmp_path)
    assert report["faults"]["sigkills"] == 1
    assert_exactly_once(report)
    assert report["reply_wait_up_s"]["max"] < RESUMED_WITHIN, report["reply_wait_up_s"]
