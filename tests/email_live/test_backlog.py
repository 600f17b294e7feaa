"""A reader that is behind says so (issue 11): how many mails wait above the position and
for how long, in /readyz and /metrics; past `max_waiting_seconds` the channel is not ok,
`stuck` while nothing is taken in and `behind` while mail flows but too slowly; back to
0 and ok once the backlog is in. Real Dovecot, the real connector; only the intake is
held back (a gate, or a slow store)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors.email.imap import ImapSession
from connectors.email.parse import ParsedMail
from tests.email_live.conftest import Gateway, GatewayFactory
from tests.email_live.console_browser import OpenConsole
from tests.email_live.servers import MailAdmin, SmtpCapture, free_port, make_mail

BACKLOG = 12


async def _serve(gw: Gateway) -> str:
    port = free_port()
    await web.TCPSite(gw.runner, "127.0.0.1", port).start()
    return f"http://127.0.0.1:{port}"


async def _email(base: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as response:
        return response.status, (await response.json())["checks"]["connectors"]["email"]


async def _metrics(base: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as response:
        return await response.text()


async def _append_backlog(mailbox: str, tag: str) -> list[int]:
    async with MailAdmin() as admin:
        return [await admin.append(mailbox, make_mail(
            sender=f"c{n}@customer.test", subject=f"{tag} {n}", body="Delivery report.",
            headers={"Auto-Submitted": "auto-generated"})) for n in range(BACKLOG)]


def _hold_intake(gw: Gateway, gate: asyncio.Event, delay: float = 0.0) -> None:
    """Every mail waits for `gate`, then `delay` seconds, before it is taken in."""
    intake = gw.connector.intake
    ingest = intake.ingest

    async def held(raw: bytes, parsed: asyncio.Future[ParsedMail] | None = None) -> str:
        await gate.wait()
        await asyncio.sleep(delay)
        return await ingest(raw, parsed)

    intake.ingest = held  # type: ignore[method-assign]


async def test_a_held_back_reader_shows_its_backlog_and_turns_stuck_past_the_threshold(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        monkeypatch: pytest.MonkeyPatch, browser: OpenConsole) -> None:
    gw = await gateway(mailbox, max_waiting_seconds=1.5)
    base = await _serve(gw)
    console = await browser(gw)
    await console.login("admin", "admin-password-1")  # tests/conftest.py `make_settings`
    status, email = await _email(base)
    assert email["ok"] and email["behind"] == 0 and email["oldest_waiting_seconds"] == 0

    # The first listing waits until the whole backlog is in the mailbox (IDLE wakes the
    # reader at the first APPEND), and the intake until the gate opens.
    appended, gate = asyncio.Event(), asyncio.Event()
    waiting = ImapSession.waiting

    async def list_all(self: ImapSession, after: int) -> list[int]:
        await appended.wait()
        return await waiting(self, after)

    monkeypatch.setattr(ImapSession, "waiting", list_all)
    _hold_intake(gw, gate)
    uids = await _append_backlog(mailbox, "Held")
    appended.set()

    async def listed() -> bool:
        return (await _email(base))[1]["behind"] == BACKLOG

    await gw.wait(listed, what=f"behind by {BACKLOG} in /readyz")
    status, email = await _email(base)
    # Not over the threshold yet: connected and syncing, with its backlog.
    assert email["ok"] and email["state"] == "syncing", email
    assert email["oldest_internal_date"] is not None
    metrics = await _metrics(base)
    assert f'helpdesk_mailbox_behind_mails{{connector="email",mailbox="{mailbox}"}} ' \
           f'{float(BACKLOG)}' in metrics

    async def stuck() -> bool:
        return (await _email(base))[1]["state"] == "stuck"

    await gw.wait(stuck, what="the held-back reader reported as stuck")
    status, email = await _email(base)
    assert email["ok"] is False and email["connected"] and email["behind"] == BACKLOG
    assert email["oldest_waiting_seconds"] >= email["max_waiting_seconds"] == 1.5
    assert email["last_taken_in_at"] is None  # nothing taken in since the start
    assert status == 200  # channel health is shown, not gated on (web chat stays in)
    assert "helpdesk_mailbox_oldest_waiting_seconds" in await _metrics(base)
    page = (await console.get("/console"))[2].decode()
    assert 'id="channels-down"' in page
    assert f"E-mail</strong> ({mailbox}) has mail waiting but is not taking any in" in page

    gate.set()
    await gw.processed(uids[-1], timeout=30)
    status, email = await _email(base)
    assert email["ok"] and email["behind"] == 0 and email["oldest_waiting_seconds"] == 0
    assert email["state"] in ("idle", "syncing") and email["last_taken_in_at"] is not None
    assert len(await gw.inbound()) == BACKLOG


async def test_a_slow_but_working_reader_is_behind_not_stuck(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, max_waiting_seconds=2.0)
    base = await _serve(gw)
    gate = asyncio.Event()
    gate.set()
    _hold_intake(gw, gate, delay=0.4)  # ~5 s for the backlog, a mail every 0.4 s
    uids = await _append_backlog(mailbox, "Slow")
    seen: list[dict[str, Any]] = []

    async def behind() -> bool:
        seen.append((await _email(base))[1])
        return seen[-1]["state"] == "behind"

    await gw.wait(behind, what="the slow reader reported as behind")
    email = seen[-1]
    assert email["ok"] is False and 0 < email["behind"] < BACKLOG
    assert email["oldest_waiting_seconds"] >= 2.0
    assert not any(report["state"] == "stuck" for report in seen)

    await gw.processed(uids[-1], timeout=30)
    email = (await _email(base))[1]
    assert email["ok"] and email["behind"] == 0
