"""Replies out through SMTP: retried while the server is down, never sent twice, and the
failures that must not be retried (5xx, hard bounces, lost during DATA) are recorded."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import pytest

from connectors.email.smtp import SmtpSender
from gateway.config.channels import EmailSettings
from gateway.errors import DeliveryRetryLater
from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, free_port, make_mail

QUESTION: dict[str, Any] = dict(sender="Ann <ann@customer.test>", subject="Delivery",
                                body="How long does delivery take?")


async def test_smtp_down_then_up_delivers_the_reply_once(
        mailbox: str, gateway: GatewayFactory) -> None:
    port = free_port()  # nothing listens here yet: connection refused
    gw = await gateway(mailbox, smtp_port=port)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(**QUESTION))
    await gw.processed(uid)

    async def retried() -> bool:
        (entry,) = await gw.store.outbox_entries()
        return entry.attempts >= 2 and "connect" in (entry.last_error or "")

    await gw.wait(retried, what="a visible, retried SMTP failure")
    late = SmtpCapture(port).start()
    try:
        await late.wait_for(1, timeout=15)
        (entry,) = await gw.store.outbox_entries()
        await gw.wait(lambda: _status(gw, "sent"), what="outbox entry sent")
        await asyncio.sleep(0.3)
        assert len(late.messages) == 1
        assert entry.status in {"pending", "sent"}
    finally:
        late.stop()


async def test_replies_in_a_row_share_one_smtp_session(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    for n in range(3):
        await _ask(gw, mailbox, smtp, f"Q{n}", replies=n + 1)
    assert len(set(smtp.peers)) == 1  # no connect, EHLO and QUIT per reply
    assert gw.connector.smtp.sessions_opened == 1


async def test_a_session_the_server_dropped_is_replaced_and_the_reply_goes_at_once(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    await _ask(gw, mailbox, smtp, "Delivery", replies=1)
    smtp.stop()  # the idle session kept for the next reply dies with the server
    smtp.start()
    await _ask(gw, mailbox, smtp, "Again", replies=2)
    await gw.wait(lambda: _all(gw, "sent"), what="both replies sent")
    assert [e.attempts for e in await gw.store.outbox_entries()] == [1, 1]  # no retry later
    assert len(set(smtp.peers)) == 2 and gw.connector.smtp.sessions_opened == 2


async def test_a_reused_session_answered_421_is_replaced_and_the_reply_goes_at_once(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    # a server that ends idle sessions with 421 at the next command (RFC 5321 §3.8)
    smtp.mail_hook = lambda peer: "421 4.4.2 Idle timeout" if peer in smtp.peers else None
    gw = await gateway(mailbox)
    for n in range(2):
        await _ask(gw, mailbox, smtp, f"Q{n}", replies=n + 1)
    await gw.wait(lambda: _all(gw, "sent"), what="both replies sent")
    assert [e.attempts for e in await gw.store.outbox_entries()] == [1, 1]
    assert len(set(smtp.peers)) == 2


async def test_a_new_session_refused_before_data_is_not_tried_again_at_once(
        smtp: SmtpCapture) -> None:
    # only a reused session may have gone stale; a new one refused is the server's answer
    smtp.mail_hook = lambda _peer: "421 4.3.2 Try again later"
    sender = SmtpSender(EmailSettings(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                      smtp_security="plain"))
    reply = EmailMessage()
    reply["Subject"] = "Re: Delivery"
    reply.set_content("Two to three working days.")
    with pytest.raises(DeliveryRetryLater, match="421"):
        await sender.send(reply, "support@velora.test", "ann@customer.test")
    assert sender.sessions_opened == 1


async def _ask(gw: Any, mailbox: str, smtp: SmtpCapture, subject: str, replies: int) -> None:
    """A customer's question under `subject`, taken in and answered: `replies` in all."""
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(**{**QUESTION, "subject": subject}))
    await gw.processed(uid)
    await smtp.wait_for(replies)


async def _all(gw: Any, status: str) -> bool:
    return {e.status for e in await gw.store.outbox_entries()} == {status}


async def _status(gw: Any, status: str) -> bool:
    return [e.status for e in await gw.store.outbox_entries()] == [status]


async def test_recipient_refused_with_5xx_fails_without_retry(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    smtp.rcpt_hook = lambda _address: "550 5.1.1 No such user"
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
    await gw.wait(lambda: _status(gw, "failed"), what="outbox entry failed")
    (entry,) = await gw.store.outbox_entries()
    assert entry.attempts == 1 and "550" in (entry.last_error or "")
    assert smtp.messages == []


async def test_connection_lost_during_data_is_resent_once_with_the_same_message_id(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    accept = smtp.handle_DATA
    cuts: list[int] = []

    async def accept_then_hang_up(server: Any, session: Any, envelope: Any) -> str:
        await accept(server, session, envelope)
        if not cuts:  # the mail arrived, but the client never hears "250"
            cuts.append(1)
            server.transport.close()
        return "250 OK"

    smtp.handle_DATA = accept_then_hang_up  # type: ignore[method-assign]
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
    await gw.wait(lambda: _status(gw, "sent"), what="outbox entry sent after one resend")
    (entry,) = await gw.store.outbox_entries()
    assert entry.resends == 1
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"]  # the receiver drops the copy
    (reply,) = [m for m in await gw.store.messages(entry.conversation_id)
                if m.direction == "outbound"]
    assert reply.channel_message_id == first["Message-ID"]


async def test_a_resend_lost_during_data_again_is_left_uncertain_for_people(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    accept = smtp.handle_DATA

    async def accept_then_hang_up(server: Any, session: Any, envelope: Any) -> str:
        await accept(server, session, envelope)
        server.transport.close()
        return "250 OK"

    smtp.handle_DATA = accept_then_hang_up  # type: ignore[method-assign]
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
    await gw.wait(lambda: _status(gw, "uncertain"), what="outbox entry uncertain")
    await asyncio.sleep(0.3)
    assert len(smtp.messages) == 2  # the first try and one resend, never more
    assert smtp.messages[0]["Message-ID"] == smtp.messages[1]["Message-ID"]


def _dsn(recipient: str, original_message_id: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\n"
        "To: support@velora.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.customer.test>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@velora.test\r\nTo: {recipient}\r\n"
        f"Message-ID: {original_message_id}\r\nSubject: Re: Delivery\r\n"
        "\r\n--B--\r\n"
    ).encode()


async def test_a_hard_bounce_is_recorded_and_suppresses_the_address(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, database_url=database_url)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
        (answer,) = await smtp.wait_for(1)
        await admin.append(mailbox, _dsn("ann@customer.test", answer["Message-ID"]))
        uid = await admin.append(mailbox, make_mail(**{**QUESTION, "subject": "Again"}))
    await gw.processed(uid)
    (first, _again) = await gw.inbound()  # the DSN is an event, not a customer message
    events = await gw.store.events(conversation_id=first["conversation_id"])
    (bounce,) = [e for e in events if e.type == "email.bounce"]
    assert bounce.data == {"recipient": "ann@customer.test", "status": "5.1.1",
                           "permanent": True, "hard": True, "reason": "userunknown"}

    async def suppressed() -> bool:
        entries = await gw.store.outbox_entries()
        return len(entries) == 2 and entries[1].status == "failed"

    await gw.wait(suppressed, what="the reply to a bounced address refused")
    assert "hard bounce" in ((await gw.store.outbox_entries())[1].last_error or "")
    assert len(smtp.messages) == 1
