"""How fast the email connector takes in a backlog, against a real Dovecot.

The scenario is reliability §5: the gateway was down while N mails arrived. It connects
once to an empty mailbox (baseline), stops, N mails are APPENDed, and the gateway starts
again: the timed part is the catch-up, with the real connector, pipeline and SQLite
store, until the last mail is committed and flagged. The baseline, measured in the same
run on the same mails, is a bare aioimaplib UID FETCH of every mail with no processing,
and `parse_message` alone on every mail.

    .venv/bin/python benchmarks/email_ingest.py [--mails 1000]

Needs the private Dovecot (`tests/services/dovecot.sh start`); prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aioimaplib
from aiohttp import web
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.email.connector import EmailConnector, Tuning  # noqa: E402
from connectors.email.imap import WINDOW, Pending, batches, quote_mailbox  # noqa: E402
from connectors.email.parse import ParsedMail, parse_message  # noqa: E402
from connectors.email.reader import MailboxReader  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.config.settings import Settings  # noqa: E402
from gateway.keys import CONNECTORS  # noqa: E402
from gateway.logs import configure  # noqa: E402

HOST, PORT, USER, PASSWORD = "127.0.0.1", 10143, "bench", "bench-pass"
QUESTIONS = (
    "How long does delivery take?",
    "Can I get a copy of my invoice?",
    "My battery does not charge any more, what should I do?",
    "What are the opening hours of your shops?",
    "I want to change my delivery address",
    "Bonjour, combien de temps prend la livraison ?",
    "Hoe lang duurt de levering van mijn fiets?",
    "I would like to talk to a human please",
)


def mail(n: int) -> bytes:
    """A realistic customer mail: plain text, a quoted reply on every third."""
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <customer{n}@bench.test>"
    msg["To"] = "support@velora.test"
    msg["Subject"] = f"Question {n}"
    msg["Message-ID"] = f"<bench-{n}-{uuid.uuid4().hex[:8]}@bench.test>"
    msg["Date"] = "Sun, 29 Nov 2026 10:00:00 +0100"
    body = f"Hello,\n\n{QUESTIONS[n % len(QUESTIONS)]}\n\nRegards,\nCustomer {n}\n"
    if n % 3 == 0:
        body += "\nOn Sat, 28 Nov 2026 at 09:00, Support wrote:\n> Earlier answer\n> text\n"
    msg.set_content(body)
    return msg.as_bytes()


async def imap() -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=HOST, port=PORT, timeout=30)
    await client.wait_hello_from_server()
    await client.login(USER, PASSWORD)
    return client


async def close(client: aioimaplib.IMAP4) -> None:
    await client.logout()
    client.protocol.transport.close()


async def append_all(mailbox: str, raws: list[bytes]) -> float:
    client = await imap()
    started = time.perf_counter()
    for raw in raws:
        response = await client.append(raw, mailbox=quote_mailbox(mailbox))
        assert response.result == "OK", response
    elapsed = time.perf_counter() - started
    await close(client)
    return elapsed


async def raw_fetch(mailbox: str) -> tuple[float, int]:
    """Baseline: list and fetch every mail with the connector's batching, nothing else."""
    client = await imap()
    started = time.perf_counter()
    selected = await client.select(quote_mailbox(mailbox))
    exists = aioimaplib.extract_exists(selected) or 0
    pending = []
    # Listed WINDOW UIDs at a time as the connector does: one answer of ~1,000 lines
    # overflows aioimaplib's recursive parser (issue 11), more often on a loaded machine.
    for start in range(1, exists + 1, WINDOW):
        listing = await client.uid("fetch", f"{start}:{start + WINDOW - 1}",
                                   "(UID RFC822.SIZE)")
        for line in listing.lines:
            if isinstance(line, bytes) and b"FETCH (" in line:
                fields = line.decode().split("(", 1)[1].rstrip(")").split()
                values = dict(zip(fields[::2], fields[1::2], strict=False))
                pending.append(Pending(int(values["UID"]), int(values["RFC822.SIZE"])))
    fetched = 0
    for batch in batches(pending):
        response = await client.uid("fetch", f"{batch[0]}:{batch[-1]}", "(UID BODY.PEEK[])")
        fetched += sum(isinstance(line, bytearray) for line in response.lines)
    elapsed = time.perf_counter() - started
    await close(client)
    return elapsed, fetched


class TimedReader(MailboxReader):
    """The real IMAP loop, recording when each mail was committed."""

    commits: list[float]

    async def _process(self, raw: bytes, uidvalidity: int, uid: int,
                       parsed: Awaitable[ParsedMail] | None = None) -> bool:
        committed = await super()._process(raw, uidvalidity, uid, parsed)
        self.commits.append(time.perf_counter())
        return committed


class TimedConnector(EmailConnector):
    """The real connector with a `TimedReader`."""

    reader: TimedReader

    def __init__(self, app: web.Application, tuning: Tuning) -> None:
        super().__init__(app, tuning)
        self.reader = TimedReader(app, self.settings, self.tuning, self.intake)
        self.reader.commits = []
        self.synced = self.reader.synced

    @property
    def commits(self) -> list[float]:
        return self.reader.commits


async def gateway(settings: Settings) -> tuple[web.AppRunner, TimedConnector]:
    app = create_app(settings)
    connector = TimedConnector(app, Tuning(reconnect_min=0.2, reconnect_max=1.0))
    app[CONNECTORS]["email"] = connector
    runner = web.AppRunner(app)
    await runner.setup()
    return runner, connector


class Sink:
    """aiosmtpd handler that only counts what it accepts."""

    def __init__(self) -> None:
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run(count: int) -> dict[str, Any]:
    smtp_port = free_port()
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    mailbox = f"bench-{uuid.uuid4().hex[:10]}"
    admin = await imap()
    await admin.create(quote_mailbox(mailbox))
    raws = [mail(n) for n in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate({
            "database": {"url": f"sqlite:{Path(tmp) / 'bench.db'}"},
            "knowledge_base": {"path": str(ROOT / "config" / "kb")},
            "queues": [{"name": n} for n in
                       ("general", "logistics", "sales", "billing", "technical", "accounts")],
            "logging": {"level": "warning"},
            "email": {
                "enabled": True, "address": "support@velora.test",
                "imap_host": HOST, "imap_port": PORT, "imap_security": "plain",
                "imap_user": USER, "imap_password": PASSWORD, "mailbox": mailbox,
                # Replies really go out, to an SMTP sink, while the backlog is ingested.
                "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "plain",
                "auto_replies_per_hour": 10,
            },
        })
        runner, connector = await gateway(settings)  # first start: baseline on the empty box
        await asyncio.wait_for(connector.synced.wait(), 30)
        await runner.cleanup()

        append_seconds = await append_all(mailbox, raws)
        fetch_seconds, fetched = await raw_fetch(mailbox)
        started = time.perf_counter()
        parsed = [parse_message(raw) for raw in raws]
        parse_seconds = time.perf_counter() - started

        started = time.perf_counter()
        runner, connector = await gateway(settings)
        while len(connector.commits) < count or not connector.synced.is_set():
            if time.perf_counter() - (connector.commits or [started])[-1] > 60:
                raise RuntimeError(f"ingestion stalled: {connector.health()}")
            await asyncio.sleep(0.01)
        ingest_seconds = time.perf_counter() - started
        ingested = await connector.store.db.fetchone(
            "SELECT COUNT(*) AS n FROM messages WHERE direction = 'inbound'")
        replies = len(await connector.store.outbox_entries())
        await runner.cleanup()
    smtp.stop()
    await admin.delete(quote_mailbox(mailbox))
    await close(admin)

    gaps = [b - a for a, b in zip([started, *connector.commits], connector.commits,
                                  strict=False)]
    per_mail_ms = sorted(gap * 1000 for gap in gaps)
    return {
        "benchmark": "email_ingest",
        "mails": count,
        "ingested": int(ingested["n"]) if ingested else 0,
        "replies_queued": replies,
        "replies_sent_meanwhile": sink.accepted,
        "ingest_seconds": round(ingest_seconds, 3),
        "mails_per_second": round(count / ingest_seconds, 1),
        # The start (KB index, language models) is in the figure above; this is without it.
        "start_to_first_mail_seconds": round(connector.commits[0] - started, 3),
        "first_to_last_mails_per_second": round(
            (count - 1) / max(connector.commits[-1] - connector.commits[0], 1e-9), 1),
        # A stall (no mail committed for 60 s) ends the run with an error; this is the
        # longest wait between two mails once the first was in.
        "longest_gap_between_mails_ms": round(max(gaps[1:], default=0.0) * 1000, 2),
        "per_mail_ms": {
            "p50": round(statistics.median(per_mail_ms), 2),
            "p99": round(per_mail_ms[int(len(per_mail_ms) * 0.99) - 1], 2),
            "max": round(per_mail_ms[-1], 2),
        },
        "baseline": {
            "raw_uid_fetch_mails_per_second": round(fetched / fetch_seconds, 1),
            "parse_only_mails_per_second": round(len(parsed) / parse_seconds, 1),
            "append_mails_per_second": round(count / append_seconds, 1),
        },
        "database": "sqlite",
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    args = parser.parse_args()
    script = ROOT / "tests" / "services" / "dovecot.sh"
    subprocess.run([str(script), "start"], check=True, stdout=subprocess.DEVNULL)
    configure("warning", "json")
    print(json.dumps(asyncio.run(run(args.mails))))


if __name__ == "__main__":
    main()
