"""A reply to a campaign mail (issue 20): it threads into the campaign's conversation, the
bot takes it, and the ticket of a hand-off is tagged with the campaign."""

from __future__ import annotations

from datetime import timedelta

from gateway.channels import Identity
from gateway.keys import CAMPAIGNS
from gateway.models import utcnow
from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail


async def test_a_reply_to_a_campaign_is_tagged_with_it(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, outbox={})
    store = gw.store
    ann = await store.resolve_customer(Identity("email", "ann@customer.test", "Ann",
                                                "ann@customer.test"))
    start = utcnow()
    campaign = await store.create_campaign("Spring", "new-models", 600, start, "admin",
                                           [ann.id])
    assert await gw.app[CAMPAIGNS].run_once(start + timedelta(seconds=1)) == 1
    (sent,) = await smtp.wait_for(1, timeout=30)

    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(
            sender="Ann <ann@customer.test>", subject="Re: " + str(sent["Subject"]),
            body="I want to talk to a person about the new models.",
            headers={"In-Reply-To": sent["Message-ID"], "References": sent["Message-ID"]}))
    await gw.processed(uid, timeout=30)
    (recipient,) = await store.db.fetchall(
        "SELECT conversation_id FROM campaign_recipients WHERE campaign_id = ?", campaign)
    ticket = await store.open_ticket_of(recipient["conversation_id"])
    assert ticket is not None  # the reply is in the campaign's own conversation
    assert (await store.tags_of([ticket.id]))[ticket.id] == [f"campaign-{campaign}"]
    assert (await store.campaign_counts(campaign))["replied"] == 1
