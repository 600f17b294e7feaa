"""Fixtures for the email tests: the private Dovecot, one fresh mailbox per test, a
capturing SMTP server, and the real gateway (store, pipeline, outbox, email connector)
started and stopped like `gateway.app` does it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from connectors.email.connector import EmailConnector, Tuning
from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import CONNECTORS, STORE
from gateway.store import Store
from tests.email_live.console_browser import Browser, OpenConsole
from tests.email_live.servers import (
    IMAP_PORT,
    MailAdmin,
    SmtpCapture,
    ensure_dovecot,
    free_port,
    unique_mailbox,
)

SUPPORT = "support@velora.test"
FAST = Tuning(reconnect_min=0.2, reconnect_max=1.0, idle_renew=5.0, idle_watchdog=5.0,
              imap_timeout=5.0)


@pytest.fixture(scope="session")
def dovecot() -> None:
    """Fails (never skips) when the IMAP server is missing: these tests are the proof."""
    error = ensure_dovecot()
    if error:
        pytest.fail(error)


@pytest.fixture
async def mailbox(dovecot: None) -> AsyncIterator[str]:
    """A brand-new mailbox of user `support`, deleted afterwards."""
    name = unique_mailbox()
    async with MailAdmin() as admin:
        await admin.create(name)
    yield name
    async with MailAdmin() as admin:
        await admin.delete(name)


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    capture = SmtpCapture().start()
    yield capture
    capture.stop()


@dataclass
class Gateway:
    app: web.Application
    runner: web.AppRunner
    connector: EmailConnector
    stopped: bool = False

    @property
    def store(self) -> Store:
        return self.app[STORE]

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()

    async def processed(self, uid: int, timeout: float = 10.0) -> None:
        """Wait until the connector's position passed `uid` (the mail is fully handled)."""

        async def passed() -> bool:
            return (self.connector.health()["last_uid"] or 0) >= uid

        await self.wait(passed, timeout, what=f"position past UID {uid}")

    async def replies(self) -> int:
        """Replies the gateway decided to send (outbox entries, sent or not)."""
        return len(await self.store.outbox_entries())

    async def wait(self, check: Callable[[], Awaitable[bool]], timeout: float = 10.0,
                   what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    async def inbound(self) -> list[dict[str, Any]]:
        rows = await self.store.db.fetchall(
            "SELECT id, conversation_id, channel_message_id, text, meta FROM messages"
            " WHERE direction = 'inbound' ORDER BY id")
        return [dict(r) for r in rows]


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def gateway(make_settings: Callable[..., Settings], smtp: SmtpCapture,
                  dovecot: None) -> AsyncIterator[GatewayFactory]:
    """Start a gateway on `mailbox`; call again (after `stop`) to simulate a restart."""
    started: list[Gateway] = []

    async def start(mailbox: str, *, database_url: str | None = None, tuning: Tuning = FAST,
                    wait_connected: bool = True, outbox: dict[str, Any] | None = None,
                    settings: dict[str, Any] | None = None, **email: Any) -> Gateway:
        overrides: dict[str, Any] = {
            "email": {
                "enabled": True, "address": SUPPORT, "display_name": "Velora Support",
                "imap_host": "127.0.0.1", "imap_port": IMAP_PORT, "imap_security": "plain",
                "imap_user": "support", "imap_password": "support-pass", "mailbox": mailbox,
                "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "plain",
                **email,
            },
        }
        if outbox:
            overrides["outbox"] = {"poll_interval": 0.05, "backoff": 0.05, **outbox}
        if database_url:
            overrides["database"] = {"url": database_url}
        overrides.update(settings or {})  # other sections ([csat], [server]...)
        app = create_app(make_settings(**overrides))
        connector = EmailConnector(app, tuning)
        app[CONNECTORS]["email"] = connector
        runner = web.AppRunner(app)
        await runner.setup()
        gw = Gateway(app, runner, connector)
        started.append(gw)
        if wait_connected:
            await asyncio.wait_for(connector.synced.wait(), 30)  # a loaded CI machine
        return gw

    yield start
    for gw in started:
        await gw.stop()


@pytest.fixture
async def browser() -> AsyncIterator[OpenConsole]:
    """Open the console of a started gateway in a browser-like HTTP session."""
    opened: list[Browser] = []

    async def open_console(gw: Gateway) -> Browser:
        port = free_port()
        site = web.TCPSite(gw.runner, "127.0.0.1", port)
        await site.start()
        opened.append(Browser(f"http://127.0.0.1:{port}"))
        return opened[-1]

    yield open_console
    for b in opened:
        await b.session.close()
