"""The backlog figures of a mailbox (connectors/email/backlog.py) and the states they give
in its health report (health.py): behind by N, oldest waiting T by this process's clock,
`behind` while mail moves, `stuck` while none does. The live tests (tests/email_live/
test_backlog.py) show the same through /readyz against Dovecot."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from connectors.email.backlog import Backlog
from connectors.email.health import ReaderHealth
from gateway.console import i18n
from gateway.console.channel_status import _status


def test_behind_counts_the_listed_mails_above_the_position_not_yet_taken_in() -> None:
    backlog = Backlog()
    assert backlog.behind() is None  # never listed: unknown, not 0
    backlog.listed(7, 10, [8, 11, 12, 15, 20], now=100.0)  # 8: at or below the position
    assert backlog.behind() == 4 and backlog.oldest() == 11
    backlog.taken_in(11, now=101.0)
    backlog.taken_in(12, now=102.0)
    assert backlog.behind() == 2 and backlog.oldest() == 15  # batch not committed yet
    backlog.advanced(15, now=103.0)
    assert backlog.behind() == 1 and backlog.oldest() == 20
    backlog.advanced(20, now=104.0)
    assert backlog.behind() == 0 and backlog.oldest_waiting(now=200.0) == 0.0


def test_the_oldest_waits_since_the_first_listing_that_showed_it() -> None:
    backlog = Backlog()
    backlog.listed(7, 0, [1, 2], now=100.0)
    backlog.listed(7, 0, [1, 2, 3, 4], now=110.0)  # 3 and 4 first seen at 110
    assert backlog.oldest_waiting(now=130.0) == 30.0
    backlog.advanced(2, now=131.0)
    assert backlog.oldest_waiting(now=131.0) == 21.0  # UID 3: known since 110
    backlog.listed(7, 2, [3, 4], now=140.0)  # listed again: still known since 110
    assert backlog.oldest_waiting(now=140.0) == 30.0
    assert backlog.since_taken_in(now=141.0) == 10.0


def test_a_uidvalidity_change_forgets_the_old_uids() -> None:
    backlog = Backlog()
    backlog.listed(7, 0, [5, 6], now=100.0)
    backlog.dated({5: datetime(2026, 1, 1, tzinfo=UTC)})
    backlog.listed(8, 0, [1, 2, 3], now=500.0)
    assert backlog.behind() == 3 and backlog.oldest_waiting(now=510.0) == 10.0
    assert backlog.oldest_internal_date() is None


def test_internal_date_is_informational_only() -> None:
    """An old mail moved into the mailbox is not reported as waiting since its date."""
    backlog = Backlog()
    backlog.listed(7, 0, [1], now=time.monotonic())
    backlog.dated({1: datetime(2020, 1, 1, tzinfo=UTC)})
    assert backlog.oldest_internal_date() == datetime(2020, 1, 1, tzinfo=UTC)
    assert backlog.oldest_waiting() < 5


class _Lease:
    standing_by = False

    def health(self) -> dict[str, object]:
        return {"held_here": True}


def _report(health: ReaderHealth, lease: _Lease | None = None) -> dict[str, object]:
    return health.report(60.0, lease or _Lease(), "INBOX", 300.0)  # type: ignore[arg-type]


def test_past_the_threshold_a_moving_reader_is_behind_and_a_still_one_stuck() -> None:
    now = time.monotonic()
    health = ReaderHealth(connected=True, syncing=True)
    health.last_progress = datetime.now(UTC)
    health.backlog.listed(7, 0, range(1, 101), now=now - 400)
    report = _report(health)
    assert report["state"] == "stuck" and report["ok"] is False
    assert report["behind"] == 100 and report["last_taken_in_at"] is None

    health.backlog.taken_in(1, now=now - 10)
    report = _report(health)
    assert report["state"] == "behind" and report["ok"] is False and report["behind"] == 99
    assert float(report["oldest_waiting_seconds"]) >= 400  # type: ignore[arg-type]

    health.backlog.listed(7, 0, range(1, 101), now=now)
    health.backlog.advanced(100, now=now)
    report = _report(health)
    assert report["state"] == "syncing" and report["ok"] is True and report["behind"] == 0


def test_a_replica_standing_by_does_not_report_a_backlog() -> None:
    lease = _Lease()
    lease.standing_by = True
    health = ReaderHealth()
    health.backlog.listed(7, 0, [1, 2], now=time.monotonic() - 1000)
    report = _report(health, lease)
    assert report["ok"] is True and report["state"] == "standby"
    assert report["behind"] is None and report["oldest_waiting_seconds"] is None


def test_the_console_says_how_many_mails_wait_and_for_how_long() -> None:
    report = {"ok": False, "state": "behind", "behind": 1204,
              "oldest_waiting_seconds": 540.0, "mailbox": "INBOX"}
    token = i18n.use("en")
    try:
        status = _status("email", report)
    finally:
        i18n.reset(token)
    assert status.doing == "is taking mail in, but is behind"
    assert status.waiting == "1204 mails waiting, the oldest for 9 mins"
    quiet = _status("email", {**report, "oldest_waiting_seconds": 20.0})
    assert quiet.waiting == ""  # under a minute: not worth a line
