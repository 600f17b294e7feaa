"""The exactly-once assertions every fault scenario must satisfy (issue 11)."""

from __future__ import annotations

import json
from typing import Any

#: Figure -> required value: nothing lost, nothing doubled, nothing stuck.
EXACTLY_ONCE = {"lost": 0, "quarantined": 0, "duplicated": 0, "sent_twice": 0,
                "never_sent": 0, "replies_to_unknown_mail": 0, "stalls_over_60s": 0,
                "readyz_ok_while_stalled_samples": 0, "errors": []}

#: Seconds of running time within which a mail whose handler died (SIGKILL, a killed
#: database connection) is answered: the claim lease plus a sweep, with room for a
#: loaded machine (`reply_wait_up_s`).
RESUMED_WITHIN = 30.0


def assert_exactly_once(report: dict[str, Any]) -> None:
    """Every mail ingested once and answered once; the report is printed either way."""
    print(json.dumps(report, sort_keys=True))
    wrong = {key: report[key] for key, want in EXACTLY_ONCE.items() if report[key] != want}
    assert not wrong, f"{report['scenario']['name']}: {wrong}; examples {report['examples']}"
    assert report["ingested_once"] == report["mails_delivered"] == report["sent_once"]
