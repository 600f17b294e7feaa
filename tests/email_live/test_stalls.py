"""The channel never stops silently: a big backlog, a server going away in IDLE or in the
middle of a FETCH, are all followed by ingestion at once, without hangs."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from connectors.email.connector import Tuning
from connectors.email.imap import ImapSession
from tests.email_live.conftest import FAST, GatewayFactory
from tests.email_live.proxy import ImapProxy
from tests.email_live.servers import (
    MailAdmin,
    SmtpCapture,
    deliver_maildir,
    free_port,
    make_mail,
)

BACKLOG = 2500


async def test_a_backlog_of_2500_mails_is_ingested_exactly_once(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    # An answer to every one of them is not the point here: machine mail is stored, not
    # answered, which keeps the test about ingestion.
    ids = [f"<backlog-{n}@customer.test>" for n in range(BACKLOG)]
    raws = [make_mail(sender=f"c{n % 40}@customer.test", subject=f"Status {n}",
                      body="Delivery report.", message_id=message_id,
                      headers={"Auto-Submitted": "auto-generated"})
            for n, message_id in enumerate(ids)]
    gw = await gateway(mailbox)
    deliver_maildir("support", mailbox, raws)  # Dovecot's IDLE sees them arrive
    await gw.processed(BACKLOG, timeout=240)
    stored = Counter(row["channel_message_id"] for row in await gw.inbound())
    assert set(stored) == set(ids)
    assert max(stored.values()) == 1
    health = gw.connector.health()
    assert health["connected"] and health["ok"]
    async with MailAdmin() as admin:
        flags = await admin.flags(mailbox)
    assert len(flags) == BACKLOG and all("\\Seen" in f for f in flags.values())


#: A command timeout as in production: a hang on a dead session would cost 30 s, so
#: waiting only 10 s for the next mail proves none happened.
PATIENT = Tuning(**{**FAST.__dict__, "imap_timeout": 30.0, "idle_renew": 600.0,
                    "idle_watchdog": 30.0})


@pytest.fixture
async def proxy() -> AsyncIterator[ImapProxy]:
    started = await ImapProxy().start()
    yield started
    await started.stop()


async def _question(mailbox: str, n: int) -> int:
    async with MailAdmin() as admin:
        return await admin.append(mailbox, make_mail(
            sender=f"c{n}@customer.test", subject=f"Question {n}",
            body="How long does delivery take?"))


async def test_a_server_going_away_during_idle_is_noticed_at_once(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory, proxy: ImapProxy) -> None:
    gw = await gateway(mailbox, imap_port=proxy.port, tuning=PATIENT)

    async def idle() -> bool:
        return bool(gw.connector.health()["idle"]) and proxy.connections >= 1

    await gw.wait(idle, what="the connector in IDLE")
    await asyncio.sleep(0.2)  # IDLE sent and acknowledged
    proxy.drop()  # a graceful stop: the server closes the connection
    await gw.processed(await _question(mailbox, 1), timeout=10)
    assert proxy.connections == 2

    await gw.wait(idle, what="the connector in IDLE again")
    await asyncio.sleep(0.2)
    await proxy.bye()  # the server says BYE and the client's socket stays open
    await gw.processed(await _question(mailbox, 2), timeout=10)
    assert proxy.connections == 3
    assert "BYE" in (gw.connector.health()["last_error"] or "")
    assert len(await gw.inbound()) == 2


async def test_a_connection_cut_in_the_middle_of_a_fetch_costs_no_hang(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory, proxy: ImapProxy) -> None:
    slow_backoff = Tuning(**{**PATIENT.__dict__, "reconnect_min": 0.2, "reconnect_max": 60.0})
    gw = await gateway(mailbox, imap_port=proxy.port, tuning=slow_backoff)
    for cut in range(3):  # each reconnect after a working SELECT starts the backoff afresh
        proxy.cut_on = b"BODY.PEEK[]"
        uid = await _question(mailbox, cut)
        await asyncio.wait_for(proxy.cut.wait(), 10)
        proxy.cut.clear()
        await gw.processed(uid, timeout=10)
    assert len(await gw.inbound()) == 3
    assert proxy.connections == 4


async def test_a_loop_stuck_without_an_error_shows_as_stale_in_readyz(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    quick = Tuning(**{**FAST.__dict__, "idle_renew": 1.0, "idle_watchdog": 1.0,
                      "imap_timeout": 1.0})
    gw = await gateway(mailbox, tuning=quick)
    stuck = asyncio.Event()

    async def hang(self: ImapSession, after: int) -> list[int]:  # a bug no timeout covers
        stuck.set()
        await asyncio.Event().wait()
        return []

    monkeypatch.setattr(ImapSession, "waiting", hang)
    await asyncio.wait_for(stuck.wait(), 10)

    port = free_port()
    await web.TCPSite(gw.runner, "127.0.0.1", port).start()

    async def stale() -> bool:
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{port}/readyz") as response:
            email = (await response.json())["checks"]["connectors"]["email"]
        return bool(email["ok"] is False and email["state"] == "stale"
                    and email["seconds_since_sync"] > email["expected_interval"])

    await gw.wait(stale, timeout=15, what="the stuck loop reported as stale")
