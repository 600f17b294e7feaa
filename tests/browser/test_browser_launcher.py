"""The chat behind its launcher, as a customer uses it: a round button opens and closes it,
replies that arrive while it is closed are counted on the button and in the tab's title, and
on a phone the open chat takes the whole screen."""

from __future__ import annotations

import pytest
from aiohttp import web
from browser_helpers import open_chat, operator_reply, say
from playwright.async_api import Browser, expect

PAGE_TITLE = "Velora support — demo"


@pytest.mark.browser
async def test_the_launcher_opens_and_closes_the_chat_and_escape_closes_it(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(base_url + "/")
    chat = page.get_by_role("dialog", name="Support")
    launcher = page.get_by_role("button", name="Open chat")
    await expect(chat).to_be_hidden()  # closed until the customer asks for it
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    box = await launcher.bounding_box()
    assert box is not None and box["width"] == box["height"]
    assert await launcher.evaluate("b => getComputedStyle(b).borderRadius") == "50%"

    await launcher.click()
    await expect(chat).to_be_visible()
    await expect(page.get_by_role("textbox", name="Type your question…")).to_be_focused()
    await expect(page.locator(".hgw-launcher")).to_have_attribute("aria-expanded", "true")
    await expect(page.locator(".hgw-launcher")).to_have_accessible_name("Close chat")
    await page.keyboard.press("Escape")
    await expect(chat).to_be_hidden()
    await expect(launcher).to_be_focused()  # focus goes back where it came from

    await launcher.click()
    await page.reload()  # open or closed is remembered
    await expect(chat).to_be_visible()
    await page.get_by_role("button", name="Close chat").first.click()
    await expect(chat).to_be_hidden()


@pytest.mark.browser
async def test_replies_while_closed_are_counted_on_the_launcher_and_in_the_tab_title(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await expect(page).to_have_title(PAGE_TITLE)
    await say(page, "I want to talk to a person")
    await expect(page.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    await page.keyboard.press("Escape")

    await operator_reply(gateway_app, "Hello, this is Admin.")
    await operator_reply(gateway_app, "What is your order number?")
    launcher = page.get_by_role("button", name="Open chat (2 new messages)")
    await expect(launcher).to_be_visible()
    await expect(page.locator(".hgw-badge")).to_have_text("2")
    await expect(page).to_have_title("(2) " + PAGE_TITLE)

    await page.reload()  # still unseen after a reload
    await expect(page.locator(".hgw-badge")).to_have_text("2")
    await expect(page).to_have_title("(2) " + PAGE_TITLE)

    await launcher.click()
    await expect(page.locator(".hgw-operator", has_text="What is your order number?")
                 ).to_be_visible()
    await expect(page.locator(".hgw-badge")).to_have_text("")
    await expect(page).to_have_title(PAGE_TITLE)
    await operator_reply(gateway_app, "Thanks!")  # read as it arrives: nothing to count
    await expect(page.locator(".hgw-operator", has_text="Thanks!")).to_be_visible()
    await expect(page.locator(".hgw-badge")).to_have_text("")
    await page.keyboard.press("Escape")
    await page.reload()
    await expect(page.get_by_role("button", name="Open chat", exact=True)).to_be_visible()
    await expect(page.locator(".hgw-badge")).to_have_text("")


@pytest.mark.browser
async def test_on_a_phone_the_open_chat_fills_the_screen_and_inputs_do_not_zoom(
        base_url: str, browser: Browser) -> None:
    context = await browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                        is_mobile=True, has_touch=True, device_scale_factor=3)
    page = await context.new_page()
    await open_chat(page, base_url)
    box = await page.get_by_role("dialog", name="Support").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    textbox = page.get_by_role("textbox", name="Type your question…")
    size = await textbox.evaluate("t => parseFloat(getComputedStyle(t).fontSize)")
    assert size >= 16, size  # iOS zooms into inputs below 16px
    await say(page, "How long does delivery take?")
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_in_viewport()
    await page.get_by_role("button", name="Close chat").click()
    await expect(page.get_by_role("dialog", name="Support")).to_be_hidden()
    await expect(page.get_by_role("button", name="Open chat")).to_be_in_viewport()
