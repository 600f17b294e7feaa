"""An operator sees in the console that the mailbox is not being read (issue 11): the
IMAP server goes away under a running gateway, every console page says so with the last
error, the admin page lists the channel as not working, and the banner goes once the
server is back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.email_live.conftest import FAST, GatewayFactory
from tests.email_live.console_browser import OpenConsole
from tests.email_live.proxy import ImapProxy
from tests.email_live.servers import SmtpCapture

ADMIN_PASSWORD = "admin-password-1"  # tests/conftest.py `make_settings`
BANNER = 'id="channels-down"'


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


async def test_a_mailbox_that_cannot_be_read_is_shown_on_every_console_page(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
        browser: OpenConsole) -> None:
    proxy = await ImapProxy().start()
    port = proxy.port
    gw = await gateway(mailbox, imap_port=port, tuning=FAST)
    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    status, _, body = await console.get("/console")
    assert status == 200 and BANNER not in body.decode()

    await proxy.stop()  # the mail server is gone: connections refused from now on

    async def banner_shown() -> bool:
        return BANNER in (await console.get("/console"))[2].decode()

    await _eventually(banner_shown)
    page = (await console.get("/console"))[2].decode()
    assert f"E-mail</strong> ({mailbox}) cannot reach its server" in page
    assert "Last error:" in page and "mail waits on the mail server" in page
    admin = (await console.get("/console/admin"))[2].decode()
    row = admin.split('<tr data-channel="email">', 1)[1].split("</tr>", 1)[0]
    assert "no" in row and "cannot reach its server" in row and "<code>" in row

    back = ImapProxy()
    back.server = await asyncio.start_server(back._serve, "127.0.0.1", port)
    back.port = port
    try:
        async def banner_gone() -> bool:
            return not await banner_shown()

        await _eventually(banner_gone)
        admin = (await console.get("/console/admin"))[2].decode()
        row = admin.split('<tr data-channel="email">', 1)[1].split("</tr>", 1)[0]
        assert "<td>yes</td>" in row
    finally:
        await back.stop()
