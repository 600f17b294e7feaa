"""Replies continue the customer's own thread, never an auto-reply's."""

from __future__ import annotations

from gateway.access.auth import hash_password
from gateway.keys import TICKETS
from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail


async def test_an_operator_reply_answers_the_customer_mail_not_the_out_of_office(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, outbox={})
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(
            sender="ann@customer.test", subject="Broken blender",
            body="I want to talk to a human please", message_id="<human@customer.test>"))
    await gw.processed(uid)
    (handoff,) = await smtp.wait_for(1)
    async with MailAdmin() as admin:  # Ann's mail client answers our hand-off notice
        uid = await admin.append(mailbox, make_mail(
            sender="ann@customer.test", subject="Out of office: Broken blender",
            body="I am away until Monday.", message_id="<ooo@customer.test>",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": handoff["Message-ID"],
                     "References": handoff["Message-ID"]}))
    await gw.processed(uid)
    assert len(await gw.inbound()) == 2
    ticket = await gw.store.open_ticket_of((await gw.inbound())[0]["conversation_id"])
    assert ticket is not None
    sam = await gw.store.create_operator("sam", "Sam", hash_password("password-123"),
                                         "supervisor")
    await gw.app[TICKETS].reply(sam, ticket.id, "Hello Ann, we will replace it.")
    reply = (await smtp.wait_for(2))[1]
    assert reply["In-Reply-To"] == "<human@customer.test>"
