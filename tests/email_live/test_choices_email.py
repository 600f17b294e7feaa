"""Back-office choices by e-mail (issue 19): a mail client has no buttons, so the slots the
back office offers come as a numbered list, and the customer answers with the number in a
reply mail. Real Dovecot and SMTP, the demo KB's booking, a fake back office on loopback."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiohttp.test_utils import TestServer

from tests.conftest import ALWAYS_OPEN
from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail
from tests.integrations.conftest import integration
from tests.integrations.fake_backoffice import FakeBackOffice


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def test_slots_offered_by_the_back_office_are_a_numbered_list_answered_by_number(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        aiohttp_server: Callable[..., Any]) -> None:
    fake = FakeBackOffice(slots={"Ghent": ["Sat 10:00", "Sat 11:00"]})
    server: TestServer = await aiohttp_server(fake.app())
    gw = await gateway(mailbox, settings={
        "calendar": ALWAYS_OPEN, "integrations": {"backoffice": integration(server)}})

    async def mail(body: str, n: int, parent: EmailMessage | None) -> EmailMessage:
        headers = {"In-Reply-To": parent["Message-ID"], "References": parent["Message-ID"]} \
            if parent is not None else {}
        async with MailAdmin() as admin:
            uid = await admin.append(mailbox, make_mail(
                sender="Ann Peeters <ann@customer.test>", subject="Test ride", body=body,
                message_id=f"<ride{n}@customer.test>", headers=headers))
        await gw.processed(uid, timeout=30)
        return (await smtp.wait_for(n, timeout=30))[n - 1]

    shop = await mail("I want to book a test ride on Saturday", 1, None)
    assert "Ghent, Antwerp" in _text(shop)
    offered = await mail("Ghent please", 2, shop)
    assert "1. Sat 10:00" in _text(offered) and "2. Sat 11:00" in _text(offered)
    assert offered["In-Reply-To"] == "<ride2@customer.test>"  # in the customer's thread
    confirm = await mail("2", 3, offered)
    assert "I will book a 30-minute test ride in Ghent on Sat 11:00." in _text(confirm)
    assert [c for c in fake.calls if c.method == "POST"] == []  # not before a yes
