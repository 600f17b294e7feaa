"""Nothing lost, nothing sent twice, never silently stuck: the gateway under faults.

The real gateway process (`python -m gateway.cli run`) reads a fresh mailbox of the
private Dovecot through a TCP proxy of ours and sends through another to an aiosmtpd sink,
while mail arrives and faults happen: SIGKILL and restart, TCP cuts (random, mid-FETCH,
mid-DATA), IMAP and SMTP outages, a UIDVALIDITY reset, killed PostgreSQL connections, two
replicas. The same mails are first run without faults (the same-run baseline). Prints
one JSON object: per run, mails delivered / ingested once / lost / duplicated, replies
expected / sent once / sent twice / never sent, stalls over 60 s, latencies.

    .venv/bin/python benchmarks/faults.py                  # short: 60 mails, some of each fault
    .venv/bin/python benchmarks/faults.py --preset medium  # the long run's faults, 1,500 mails
    .venv/bin/python benchmarks/faults.py --preset long    # issue 11: 10,000 mails, ~75 min
    .venv/bin/python benchmarks/faults.py --mails 200 --kills 5 --database postgresql

Needs the private Dovecot (`tests/services/dovecot.sh start`) and, for
`--database postgresql`, the local PostgreSQL. See docs/reliability.md for the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.scenario import run  # noqa: E402
from tests.faults.state import Scenario  # noqa: E402

#: The short default: about two minutes on the 2-core development machine.
SHORT = Scenario("short", mails=60, rate=3.0, kills=2, imap_cuts=3, imap_transfer_cuts=2,
                 smtp_cuts=2, imap_outage=5.0, smtp_outage=5.0, settle=60.0,
                 outbox={"lease_seconds": 5})
#: Issue 11's target: 10,000 mails with random kills and cuts, an SMTP outage of 10 min,
#: killed PostgreSQL connections and two replicas on one mailbox and one database.
LONG = Scenario("long", mails=10_000, rate=5.0, database="postgresql", replicas=2, kills=40,
                imap_cuts=30, imap_transfer_cuts=10, smtp_cuts=20, pg_kills=20,
                imap_outage=120.0, smtp_outage=600.0, uidvalidity_reset=True,
                settle=900.0, outbox={"lease_seconds": 30})
#: The long run's faults on 1,500 mails (~30 min): checks the harness end to end first.
MEDIUM = dataclasses.replace(LONG, name="medium", mails=1_500, kills=6, imap_cuts=5,
                             imap_transfer_cuts=2, smtp_cuts=3, pg_kills=3, imap_outage=30.0,
                             smtp_outage=90.0, settle=300.0)
PRESETS = {"short": SHORT, "medium": MEDIUM, "long": LONG}
_COMPARED = ("lost", "duplicated", "quarantined", "sent_twice", "never_sent",
             "stalls_over_60s", "readyz_ok_while_stalled_samples")


def parse(argv: list[str]) -> tuple[Scenario, Path | None]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="short")
    fields = {f.name: f for f in dataclasses.fields(Scenario)}
    for name in ("mails", "rate", "database", "replicas", "kills", "kill_at", "imap_cuts",
                 "imap_byes", "imap_transfer_cuts", "smtp_cuts", "imap_outage", "smtp_outage",
                 "pg_kills", "backlog", "settle", "seed", "log_level"):
        kind = fields[name].type
        convert = {"int": int, "float": float}.get(str(kind), str)
        p.add_argument(f"--{name.replace('_', '-')}", type=convert, default=None)
    p.add_argument("--uidvalidity-reset", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--lease-seconds", type=float, default=None,
                   help="outbox lease (the product default is 60 s)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="keep the gateways' logs and files here (default: a temporary one)")
    args = vars(p.parse_args(argv))
    scenario = PRESETS[args.pop("preset")]
    lease = args.pop("lease_seconds")
    workdir = args.pop("workdir")
    changes = {k: v for k, v in args.items() if v is not None}
    if lease is not None:
        changes["outbox"] = {**scenario.outbox, "lease_seconds": lease}
    return dataclasses.replace(scenario, **changes), workdir


def baseline_of(scenario: Scenario) -> Scenario:
    """The same mails at the same rate on the same store, without any fault."""
    return Scenario(f"{scenario.name}-baseline", mails=scenario.mails, rate=scenario.rate,
                    database=scenario.database, replicas=1, backlog=scenario.backlog,
                    settle=min(scenario.settle, 120.0), outbox=dict(scenario.outbox),
                    user=scenario.user, seed=scenario.seed, log_level=scenario.log_level)


async def main(argv: list[str]) -> dict[str, Any]:
    scenario, workdir = parse(argv)
    dirs: list[Path | None] = [None, None]
    if workdir is not None:
        dirs = [workdir / "baseline", workdir / "faults"]
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
    baseline = await run(baseline_of(scenario), dirs[0])
    faulted = await run(scenario, dirs[1])
    return {
        "benchmark": "faults",
        "baseline": baseline,
        "faults": faulted,
        "difference": {k: faulted[k] - baseline[k] for k in _COMPARED},
        "exactly_once": all(faulted[k] == 0 for k in _COMPARED)
        and faulted["sent_once"] == faulted["ingested_once"] == faulted["mails_delivered"],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:])), indent=2))
