"""SQL statements per mail taken in and per reply sent, counted through the drivers
(BEGIN/COMMIT included), on both engines: issue 21's e-mail ingest. The mails are handed to
the intake directly (no IMAP: `benchmarks/email_ingest.py` measures the whole path); the
replies really go out, to a capturing SMTP server. `docs/benchmarks.md` has the history."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from benchmarks.sql_count import Tally, counting
from connectors.email.connector import EmailConnector
from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import CONNECTORS
from tests.email_live.servers import SmtpCapture, free_port

#: The first mail of a new sender, answered: the auto-reply counter's state, the
#: conversation upsert for a known customer (none yet), the customer and its identity in
#: one transaction (the customer upsert returns the row), the conversation, the message,
#: then the decision's transaction (reply, outbox entry, the conversation's UPDATE and
#: `handled`; on PostgreSQL those two are one statement). No Message-ID lookup before:
#: only an id of ours can be a copy of our own mail. It was 17 and 16: the Message-ID
#: looked up, the identity read again inside the transaction, the customer read back.
NEW_SENDER = {"sqlite": 14, "postgresql": 13}
#: A new thread of a known sender: the customer and the conversation are one statement.
#: It was 10 and 9 (the Message-ID lookup).
KNOWN_SENDER = {"sqlite": 9, "postgresql": 8}
#: One reply sent: the conversation with its customer and open ticket, the address's
#: suppression, the mail it threads under, the Message-ID recorded before the send, the
#: outbox entry marked sent after the 250, the auto-reply counter read and written. It
#: was 11: conversation, customer, two suppression keys, the whole conversation's
#: messages and the ticket one by one, and the Message-ID written again after the send.
REPLY_SENT = 7


def _mail(n: int, sender: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer <{sender}>"
    msg["To"] = "support@velora.test"
    msg["Subject"] = f"Question {n}"
    msg["Message-ID"] = f"<count-{n}@customer.test>"
    msg.set_content("Hello,\n\nHow long does delivery take?\n\nRegards\n")
    return msg.as_bytes()


def _engine(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite:") else "postgresql"


async def test_statements_per_mail_taken_in_and_per_reply_sent(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str) -> None:
    smtp = SmtpCapture().start()
    try:
        app = create_app(make_settings(database={"url": database_url}, email={
            "enabled": True, "address": "support@velora.test", "imap_host": "127.0.0.1",
            "imap_port": free_port(), "imap_security": "plain", "imap_user": "nobody",
            "imap_password": "none", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
            "smtp_security": "plain"}))
        await aiohttp_client(app)
        connector: EmailConnector = app[CONNECTORS]["email"]
        sends: list[Tally] = []
        send = connector.sender.send

        async def counted(outbound: Any) -> Any:
            with counting() as tally:
                result = await send(outbound)
            sends.append(tally)
            return result

        connector.sender.send = counted  # type: ignore[method-assign]
        taken: list[Tally] = []
        for n, sender in enumerate(["ann@customer.test", "ann@customer.test"]):
            with counting() as tally:
                assert await connector.ingest(_mail(n, sender)) == "answer"
            taken.append(tally)
        for _ in range(500):
            if len(smtp.messages) == 2 and len(sends) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(smtp.messages) == 2
    finally:
        smtp.stop()
    engine = _engine(database_url)
    new, known = taken
    assert new.total <= NEW_SENDER[engine], new.kinds
    assert known.total <= KNOWN_SENDER[engine], known.kinds
    for tally in taken:
        assert tally.kinds["SELECT messages"] == 0, tally.kinds  # no Message-ID lookup
    for sent in sends:
        assert sent.total <= REPLY_SENT, sent.kinds
        assert sent.kinds["UPDATE messages"] == 1, sent.kinds  # the Message-ID, once
        for table in ("conversations", "customers", "tickets"):
            assert sent.kinds[f"SELECT {table}"] == 0, sent.kinds  # read with the context
