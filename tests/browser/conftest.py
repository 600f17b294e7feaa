"""The real gateway on a real loopback port, and a real headless Chromium to drive it.

Debian's Chromium is used (`playwright install` cannot download here); each test gets a
fresh browser so no cookie, storage or socket leaks from one test into the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright, expect

from gateway.app import create_app
from gateway.config.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Auto-waiting assertions: generous for a loaded CI machine, instant when things are ready.
expect.set_options(timeout=15_000)


@pytest.fixture
def gateway_app(settings: Settings) -> web.Application:
    """The application `base_url` serves (its store is `gateway_app[STORE]` once started)."""
    return create_app(settings)


@pytest.fixture
async def base_url(gateway_app: web.Application) -> AsyncIterator[str]:
    """The whole app (store, KB, outbox, connectors) served on 127.0.0.1:<free port>."""
    runner = web.AppRunner(gateway_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
