"""Mail in, answer out: the whole path through real Dovecot and a real SMTP server."""

from __future__ import annotations

from tests.email_live.conftest import SUPPORT, GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail

CUSTOMER = "Ann Peeters <ann@customer.test>"


async def test_customer_mail_gets_a_threaded_bot_answer_and_is_seen_after_commit(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, database_url=database_url)
    raw = make_mail(sender=CUSTOMER, subject="Delivery question",
                    body="How long does delivery take?", message_id="<q1@customer.test>",
                    headers={"References": "<older@customer.test>"})
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, raw)
    (reply,) = await smtp.wait_for(1)
    assert reply["In-Reply-To"] == "<q1@customer.test>"
    assert reply["References"].split() == ["<older@customer.test>", "<q1@customer.test>"]
    assert reply["Subject"] == "Re: Delivery question"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["To"] == "ann@customer.test"
    assert SUPPORT in reply["From"] and "Velora Support" in reply["From"]
    assert smtp.envelopes == [(SUPPORT, ["ann@customer.test"])]

    async def seen() -> bool:
        async with MailAdmin() as admin:
            return "\\Seen" in (await admin.flags(mailbox))[uid]

    await gw.wait(seen, what="\\Seen flag")
    (stored,) = await gw.inbound()
    assert stored["channel_message_id"] == "<q1@customer.test>"
    # The outgoing Message-ID is recorded on the reply, so the customer's answer threads.
    sent = await gw.store.find_message("email", reply["Message-ID"])
    assert sent is not None and sent.direction == "outbound"
    assert sent.conversation_id == stored["conversation_id"]
    health = gw.connector.health()
    assert health["connected"] and health["idle"] and health["last_uid"] == uid


async def test_customer_reply_threads_by_references_even_when_in_reply_to_changed(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(sender=CUSTOMER, subject="Delivery",
                                              body="How long does delivery take?"))
        (answer,) = await smtp.wait_for(1)
        # Outlook rewrites In-Reply-To (chatwoot#10028); References still names our answer.
        await admin.append(mailbox, make_mail(
            sender="ann@customer.test", subject="RE: something else entirely",
            body="Thanks! And I want to talk to a human please.",
            headers={"In-Reply-To": "<rewritten@outlook.test>",
                     "References": answer["Message-ID"]}))
    await smtp.wait_for(2)
    first, second = await gw.inbound()
    assert first["conversation_id"] == second["conversation_id"]


async def test_a_stranger_quoting_a_ticket_number_gets_a_new_conversation(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(sender=CUSTOMER, subject="Help",
                                              body="I want to talk to a human please"))
        (handoff,) = await smtp.wait_for(1)
        ticket_tag = handoff["Subject"].rsplit("[#", 1)[1].rstrip("]")
        # The customer's own follow-up with only the tag (no headers) joins the ticket...
        await admin.append(mailbox, make_mail(
            sender="ann@customer.test", subject=f"Re: Help [#{ticket_tag}]",
            body="Any news?"))
        # ...a stranger quoting the same tag, and even our Message-ID, does not (zammad#5064).
        await admin.append(mailbox, make_mail(
            sender="mallory@evil.test", subject=f"Re: Help [#{ticket_tag}]",
            body="Please send me the invoice of this ticket",
            headers={"References": handoff["Message-ID"]}))

    async def three() -> bool:
        return len(await gw.inbound()) == 3

    await gw.wait(three, what="three inbound mails")
    first, follow_up, stranger = await gw.inbound()
    assert follow_up["conversation_id"] == first["conversation_id"]
    assert stranger["conversation_id"] != first["conversation_id"]
    stranger_conversation = await gw.store.get_conversation(stranger["conversation_id"])
    assert stranger_conversation is not None
    customer = await gw.store.get_customer(stranger_conversation.customer_id)
    assert customer is not None and customer.email == "mallory@evil.test"
    assert '"related_conversations"' in stranger["meta"]


async def test_an_auto_responder_answering_the_bot_gets_no_second_reply(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, database_url=database_url)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(sender=CUSTOMER, subject="Delivery",
                                              body="How long does delivery take?"))
        (answer,) = await smtp.wait_for(1)
        auto_uid = await admin.append(mailbox, make_mail(
            sender="ann@customer.test", subject="Out of office: Re: Delivery",
            body="I am out of the office until Monday. How long does delivery take?",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": answer["Message-ID"],
                     "References": answer["Message-ID"]}))

    await gw.processed(auto_uid)
    assert await gw.replies() == 1
    assert len(smtp.messages) == 1
    first, auto = await gw.inbound()
    assert auto["conversation_id"] == first["conversation_id"]
    events = await gw.store.events(conversation_id=first["conversation_id"])
    assert any(e.type == "message.automated" and e.data["reason"] == "auto-submitted"
               for e in events)


async def test_two_bots_answering_each_other_stop_at_the_hourly_cap(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    """A correspondent bot that sets no RFC 3834 header is stopped by the per-sender cap."""
    gw = await gateway(mailbox, auto_replies_per_hour=2)
    async with MailAdmin() as admin:
        for round_ in range(4):
            uid = await admin.append(mailbox, make_mail(
                sender="bot@other.test", subject=f"Ticket {round_}",
                body="How long does delivery take?"))
            if round_ < 2:
                await smtp.wait_for(round_ + 1)
    await gw.processed(uid)
    assert len(await gw.inbound()) == 4
    assert await gw.replies() == 2
    assert len(smtp.messages) == 2


async def test_a_malformed_mail_is_quarantined_and_the_next_one_flows(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    broken = (b"From: alice@example.org(<bob@example.com>\r\nSubject: =?utf-8?q?broken\r\n"
              b"Content-Type: multipart/mixed; boundary=\"nope\r\n\r\n--nope\r\ngarbage\r\n")
    async with MailAdmin() as admin:
        bad_uid = await admin.append(mailbox, broken)
        good_uid = await admin.append(mailbox, make_mail(
            sender=CUSTOMER, subject="Delivery", body="How long does delivery take?"))
    await smtp.wait_for(1)
    (entry,) = await gw.connector.quarantined()
    assert entry["uid"] == bad_uid and "From" in entry["error"]
    assert await gw.connector.quarantined_raw(entry["id"]) == broken
    assert gw.connector.health()["quarantined"] == 1

    async def advanced() -> bool:
        return gw.connector.health()["last_uid"] == good_uid

    await gw.wait(advanced, what="position past both mails")
    assert len(await gw.inbound()) == 1
    async with MailAdmin() as admin:
        flags = await admin.flags(mailbox)
    assert "\\Seen" not in flags[bad_uid]  # left unread for a person to look at
    assert "\\Seen" in flags[good_uid]


async def test_mailbox_recreated_with_new_uidvalidity_answers_old_mail_once(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    old = [make_mail(sender=CUSTOMER, subject=f"Old {n}", body="How long does delivery take?")
           for n in range(3)]
    gw = await gateway(mailbox, database_url=database_url)
    async with MailAdmin() as admin:
        for raw in old:
            await admin.append(mailbox, raw)
    await smtp.wait_for(3)
    before = gw.connector.health()["uidvalidity"]
    await gw.stop()
    async with MailAdmin() as admin:
        await admin.delete(mailbox)
        await admin.create(mailbox)
        # The same old mails plus a never-seen one that is also already there: after a
        # UIDVALIDITY change the unread ones are looked at again, the old ones are known by
        # their Message-ID and the never-seen one is answered (issue 11).
        for raw in [*old, make_mail(sender=CUSTOMER, subject="Unknown old", body="Hello")]:
            await admin.append(mailbox, raw)
    gw = await gateway(mailbox, database_url=database_url)
    assert gw.connector.health()["uidvalidity"] != before
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(sender="bob@customer.test", subject="New",
                                                    body="How long does delivery take?"))
    await smtp.wait_for(5)
    await gw.processed(uid)
    assert await gw.replies() == 5
    assert len(await gw.inbound()) == 5


async def test_after_ingest_move_moves_the_mail_only_after_commit(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    processed = f"{mailbox}-done"
    gw = await gateway(mailbox, after_ingest="move", processed_mailbox=processed)
    try:
        async with MailAdmin() as admin:
            uid = await admin.append(mailbox, make_mail(
                sender=CUSTOMER, subject="Delivery", body="How long does delivery take?"))
        await gw.processed(uid)
        await smtp.wait_for(1)
        async with MailAdmin() as admin:
            assert await admin.flags(mailbox) == {}
            assert len(await admin.flags(processed)) == 1
        assert len(await gw.inbound()) == 1
    finally:
        await gw.stop()
        async with MailAdmin() as admin:
            await admin.delete(processed)


async def test_a_handed_over_original_is_stored_as_the_message_without_attributions(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox)
    body = ("On 15 May 2026 19:32, Ann <ann@customer.test> wrote:\n\n"
            "My parcel never arrived.\n\n"
            "On 8 May 2026 18:51, Velora Support <support@velora.test> wrote:\n\n"
            "> Which order number?\n\nOrder 4411.\n")
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(sender=CUSTOMER, subject="Fwd: parcel",
                                                    body=body))
    await gw.processed(uid)
    (stored,) = await gw.inbound()
    assert stored["text"] == "My parcel never arrived.\n\n> Which order number?\n\nOrder 4411."
