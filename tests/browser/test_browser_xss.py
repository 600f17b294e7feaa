"""Markup a customer types stays text in the console: shown escaped, never run, whether the
page is rendered by the server or refreshed live."""

from __future__ import annotations

import pytest
from browser_helpers import log_in, open_chat, say
from playwright.async_api import Browser, Page, expect

from gateway.config.settings import Settings

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"


async def _assert_inert(page: Page, region: str) -> None:
    area = page.locator(region)
    await expect(area.locator("img")).to_have_count(0)
    await expect(area.locator("script")).to_have_count(0)
    assert await page.evaluate("typeof window.__xss") == "undefined"


@pytest.mark.browser
async def test_customer_markup_is_shown_as_text_and_never_runs(
    base_url: str, browser: Browser, settings: Settings
) -> None:
    assert settings.console.admin.password is not None
    customer = await browser.new_context(locale="en-US")
    operator = await browser.new_context(locale="en-US")
    chat = await customer.new_page()
    console = await operator.new_page()

    await open_chat(chat, base_url)
    await say(chat, f"{IMG} I want to talk to a person")
    await expect(chat.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()

    await log_in(console, base_url, settings.console.admin.password.get_secret_value())
    row = console.locator("tbody tr", has_text=IMG)  # the subject, as text
    await expect(row).to_be_visible()
    await _assert_inert(console, "main")

    await row.get_by_role("link").click()
    transcript = console.locator("#transcript")
    await expect(transcript.locator(".msg-customer .msg-body").first).to_have_text(
        f"{IMG} I want to talk to a person")
    await expect(console.locator("#live-status")).to_have_text("live")

    # The second payload arrives while the page is open: through the live refresh.
    await say(chat, SCRIPT)
    await expect(transcript.locator(".msg-customer .msg-body").last).to_have_text(SCRIPT)
    await _assert_inert(console, "main")
    await _assert_inert(chat, ".hgw-log")

    await customer.close()
    await operator.close()
