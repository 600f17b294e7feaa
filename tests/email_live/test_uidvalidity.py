"""A recreated mailbox (new UIDVALIDITY) loses no unread mail and ingests nothing twice."""

from __future__ import annotations

from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail


def _mail(n: int) -> bytes:
    return make_mail(sender=f"c{n}@customer.test", subject=f"Question {n}",
                     body="How long does delivery take?", message_id=f"<uv-{n}@customer.test>")


async def test_unread_mail_of_a_recreated_mailbox_is_taken_in_once(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    first = await gateway(mailbox, database_url=database_url)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, _mail(1))
    await first.processed(uid)
    before = first.connector.health()["uidvalidity"]
    await first.stop()

    async with MailAdmin() as admin:  # the mailbox is rebuilt with its mail restored
        await admin.delete(mailbox)
        await admin.create(mailbox)
        await admin.imap.append(_mail(1), mailbox=f'"{mailbox}"')  # taken in before
        await admin.imap.append(_mail(2), mailbox=f'"{mailbox}"', flags="(\\Seen)")  # read
        for n in range(3, 63):  # never taken in: they arrived while the mailbox was rebuilt
            await admin.append(mailbox, _mail(n))

    second = await gateway(mailbox, database_url=database_url)
    assert second.connector.health()["uidvalidity"] != before
    await second.processed(62)
    stored = sorted(row["channel_message_id"] for row in await second.inbound())
    assert stored == sorted(f"<uv-{n}@customer.test>" for n in (1, *range(3, 63)))
    async with MailAdmin() as admin:
        flags = await admin.flags(mailbox)
    assert all("\\Seen" in f for f in flags.values())
