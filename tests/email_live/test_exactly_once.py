"""Crashes between fetch and commit: every mail is ingested exactly once, answered once."""

from __future__ import annotations

import asyncio

import pytest

from connectors.email.reader import MailboxReader
from gateway.errors import StoreUnavailable
from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail

QUESTION = make_mail(sender="Ann <ann@customer.test>", subject="Delivery",
                     body="How long does delivery take?", message_id="<crash@customer.test>")


async def test_killed_after_commit_before_flagging_restarts_without_duplicates(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    handled = asyncio.Event()

    async def hang(self: MailboxReader, session: object, uids: list[int]) -> None:
        handled.set()  # pipeline.handle has returned; the process "dies" right here
        await asyncio.Event().wait()

    monkeypatch.setattr(MailboxReader, "_done_on_server", hang)
    # The dead process may hold the outbox lease on the reply; a short lease lets the
    # restarted one take it over within the test.
    first = await gateway(mailbox, database_url=database_url, outbox={"lease_seconds": 0.5})
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, QUESTION)
    await asyncio.wait_for(handled.wait(), 10)
    await first.stop()  # cancels the connector mid-step, as a crash would
    async with MailAdmin() as admin:
        assert "\\Seen" not in (await admin.flags(mailbox))[uid]  # not flagged before commit

    monkeypatch.undo()
    second = await gateway(mailbox, database_url=database_url, outbox={"lease_seconds": 0.5})
    await second.processed(uid)
    async with MailAdmin() as admin:
        assert "\\Seen" in (await admin.flags(mailbox))[uid]
    assert len(await second.inbound()) == 1
    assert await second.replies() == 1
    await smtp.wait_for(1)
    await asyncio.sleep(0.3)  # a duplicate reply would arrive now
    assert len(smtp.messages) == 1


async def test_a_store_failure_at_the_commit_step_reingests_once(
        database_url: str, mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = MailboxReader._advance
    failures: list[int] = []

    async def flaky(self: MailboxReader, uidvalidity: int, uid: int) -> None:
        if not failures:
            failures.append(uid)
            raise StoreUnavailable("injected: database went away during commit")
        await original(self, uidvalidity, uid)

    monkeypatch.setattr(MailboxReader, "_advance", flaky)
    gw = await gateway(mailbox, database_url=database_url)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, QUESTION)
    await gw.processed(uid)
    assert failures == [uid]
    assert "StoreUnavailable" in (gw.connector.health()["last_error"] or "")
    assert len(await gw.inbound()) == 1
    assert await gw.replies() == 1
    await smtp.wait_for(1)
    assert len(smtp.messages) == 1
