"""The chat log's scrolling as a customer reads it: a reply taller than the log is shown from
its start, and the log follows new messages only while the customer is at the bottom."""

from __future__ import annotations

import pytest
from aiohttp import web
from browser_helpers import open_chat, operator_reply, say
from playwright.async_api import Browser, Page, expect

LONG_REPLY = "\n\n".join(f"Step {n}: check the part numbered {n} on your bike." for n in
                         range(1, 31))

#: Where a bubble's top and bottom are, relative to the visible part of the log.
GEOMETRY = """node => { const log = node.closest('.hgw-log'); const l = log.getBoundingClientRect();
    const b = node.getBoundingClientRect();
    return {top: b.top - l.top, bottom: b.bottom - l.top, height: l.height,
            scrollTop: log.scrollTop,
            atBottom: log.scrollHeight - log.clientHeight - log.scrollTop}; }"""


async def _handed_off(page: Page, base_url: str) -> None:
    await open_chat(page, base_url)
    await say(page, "I want to talk to a person")
    await expect(page.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()


@pytest.mark.browser
async def test_a_reply_taller_than_the_log_is_shown_from_its_start(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await _handed_off(page, base_url)
    await operator_reply(gateway_app, LONG_REPLY)
    reply = page.locator(".hgw-operator", has_text="Step 30")
    await expect(reply).to_be_visible()
    where = await reply.evaluate(GEOMETRY)
    assert where["bottom"] - where["top"] > where["height"], where  # taller than the log
    assert where["scrollTop"] > 0, where  # the log moved down to it...
    assert 0 <= where["top"] < 40, where  # ...and its start is at the top, in view
    assert where["atBottom"] > 100, where  # not jumped to its end


@pytest.mark.browser
async def test_the_log_follows_new_replies_only_while_the_customer_is_at_the_bottom(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await _handed_off(page, base_url)
    await operator_reply(gateway_app, LONG_REPLY)
    await expect(page.locator(".hgw-operator", has_text="Step 30")).to_be_visible()
    log = page.locator(".hgw-log")

    await log.evaluate("l => { l.scrollTop = l.scrollHeight; }")  # read to the end
    await operator_reply(gateway_app, "Did that work?")
    short = page.locator(".hgw-operator", has_text="Did that work?")
    await expect(short).to_be_visible()
    assert (await short.evaluate(GEOMETRY))["atBottom"] < 2  # followed

    await log.evaluate("l => { l.scrollTop = 0; }")  # scrolled back up to reread
    await operator_reply(gateway_app, "Still there?")
    await expect(page.locator(".hgw-operator", has_text="Still there?")).to_have_count(1)
    assert await log.evaluate("l => l.scrollTop") == 0  # left where the customer is reading

    await say(page, "Yes, sorry")  # their own message brings them back to the bottom
    assert await log.evaluate("l => l.scrollHeight - l.clientHeight - l.scrollTop") < 2
