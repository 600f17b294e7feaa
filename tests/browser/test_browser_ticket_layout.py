"""The ticket page is compact (issue 16): the conversation and the composer come first,
status, priority, queue, assignee and wrap-up sit in a side panel beside them on a desk
screen, and at 400 px wide the page still works without scrolling sideways."""

from __future__ import annotations

import pytest
from browser_helpers import api_message, log_in
from playwright.async_api import Browser, Page, expect

from gateway.config.settings import Settings


async def _ticket_page(browser: Browser, base_url: str, settings: Settings,
                       width: int, height: int) -> Page:
    assert settings.console.admin.password is not None
    ticket_id = (await api_message(base_url, "I want to talk to a human about my invoice"))[
        "ticket_id"]
    context = await browser.new_context(locale="en-US",
                                        viewport={"width": width, "height": height})
    page = await context.new_page()
    await log_in(page, base_url, settings.console.admin.password.get_secret_value())
    await page.goto(f"{base_url}/console/tickets/{ticket_id}")
    return page


@pytest.mark.browser
async def test_on_a_desk_screen_the_fields_sit_beside_the_conversation(
    base_url: str, browser: Browser, settings: Settings
) -> None:
    page = await _ticket_page(browser, base_url, settings, 1400, 900)
    reply = page.get_by_label("Reply to the customer")
    await expect(reply).to_be_visible()
    main = await page.locator(".ticket-main").bounding_box()
    side = await page.locator(".ticket-side").bounding_box()
    assert main is not None and side is not None
    assert side["x"] >= main["x"] + main["width"] - 1, "the side panel is not beside"
    assert side["y"] < main["y"] + 200, "the side panel starts far below the conversation"
    box = await reply.bounding_box()
    assert box is not None and box["y"] < 900 * 1.5, "the composer is buried under forms"
    height = await page.evaluate("document.documentElement.scrollHeight")
    assert height <= 900 * 2, f"the ticket page is {height} px of stacked forms"
    await page.context.close()


@pytest.mark.browser
async def test_the_side_actions_unfold_and_the_ones_opened_stay_open_on_the_next_ticket(
    base_url: str, browser: Browser, settings: Settings
) -> None:
    page = await _ticket_page(browser, base_url, settings, 1400, 900)
    reason = page.get_by_label("Reason (required")
    await expect(reason).to_be_hidden()
    await page.get_by_role("region", name="Transfer").locator("summary").click()
    await expect(reason).to_be_visible()
    other = (await api_message(base_url, "I want a person about my order", customer_id="c2",
                               name="Bob"))[
        "ticket_id"]
    await page.goto(f"{base_url}/console/tickets/{other}")
    await expect(page.get_by_label("Reason (required")).to_be_visible()
    await expect(page.get_by_label("Merge this ticket into")).to_be_hidden()
    await page.context.close()


@pytest.mark.browser
async def test_at_400_px_the_page_has_no_sideways_scroll_and_the_reply_works(
    base_url: str, browser: Browser, settings: Settings
) -> None:
    page = await _ticket_page(browser, base_url, settings, 400, 800)
    reply = page.get_by_label("Reply to the customer")
    await expect(reply).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page is {width} px wide at a 400 px screen"
    main = await page.locator(".ticket-main").bounding_box()
    side = await page.locator(".ticket-side").bounding_box()
    assert main is not None and side is not None
    assert side["y"] >= main["y"] + main["height"] - 1, "the panel comes before the thread"
    box = await reply.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 400
    await reply.fill("We are looking into your invoice.")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator("#transcript .msg").last).to_contain_text(
        "We are looking into your invoice.")
    for other in ("/console", "/console/admin"):  # the list and the widest tables
        await page.goto(base_url + other)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{other} is {width} px wide at a 400 px screen"
    await page.context.close()
