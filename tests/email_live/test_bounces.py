"""Bounces as real mailers send them, through Dovecot and the running gateway: a text
bounce with no sender is read (not quarantined), and only a dead address is suppressed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.email.state import SOFT_BOUNCE_DAYS, SOFT_BOUNCE_LIMIT
from gateway.models import utcnow
from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail

QUESTION: dict[str, Any] = dict(sender="Ann <ann@customer.test>", subject="Delivery",
                                body="How long does delivery take?")


def _qmail_bounce(recipient: str, diagnostic: str, original_id: str) -> bytes:
    """qmail's plain-text bounce, from "MAILER-DAEMON <>": no DSN part, no usable sender."""
    return (
        "From: MAILER-DAEMON <>\r\nTo: support@velora.test\r\nSubject: failure notice\r\n"
        f"Message-ID: <bounce-{abs(hash(diagnostic))}@mx.customer.test>\r\n\r\n"
        "Hi. This is the qmail-send program at mx.customer.test.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        f"<{recipient}>:\r\n{diagnostic}\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n\r\n"
        f"From: support@velora.test\r\nTo: {recipient}\r\nMessage-ID: {original_id}\r\n"
        "Subject: Re: Delivery\r\n\r\nIt takes two days.\r\n"
    ).encode()


async def _bounce_then_ask_again(gw: Any, mailbox: str, smtp: SmtpCapture,
                                 diagnostic: str) -> list[Any]:
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
        (answer,) = await smtp.wait_for(1)
        await admin.append(mailbox, _qmail_bounce("ann@customer.test", diagnostic,
                                                  answer["Message-ID"]))
        uid = await admin.append(mailbox, make_mail(**{**QUESTION, "subject": "Again"}))
    await gw.processed(uid)
    assert await gw.store.get_state("email:quarantine") in (None, [])
    (first, _again) = await gw.inbound()  # the bounce is an event, not a customer message
    events = await gw.store.events(conversation_id=first["conversation_id"])
    return [e for e in events if e.type == "email.bounce"]


async def test_a_text_bounce_without_sender_suppresses_a_dead_address(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    (bounce,) = await _bounce_then_ask_again(
        gw, mailbox, smtp, "550 5.1.1 <ann@customer.test>: Recipient address rejected: "
        "User unknown in virtual mailbox table")
    assert bounce.data == {"recipient": "ann@customer.test", "status": "5.1.1",
                           "permanent": True, "hard": True, "reason": "userunknown"}

    async def refused() -> bool:
        entries = await gw.store.outbox_entries()
        return len(entries) == 2 and entries[1].status == "failed"

    await gw.wait(refused, what="the reply to a dead address refused")
    assert "hard bounce" in ((await gw.store.outbox_entries())[1].last_error or "")
    assert len(smtp.messages) == 1


async def test_a_full_mailbox_is_recorded_but_the_customer_still_gets_answers(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    (bounce,) = await _bounce_then_ask_again(
        gw, mailbox, smtp, "552 5.2.2 <ann@customer.test>: Mailbox full, user is over quota")
    assert bounce.data["hard"] is False and bounce.data["reason"] == "mailboxfull"
    await smtp.wait_for(2)  # the next answer goes out: a full mailbox is not a dead one


async def test_user_unknown_after_data_is_a_filter_and_the_address_stays(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    (bounce,) = await _bounce_then_ask_again(
        gw, mailbox, smtp, "mx.customer.test [192.0.2.45]:\r\n>>> DATA\r\n"
        "<<< 550 Unknown user ann@customer.test")
    assert bounce.data == {"recipient": "ann@customer.test", "status": "5.0.0",
                           "permanent": True, "hard": False, "reason": "filtered"}
    await smtp.wait_for(2)  # accepted at RCPT, refused by a filter: not a dead address


async def test_repeated_soft_bounces_pause_the_address_until_they_expire(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
        (answer,) = await smtp.wait_for(1)
        for attempt in range(SOFT_BOUNCE_LIMIT):
            await admin.append(mailbox, _qmail_bounce(
                "ann@customer.test", f"552 5.2.2 <ann@customer.test>: Mailbox full ({attempt})",
                answer["Message-ID"]))
        uid = await admin.append(mailbox, make_mail(**{**QUESTION, "subject": "Again"}))
    await gw.processed(uid)

    async def paused() -> bool:
        entries = await gw.store.outbox_entries()
        return len(entries) == 2 and entries[1].status == "failed"

    await gw.wait(paused, what="the reply to a paused address refused")
    assert "paused after 5 soft bounces" in ((await gw.store.outbox_entries())[1].last_error
                                            or "")
    # A week later the bounces have expired: the address gets answers again by itself.
    key = "email:soft-bounces:ann@customer.test"
    week_ago = (utcnow() - timedelta(days=SOFT_BOUNCE_DAYS, minutes=1)).isoformat()
    await gw.store.set_state(key, [week_ago] * len(await gw.store.get_state(key)))
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**{**QUESTION, "subject": "Next week"}))
    await smtp.wait_for(2)


async def test_a_postmaster_writing_as_a_person_gets_an_answer(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(
            sender="Postmaster <postmaster@customer.test>", subject="Question",
            body="Hi, how long does delivery take? Our mail to you is slow, too."))
    (answer,) = await smtp.wait_for(1)  # not a bounce, not automated: a customer
    assert answer["To"] == "postmaster@customer.test"
