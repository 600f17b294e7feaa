"""After a hand-off, a customer who writes again while the desk is closed is told once that
their message is on the ticket and when the desk opens, not met with silence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser_helpers import open_chat, say
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from tests.conftest import ALWAYS_OPEN

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Open around the clock except all of today (Brussels time): closed right now."""
    return make_settings(calendar=ALWAYS_OPEN | {
        "closed_days": [datetime.now(BRUSSELS).date().isoformat()]})


@pytest.mark.browser
async def test_writing_again_out_of_hours_is_acknowledged_once_with_the_opening_time(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "I want to talk to a person")
    await expect(page.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()

    await say(page, "My battery does not charge any more")
    tomorrow = datetime.now(BRUSSELS).date() + timedelta(days=1)
    ack = page.locator('.hgw-bot[data-kind="after_hours"]')
    await expect(ack).to_contain_text(
        f"Your message was added to ticket #1. We are closed now; we open on "
        f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B} at 00:00.")

    await say(page, "It shows a red light")  # told already: on the ticket, in silence
    await say(page, "Any news?")  # answered after the message before it was decided
    await expect(page.locator(".hgw-bot").last).to_contain_text("Your ticket #1 is waiting")
    await expect(ack).to_have_count(1)
    bubbles = await page.locator(".hgw-log > li:not(.hgw-greeting)").evaluate_all(
        "nodes => nodes.map(n => n.dataset.kind || 'me')")
    assert bubbles == ["me", "handoff", "me", "after_hours", "me", "me", "status"], bubbles
