"""Replies handed to a real SMTP server (aiosmtpd on loopback) through the gateway's
`SmtpSender`: reused sessions (the default, `POOL_SIZE`) against one session per mail
(`pool_size=0`: connect, EHLO, MAIL, RCPT, DATA, QUIT, as before issue 21) in the same run,
one after the other and 8 at a time (the outbox's `max_parallel`).

    PYTHONPATH=. .venv/bin/python benchmarks/smtp_send.py [--mails 500]

Prints one JSON object: mails per second and sessions opened for each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from benchmarks.email_ingest import Sink, free_port
from connectors.email.smtp import POOL_SIZE, SmtpSender
from gateway.config.channels import EmailSettings


def reply(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Support <support@example.com>"
    message["To"] = "ann@customer.test"
    message["Subject"] = f"Re: question {n}"
    message["Message-ID"] = f"<bench.{n}@example.com>"
    message.set_content("Delivery takes two to three working days.\n" * 5)
    return message


async def send_all(sender: SmtpSender, mails: int, parallel: int) -> float:
    queue = list(range(mails))

    async def worker() -> None:
        while queue:
            n = queue.pop()
            await sender.send(reply(n), "support@example.com", "ann@customer.test")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    elapsed = time.perf_counter() - started
    await sender.close()
    return elapsed


async def measure(port: int, sink: Sink, mails: int, pool_size: int,
                  parallel: int) -> dict[str, Any]:
    settings = EmailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="plain")
    sender = SmtpSender(settings, pool_size=pool_size)
    before = sink.accepted
    elapsed = await send_all(sender, mails, parallel)
    assert sink.accepted - before == mails
    return {"mails_per_second": round(mails / elapsed, 1),
            "sessions_opened": sender.sessions_opened}


async def run(mails: int) -> dict[str, Any]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    report: dict[str, Any] = {"benchmark": "smtp_send", "mails": mails,
                              "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    try:
        for parallel in (1, 8):
            # alternated twice: the machine's load moves between runs
            rounds = [await measure(port, sink, mails, size, parallel)
                      for size in (0, POOL_SIZE, 0, POOL_SIZE)]
            best = {size: max((r for r in rounds[i::2]), key=lambda r: r["mails_per_second"])
                    for i, size in enumerate((0, POOL_SIZE))}
            report[f"parallel_{parallel}"] = {
                "baseline_session_per_mail": best[0], "reused_sessions": best[POOL_SIZE],
                "ratio": round(best[POOL_SIZE]["mails_per_second"]
                               / best[0]["mails_per_second"], 2)}
    finally:
        controller.stop()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.mails))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
