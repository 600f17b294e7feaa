"""How long /healthz takes while the gateway takes in hostile mails from a real Dovecot.

Starts the real gateway process (`python -m gateway.cli run`, SQLite, the e-mail connector
on a fresh mailbox of the private Dovecot, replies to a local aiosmtpd), then asks
/healthz again and again from this process: idle (the baseline, same run), while an
ordinary mail is taken in (a second baseline), and while each hostile mail of issue 14 is
taken in: 5 MB of text, a 100 KB line built to look like an attribution, 2 MB of
lines of ">" only, a MIME tree 1,000 levels deep. A mail counts as taken in once `/readyz` shows
the connector past its UID (committed, or quarantined: the count of quarantined mails is
reported with it). Prints one JSON object; the target is /healthz under 100 ms throughout.

    .venv/bin/python benchmarks/email_hostile.py [--rounds 1]

Needs the private Dovecot (`tests/services/dovecot.sh start`, started here if needed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.email_live.servers import (  # noqa: E402
    IMAP_PORT,
    MailAdmin,
    SmtpCapture,
    ensure_dovecot,
    make_mail,
    unique_mailbox,
)
from tests.email_live.test_hostile_sizes import (  # noqa: E402
    adversarial_attribution_line,
    deeply_nested_mime,
    five_megabytes_of_text,
    quote_marker_lines,
)
from tests.faults.gateway_proc import GatewayConfig, GatewayProcess  # noqa: E402

#: Seconds one mail may take to be taken in before the run is called stalled.
MAIL_TIMEOUT = 300.0


def ordinary_mail() -> bytes:
    return make_mail(sender="Ann <ann@customer.test>", subject="Delivery",
                     body="How long does delivery take for my new bike?")


MAILS: dict[str, Callable[[], bytes]] = {
    "ordinary": ordinary_mail,
    "5MB-text": five_megabytes_of_text,
    "100KB-attribution-line": adversarial_attribution_line,
    "quote-marker-lines": quote_marker_lines,
    "deep-MIME": deeply_nested_mime,
}


async def _healthz_ms(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url) as response:
        assert response.status == 200, response.status
    return (time.perf_counter() - started) * 1000


def _summary(samples: list[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    return {"samples": len(ordered), "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)], 1),
            "max_ms": round(ordered[-1], 1)}


async def _email_health(gateway: GatewayProcess) -> dict[str, Any]:
    ready = await gateway.readyz() or {}
    return dict(ready.get("checks", {}).get("connectors", {}).get("email", {}))


async def _while_taken_in(session: aiohttp.ClientSession, gateway: GatewayProcess,
                          mailbox: str, raw: bytes) -> dict[str, Any]:
    """APPEND one mail; ask /healthz every 20 ms until the connector is past its UID."""
    quarantined = (await _email_health(gateway)).get("quarantined", 0)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, raw)
    started = time.perf_counter()
    samples: list[float] = []
    health: dict[str, Any] = {}

    async def watch() -> None:
        while (health.get("last_uid") or 0) < uid:
            await asyncio.sleep(0.2)
            health.update(await _email_health(gateway))

    watcher = asyncio.create_task(watch())
    try:
        while not watcher.done():
            if time.perf_counter() - started > MAIL_TIMEOUT:
                raise TimeoutError(f"mail {uid} not taken in after {MAIL_TIMEOUT:g} s")
            samples.append(await _healthz_ms(session, f"{gateway.url}/healthz"))
            await asyncio.sleep(0.02)
    finally:
        watcher.cancel()
    return {"bytes": len(raw), "seconds": round(time.perf_counter() - started, 2),
            "quarantined": health.get("quarantined", 0) - quarantined,
            "healthz": _summary(samples)}


async def run(rounds: int) -> dict[str, Any]:
    error = ensure_dovecot()
    if error:
        raise SystemExit(error)
    mailbox = unique_mailbox()
    async with MailAdmin() as admin:
        await admin.create(mailbox)
    smtp = SmtpCapture().start()
    result: dict[str, Any] = {"benchmark": "email_hostile", "rounds": rounds}
    with tempfile.TemporaryDirectory() as tmp:
        gateway = GatewayProcess(GatewayConfig(
            database_url=f"sqlite:{Path(tmp) / 'hostile.db'}", imap_port=IMAP_PORT,
            smtp_port=smtp.port, mailbox=mailbox), Path(tmp))
        try:
            await gateway.start()
            url = f"{gateway.url}/healthz"
            async with aiohttp.ClientSession() as session:
                idle = []
                for _ in range(50):
                    idle.append(await _healthz_ms(session, url))
                    await asyncio.sleep(0.02)
                result["idle"] = _summary(idle)
                for name, build in MAILS.items():
                    runs = [await _while_taken_in(session, gateway, mailbox, build())
                            for _ in range(rounds)]
                    result[name] = runs[0] if rounds == 1 else runs
        finally:
            await gateway.stop()
            smtp.stop()
            async with MailAdmin() as admin:
                await admin.delete(mailbox)
    result["python"] = sys.version.split()[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="times each mail is sent")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rounds))))


if __name__ == "__main__":
    main()
