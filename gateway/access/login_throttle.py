"""Login throttling: failed console logins slow down, then lock out, per account and per
source address, so guessing a password costs an attacker days instead of minutes.

Per account: after `delay_after` failures within the lockout window, each further attempt
must wait `delay_seconds`, doubling per failure up to `max_delay_seconds` (an attempt made
sooner is refused unchecked); `max_failures` failures lock the account out for
`lockout_minutes`. Per source address (many accounts tried from one place, or one office
behind one NAT): `max_failures_per_address` failures lock the address out, without the
delays, so colleagues' typos do not slow each other down. A success clears the account's
record, not the address's: an attacker cannot reset their address's count by logging into
an account of their own. Keys of an unknown username count
the same as real ones, so the answers do not tell which accounts exist.

State lives in the process (a restart clears it); with several replicas each keeps its own
count (docs/security.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.config.settings import LoginSettings

#: Records kept before stale ones are swept (bounds the memory many addresses can take).
SWEEP_ABOVE = 10_000


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may be checked now; if not, how long until it may, and why."""

    wait: float
    locked: bool

    @property
    def allowed(self) -> bool:
        return self.wait <= 0


class LoginThrottle:
    def __init__(self, settings: LoginSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self._clock = settings, clock
        self._records: dict[str, _Record] = {}

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int, int | None], ...]:
        """Each key with its lockout threshold and the failures after which delays start."""
        return ((f"account:{username.strip().lower()[:200]}", self.settings.max_failures,
                 self.settings.delay_after),
                (f"address:{address}", self.settings.max_failures_per_address, None))

    def check(self, username: str, address: str) -> Verdict:
        """May an attempt for `username` from `address` be checked now?"""
        now = self._clock()
        verdicts = [self._verdict(self._live(key, now), now, delay_after)
                    for key, _, delay_after in self._keys(username, address)]
        return max(verdicts, key=lambda v: (v.locked, v.wait))

    def failed(self, username: str, address: str) -> bool:
        """Count a failure; True if it started a lockout (the caller logs that)."""
        now = self._clock()
        locked = False
        for key, max_failures, _ in self._keys(username, address):
            record = self._live(key, now) or self._records.setdefault(key, _Record())
            record.failures += 1
            record.last = now
            if record.failures >= max_failures and record.locked_until <= now:
                record.locked_until = now + self.settings.lockout_minutes * 60
                locked = True
        if len(self._records) > SWEEP_ABOVE:
            self._sweep(now)
        return locked

    def succeeded(self, username: str) -> None:
        self._records.pop(self._keys(username, "")[0][0], None)

    def _live(self, key: str, now: float) -> _Record | None:
        """The key's record, forgotten once its lockout and its window have passed."""
        record = self._records.get(key)
        window = self.settings.lockout_minutes * 60
        if record is not None and record.locked_until <= now and now - record.last > window:
            del self._records[key]
            return None
        if record is not None and 0 < record.locked_until <= now:
            del self._records[key]  # a served lockout starts a fresh count
            return None
        return record

    def _verdict(self, record: _Record | None, now: float, delay_after: int | None) -> Verdict:
        if record is None:
            return Verdict(0.0, False)
        if record.locked_until > now:
            return Verdict(record.locked_until - now, True)
        extra = record.failures - delay_after if delay_after is not None else -1
        if extra < 0:
            return Verdict(0.0, False)
        delay = min(self.settings.delay_seconds * 2 ** extra, self.settings.max_delay_seconds)
        return Verdict(record.last + delay - now, False)

    def _sweep(self, now: float) -> None:
        for key in list(self._records):
            self._live(key, now)
