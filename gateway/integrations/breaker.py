"""A circuit breaker per integration: after `failures` failed calls in a row, no call for
`seconds` seconds, then one trial call decides whether it closes again.

Why: a back office that is down answers every customer with a timeout; waiting that long for
each of them only to hand off anyway slows every conversation and piles load on a system
that is already struggling. Open, the bot hands off at once with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    def __init__(self, failures: int, seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = failures
        self.seconds = seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        #: A trial call is in flight while half-open: the others still wait.
        self._trial = False

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.seconds else "open"

    def allow(self) -> bool:
        """May a call go out now? Half-open lets exactly one through as the trial."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._trial:
            self._trial = True
            return True
        return False

    def retry_in(self) -> float:
        """Seconds until a trial call is allowed (0 when closed)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.seconds - (self.clock() - self.opened_at))

    def succeeded(self) -> None:
        self.failures, self.opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        self.failures += 1
        if self._trial or self.failures >= self.threshold:
            self.opened_at = self.clock()  # a failed trial opens it for another period
        self._trial = False
