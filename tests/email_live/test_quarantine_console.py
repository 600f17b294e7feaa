"""Quarantined mail handled from the console, on a gateway reading real Dovecot: a mail
that still cannot be taken in stays with its reason; one whose cause is gone (a database
outage, a fixed bug) is taken in by "Reprocess" and answered."""

from __future__ import annotations

import base64

from connectors.email.state import QUARANTINE_INDEX, QUARANTINE_RAW
from tests.email_live.conftest import GatewayFactory
from tests.email_live.console_browser import OpenConsole
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail

ADMIN_PASSWORD = "admin-password-1"  # tests/conftest.py `make_settings`
BROKEN = b"From: alice@example.org(<bob@example.com>\r\nSubject: hi\r\n\r\nhello\r\n"


async def test_reprocess_from_the_console(mailbox: str, smtp: SmtpCapture,
                                          gateway: GatewayFactory,
                                          browser: OpenConsole) -> None:
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, BROKEN)
    await gw.processed(uid)
    (broken,) = await gw.connector.quarantined()

    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    status, page = await console.post("/console/admin/quarantine/reprocess",
                                      {"id": broken["id"]})
    assert status == 422 and "The mail still cannot be taken in: no usable From address" in page
    assert [e["id"] for e in await gw.connector.quarantined()] == [broken["id"]]

    # A good mail that was quarantined by a passing failure (e.g. the database was away).
    good = make_mail(sender="Ann Peeters <ann@customer.test>", subject="Delivery",
                     body="How long does delivery take?")
    await gw.store.set_state(QUARANTINE_RAW + "INBOX/9/9",
                             {"raw": base64.b64encode(good).decode()})
    await gw.store.set_state(QUARANTINE_INDEX, [*await gw.connector.quarantined(), {
        "id": "INBOX/9/9", "error": "database unavailable", "size": len(good),
        "at": "2026-11-29T10:00:00+00:00", "mailbox": mailbox, "uidvalidity": 9, "uid": 9}])
    status, page = await console.post("/console/admin/quarantine/reprocess",
                                      {"id": "INBOX/9/9"})
    assert status == 200 and "The mail was taken in" in page
    assert [e["id"] for e in await gw.connector.quarantined()] == [broken["id"]]
    (message,) = await gw.inbound()
    assert message["text"] == "How long does delivery take?"
    await smtp.wait_for(1)  # the customer got the bot's answer
    assert gw.connector.health()["quarantined"] == 1
