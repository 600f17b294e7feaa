"""The IMAP connection: TLS, and reconnecting with a catch-up after the server drops us."""

from __future__ import annotations

import ssl

from connectors.email.connector import Tuning
from tests.email_live.conftest import FAST, GatewayFactory
from tests.email_live.servers import (
    CERT,
    IMAPS_PORT,
    MailAdmin,
    SmtpCapture,
    doveadm,
    make_mail,
    unique_mailbox,
)


async def test_mail_arriving_while_disconnected_is_backfilled_after_reconnect(
        smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    mailbox = unique_mailbox()
    async with MailAdmin("reconnect") as admin:
        await admin.create(mailbox)
    slow_reconnect = Tuning(**{**FAST.__dict__, "reconnect_min": 1.5})
    gw = await gateway(mailbox, imap_user="reconnect", imap_password="reconnect-pass",
                       tuning=slow_reconnect)
    try:
        doveadm("kick", "reconnect")  # the server drops every session of the user

        async def disconnected() -> bool:
            return not gw.connector.health()["connected"]

        await gw.wait(disconnected, what="the connector to notice the drop")
        async with MailAdmin("reconnect") as admin:
            uids = [await admin.append(mailbox, make_mail(
                sender=f"c{n}@customer.test", subject=f"Question {n}",
                body="How long does delivery take?")) for n in range(3)]
        await gw.processed(uids[-1], timeout=15)
        health = gw.connector.health()
        assert health["connected"] and health["last_error"]
        assert len(await gw.inbound()) == 3
        await smtp.wait_for(3)
    finally:
        await gw.stop()
        async with MailAdmin("reconnect") as admin:
            await admin.delete(mailbox)


async def test_imap_over_tls(smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    mailbox = unique_mailbox()
    async with MailAdmin("tls") as admin:
        await admin.create(mailbox)
    trust = ssl.create_default_context(cafile=str(CERT))
    gw = await gateway(mailbox, imap_user="tls", imap_password="tls-pass",
                       imap_security="tls", imap_port=IMAPS_PORT,
                       tuning=Tuning(**{**FAST.__dict__, "imap_ssl_context": trust}))
    try:
        async with MailAdmin("tls") as admin:
            uid = await admin.append(mailbox, make_mail(
                sender="ann@customer.test", subject="Delivery",
                body="How long does delivery take?"))
        await gw.processed(uid)
        await smtp.wait_for(1)
    finally:
        await gw.stop()
        async with MailAdmin("tls") as admin:
            await admin.delete(mailbox)


async def test_an_untrusted_certificate_is_refused_and_reported(
        gateway: GatewayFactory) -> None:
    gw = await gateway("INBOX", imap_user="tls", imap_password="tls-pass",
                       imap_security="tls", imap_port=IMAPS_PORT, wait_connected=False)

    async def failed() -> bool:
        return "CERTIFICATE_VERIFY_FAILED" in (gw.connector.health()["last_error"] or "")

    await gw.wait(failed, what="a certificate error in health")
    assert not gw.connector.health()["connected"]


async def test_readyz_reports_the_mailbox_without_taking_the_gateway_down(
        gateway: GatewayFactory) -> None:
    import json
    from unittest import mock

    from aiohttp.test_utils import make_mocked_request

    from gateway.web.health import readyz

    gw = await gateway("INBOX", imap_user="tls", imap_password="tls-pass",
                       imap_security="tls", imap_port=IMAPS_PORT, wait_connected=False)

    async def failed() -> bool:
        return gw.connector.health()["last_error"] is not None

    await gw.wait(failed, what="an IMAP error in health")
    local = mock.Mock()  # a probe on the machine itself: /readyz shows it the details
    local.get_extra_info.side_effect = lambda key: ("127.0.0.1", 40000) \
        if key == "peername" else None
    response = await readyz(make_mocked_request("GET", "/readyz", app=gw.app,
                                                transport=local))
    assert response.status == 200
    assert isinstance(response.body, bytes)
    email = json.loads(response.body)["checks"]["connectors"]["email"]
    assert email["connected"] is False
    assert "CERTIFICATE_VERIFY_FAILED" in email["last_error"]
