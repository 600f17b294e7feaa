"""Delivery through outages and crashes, against a real SMTP server: an outage longer than
the old eight attempts loses nothing, a reply whose retry period ended is re-driven from
the CLI or the ticket page, and a process dying right after the server's 250 never sends
the reply twice."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connectors.email.smtp import SmtpSender
from tests.conftest import ADMIN_PASSWORD
from tests.email_live.conftest import GatewayFactory
from tests.email_live.console_browser import OpenConsole
from tests.email_live.servers import MailAdmin, SmtpCapture, free_port, make_mail

ROOT = Path(__file__).resolve().parents[2]
QUESTION: dict[str, Any] = dict(sender="Ann <ann@customer.test>", subject="Delivery",
                                body="How long does delivery take?")


async def _statuses(gw: Any) -> list[str]:
    return [e.status for e in await gw.store.outbox_entries()]


async def test_an_smtp_outage_beyond_eight_attempts_still_delivers_once(
        mailbox: str, gateway: GatewayFactory) -> None:
    port = free_port()  # nothing listens here yet: connection refused
    gw = await gateway(mailbox, smtp_port=port, outbox={"backoff": 0.01, "max_backoff": 0.02})
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(**QUESTION))
    await gw.processed(uid)

    async def many_attempts() -> bool:
        (entry,) = await gw.store.outbox_entries()
        return entry.attempts >= 12

    await gw.wait(many_attempts, what="a dozen failed attempts")
    assert await _statuses(gw) == ["pending"]  # still trying, not given up
    late = SmtpCapture(port).start()
    try:
        await late.wait_for(1, timeout=15)
        await gw.wait(lambda: _is(gw, "sent"), what="outbox entry sent")
        await asyncio.sleep(0.3)
        assert len(late.messages) == 1
    finally:
        late.stop()


async def _is(gw: Any, status: str) -> bool:
    return await _statuses(gw) == [status]


async def test_after_the_retry_period_the_reply_fails_visibly_and_the_cli_redrives_it(
        mailbox: str, gateway: GatewayFactory, tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "helpdesk.db"
    gw = await gateway(mailbox, smtp_port=port, database_url=f"sqlite:{database}",
                       outbox={"retry_for_seconds": 0.3, "backoff": 0.05})
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
    await gw.wait(lambda: _is(gw, "failed"), what="outbox entry failed")
    (entry,) = await gw.store.outbox_entries()
    assert "retried for" in (entry.last_error or "")
    events = [e.type for e in await gw.store.events(conversation_id=entry.conversation_id)]
    assert "delivery.failed" in events

    config = tmp_path / "gateway.toml"
    config.write_text(f'[database]\nurl = "sqlite:{database}"\n[logging]\nlevel = "warning"\n')
    cli = [sys.executable, "-m", "gateway.cli", "outbox"]
    listed = subprocess.run([*cli, "list", "--config", str(config)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert f'"id": {entry.id}' in listed.stdout and '"failed"' in listed.stdout
    late = SmtpCapture(port).start()
    try:
        retried = subprocess.run([*cli, "retry", "--all-failed", "--actor", "eva",
                                  "--config", str(config)], cwd=ROOT, capture_output=True,
                                 text=True, timeout=60)
        assert retried.returncode == 0, retried.stderr
        assert "1 queued again" in retried.stdout
        await late.wait_for(1, timeout=15)
        await gw.wait(lambda: _is(gw, "sent"), what="re-driven entry sent")
        events = await gw.store.events(conversation_id=entry.conversation_id)
        assert [e.actor for e in events if e.type == "delivery.retried"] == ["cli:eva"]
    finally:
        late.stop()


async def test_a_crash_after_the_servers_250_never_sends_the_reply_twice(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    accepted = asyncio.Event()

    async def die_after_the_send(self: SmtpSender, *args: Any, **kwargs: Any) -> Any:
        accepted.set()  # DATA got its 250; the process "dies" before anything else
        await asyncio.Event().wait()

    monkeypatch.setattr(SmtpSender, "_release", die_after_the_send)
    first = await gateway(mailbox, outbox={"lease_seconds": 0.5})
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(**QUESTION))
    await asyncio.wait_for(accepted.wait(), 15)
    await first.stop()
    monkeypatch.undo()
    # The restarted gateway finds the lease expired: it must see the reply as sent.
    second = await gateway(mailbox, outbox={"lease_seconds": 0.5})
    await asyncio.sleep(1.5)
    assert [e.status for e in await second.store.outbox_entries()] == ["sent"]
    assert len(smtp.messages) == 1


async def test_a_failed_reply_is_shown_on_the_ticket_and_resent_from_there(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        browser: OpenConsole) -> None:
    smtp.rcpt_hook = lambda _address: "550 5.1.1 Mailbox unavailable"
    gw = await gateway(mailbox)
    async with MailAdmin() as admin:
        await admin.append(mailbox, make_mail(sender="Ann <ann@customer.test>",
                                              subject="Help", body="I want to talk to a human"))
    await gw.wait(lambda: _is(gw, "failed"), what="the hand-off reply failed")
    (entry,) = await gw.store.outbox_entries()
    ticket = await gw.store.open_ticket_of(entry.conversation_id)
    assert ticket is not None

    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    status, _, body = await console.get(f"/console/tickets/{ticket.id}")
    page = body.decode()
    assert status == 200 and "1 reply has not reached the customer" in page
    assert f"/outbox/{entry.id}/resend" in page and "550" in page

    smtp.rcpt_hook = lambda _address: None  # the mailbox exists again
    status, page = await console.post(f"/console/tickets/{ticket.id}/outbox/{entry.id}/resend",
                                      {})
    assert status == 200 and "The reply is queued to be sent again." in page
    await smtp.wait_for(1)
    await gw.wait(lambda: _is(gw, "sent"), what="resent reply sent")
    status, _, body = await console.get(f"/console/tickets/{ticket.id}")
    assert "not reached the customer" not in body.decode() and "Resend requested" in body.decode()
    status, page = await console.post(f"/console/tickets/{ticket.id}/outbox/{entry.id}/resend",
                                      {})
    assert status == 409  # sent now: nothing to resend
