"""The chat widget as a customer sees it: links that open, nothing shown twice, no stale
buttons, tidy bubbles."""

from __future__ import annotations

import pytest
from browser_helpers import open_chat, say
from playwright.async_api import Browser, expect


@pytest.mark.browser
async def test_bare_urls_in_answers_are_links_that_open_in_a_new_tab(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    link = page.locator('.hgw-bot[data-kind="answer"] a[href="https://velora.be/delivery"]')
    await expect(link).to_have_text("https://velora.be/delivery")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")


@pytest.mark.browser
async def test_did_this_help_goes_away_once_a_person_takes_over(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    await expect(page.get_by_role("button", name="Yes, thanks")).to_be_visible()
    await say(page, "I want to talk to a person")
    await expect(page.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Yes, thanks")).to_have_count(0)
    await page.reload()  # the replayed history does not bring it back either
    await expect(page.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Yes, thanks")).to_have_count(0)


@pytest.mark.browser
async def test_the_site_has_a_favicon(base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    response = await page.goto(base_url + "/favicon.ico")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.browser
async def test_answer_bubbles_have_no_blank_line_after_the_text(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    body = page.locator('.hgw-bot[data-kind="answer"] .hgw-body')
    await expect(body).to_contain_text("3 to 5 working days")
    # the space below the last paragraph inside the text block: none with the text itself
    below = await body.evaluate(
        "b => b.getBoundingClientRect().bottom - b.lastElementChild.getBoundingClientRect().bottom")
    assert below < 2, below
