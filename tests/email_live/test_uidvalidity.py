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


async def test_read_mail_restored_after_the_gateway_saw_the_new_mailbox_is_not_taken_in(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    """A restore still running when the gateway comes back (the mailbox exists again, half
    filled): read mail the restore brings back afterwards, with its old date, is old mail
    and must not be answered, nor fetched again; new mail still is. Before: every such mail
    was taken in (a 10,000-mail fault run re-read thousands of them after its reset)."""
    first = await gateway(mailbox, database_url=database_url)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, _mail(1))
    await first.processed(uid)
    await first.stop()

    old = '"01-Dec-2026 09:00:00 +0000"'  # restores keep a mail's INTERNALDATE
    async with MailAdmin() as admin:
        await admin.delete(mailbox)
        await admin.create(mailbox)
        await admin.imap.append(_mail(1), mailbox=f'"{mailbox}"', flags="(\\Seen)", date=old)
    second = await gateway(mailbox, database_url=database_url)  # saw the new UIDVALIDITY
    async with MailAdmin() as admin:  # the restore goes on: read mail never taken in
        for n in range(2, 12):
            await admin.imap.append(_mail(n), mailbox=f'"{mailbox}"', flags="(\\Seen)",
                                    date=old)
        uid = await admin.append(mailbox, _mail(12))  # and a customer writes
    await second.processed(uid)
    stored = sorted(row["channel_message_id"] for row in await second.inbound())
    assert stored == ["<uv-12@customer.test>", "<uv-1@customer.test>"]
    assert await second.replies() == 2  # mail 1 (by the first process) and mail 12
