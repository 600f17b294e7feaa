"""A notification by e-mail: asked over HTTP, sent once through the outbox to the real SMTP
test server, and the customer's answer (through Dovecot) lands in the same conversation."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from tests.conftest import API_KEY
from tests.email_live.conftest import Gateway, GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
ANN = {"id": "crm-1042", "name": "Ann Peeters", "email": "ann@customer.test"}


async def _post(gw: Gateway, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    site = web.TCPSite(gw.runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}/api/v1/notifications", json=body,
                headers=HEADERS) as response:
            return response.status, await response.json()
    finally:
        await site.stop()


def _shipped(key: str, customer: dict[str, str] = ANN) -> dict[str, Any]:
    return {"customer": customer, "template_id": "order-shipped", "order_ref": "VEL-20481",
            "fields": {"delivery_date": "3 December"}, "idempotency_key": key}


async def test_a_notification_is_mailed_once_and_the_answer_threads_back(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, outbox={})
    status, first = await _post(gw, _shipped("shipped-20481"))
    assert status == 201 and first["channel"] == "email", first
    (mail,) = await smtp.wait_for(1)
    assert mail["Subject"] == "Your order VEL-20481 is on its way"
    assert mail["To"] == "ann@customer.test"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "delivered on 3 December" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    status, again = await _post(gw, _shipped("shipped-20481"))  # the CRM retries
    assert (status, again) == (200, first)
    await gw.wait(lambda: _sent(gw), what="the notification marked sent")
    assert len(smtp.messages) == 1

    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(
            sender="Ann Peeters <ann@customer.test>", subject=f"Re: {mail['Subject']}",
            body="Can it come on Friday instead?",
            headers={"In-Reply-To": mail["Message-ID"], "References": mail["Message-ID"]}))
    await gw.processed(uid)
    (answer,) = await gw.inbound()
    assert answer["conversation_id"] == first["conversation_id"]
    assert answer["text"].startswith("Can it come on Friday")


async def test_a_hard_bounced_address_is_skipped_with_the_reason(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, outbox={})
    await gw.store.set_state("email:suppressed:ann@customer.test",
                             {"status": "5.1.1", "reason": "no such user"})
    status, skipped = await _post(gw, _shipped("k-1"))
    assert status == 201
    assert (skipped["status"], skipped["reason"]) == ("skipped", "bounced")
    assert smtp.messages == [] and await gw.store.outbox_entries() == []


async def _sent(gw: Gateway) -> bool:
    entries = await gw.store.outbox_entries()
    return len(entries) == 1 and entries[0].status == "sent"
