"""The harness's own mailbox under trouble (Dovecot only, no gateway): a 10,000-mail run
once died on `TRYCREATE Mailbox doesn't exist` when a UIDVALIDITY reset of a mailbox of
~5,000 mails failed between its DELETE and its CREATE and the error went unnoticed.

A reset must keep every mail and flag, leave a mailbox behind whatever its DELETE did,
and say so when it failed; a delivery that finds the mailbox missing creates it and
goes on, and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aioimaplib
import pytest

from tests.email_live.servers import MailAdmin, ensure_dovecot, unique_mailbox
from tests.faults.mailboxes import Mailbox, customer_mail


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    error = ensure_dovecot()
    assert error is None, error
    box = Mailbox("support", unique_mailbox())
    await box.create()
    yield box
    await box.delete()


async def _flags(box: Mailbox) -> dict[int, set[str]]:
    async with MailAdmin(box.user) as admin:
        return await admin.flags(box.name)


async def test_a_reset_keeps_every_mail_flag_and_date_past_one_fetch_window(
        mailbox: Mailbox) -> None:
    delivered: list[str] = []
    await mailbox.deliver("h", 450, 10_000.0, lambda m, _at: delivered.append(m))
    async with MailAdmin(mailbox.user) as admin:
        await admin.imap.select(f'"{mailbox.name}"')
        await admin.imap.uid("store", "1:100", "+FLAGS (\\Seen)")
    async with MailAdmin(mailbox.user) as admin:
        contents = await mailbox._contents(admin)
    before, after = await mailbox.reset_uidvalidity()
    assert before != after
    async with MailAdmin(mailbox.user) as admin:
        assert await mailbox._contents(admin) == contents  # bytes, flags, INTERNALDATE
    flags = await _flags(mailbox)
    assert len(flags) == 450
    assert sum("\\Seen" in f for f in flags.values()) == 100
    assert mailbox.incidents == []


async def test_a_delivery_that_finds_the_mailbox_gone_creates_it_and_goes_on(
        mailbox: Mailbox) -> None:
    async with MailAdmin(mailbox.user) as admin:
        await admin.delete(mailbox.name)
    delivered: list[str] = []
    await mailbox.deliver("h", 3, 10_000.0, lambda m, _at: delivered.append(m))
    assert len(delivered) == 3
    assert len(await _flags(mailbox)) == 3
    assert len(mailbox.incidents) == 1 and "TRYCREATE" in mailbox.incidents[0]


async def test_a_reset_whose_delete_fails_after_deleting_fails_loudly_and_leaves_a_mailbox(
        mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The DELETE is done by the server and the client gives up on the answer, as when
    a DELETE of thousands of mails outlasts the command timeout on a loaded machine."""
    await mailbox.deliver("h", 5, 10_000.0, lambda _m, _at: None)
    deleting = aioimaplib.IMAP4.delete

    async def delete_then_time_out(client: aioimaplib.IMAP4, name: str) -> None:
        await deleting(client, name)
        raise aioimaplib.CommandTimeout("no answer to DELETE")

    monkeypatch.setattr(aioimaplib.IMAP4, "delete", delete_then_time_out)
    with pytest.raises(aioimaplib.CommandTimeout):
        await mailbox.reset_uidvalidity()
    monkeypatch.undo()
    await mailbox.append(customer_mail("h", 99))
    assert len(await _flags(mailbox)) == 1  # the 5 went with the DELETE: the run's error
    assert mailbox.incidents == []
