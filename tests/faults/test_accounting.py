"""The harness's stall figures: a mail waiting over 60 s while a gateway ran is a stall,
counted in the minute it was delivered, and a wait while no gateway ran is not."""

from __future__ import annotations

from tests.faults.accounting import Ledger, account
from tests.faults.db import Ingested

T0 = 1_000_000.0


def test_stalls_are_counted_per_minute_of_delivery_and_downtime_is_not_a_stall() -> None:
    ledger = Ledger(delivered={"<a>": T0 + 10, "<b>": T0 + 70, "<c>": T0 + 130},
                    up=[(T0, T0 + 150), (T0 + 300, None)])
    ingested = [Ingested("<a>", T0 + 15), Ingested("<b>", T0 + 140),  # 70 s of up time
                Ingested("<c>", T0 + 310)]  # 20 s up, 150 s with no gateway running
    figures = account(ledger, ingested, [], 0, T0 + 400, began=T0)
    assert figures["stalls_over_60s"] == 1
    assert figures["stalls_by_minute"] == [[0, 1, 0, 5.0], [1, 1, 1, 70.0], [2, 1, 0, 30.0]]
