"""The harness's transfer cuts are spread over the run (no servers needed): each is armed
at its own seeded moment of the delivery window, not all at the start (issue 11's long
runs cut only the first FETCH answers and the first replies)."""

from __future__ import annotations

import random
import time
from types import SimpleNamespace
from typing import Any, cast

from tests.faults import injectors
from tests.faults.state import Run, Scenario


class _Proxy:
    def __init__(self) -> None:
        self.armed: list[tuple[float, int]] = []

    def cut_during_transfer(self, times: int = 1, min_bytes: int = 4096,
                            upstream: bool = False) -> None:
        self.armed.append((time.monotonic(), times))


async def test_transfer_cuts_are_armed_one_at_a_time_over_the_window() -> None:
    scenario = Scenario("spread", mails=8, rate=4.0, imap_transfer_cuts=4, smtp_cuts=3)
    imap, smtp = _Proxy(), _Proxy()
    run: Any = SimpleNamespace(scenario=scenario, rng=random.Random(3), imap=imap,
                               smtp=smtp, faults={}, errors=[], window=2.0, gateways=[])
    began = time.monotonic()
    await injectors.inject(cast(Run, run))
    for proxy, count in ((imap, 4), (smtp, 3)):
        offsets = [at - began for at, _ in proxy.armed]
        assert [times for _, times in proxy.armed] == [1] * count
        assert all(0.15 <= o <= 1.95 for o in offsets), offsets  # 10-90 % of 2 s
        assert max(offsets) - min(offsets) > 0.3, offsets  # not all at one moment
    assert run.errors == []
