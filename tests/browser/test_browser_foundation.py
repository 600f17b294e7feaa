"""The "Foundation" story in a real browser: a customer chats on the site, the bot answers,
the customer asks for a person, an operator picks the ticket up in the console and replies,
and the customer reads the reply in the chat. Nothing is reloaded by hand along the way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_helpers import log_in, open_chat, say
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"


def _admin_password(settings: Settings) -> str:
    assert settings.console.admin.password is not None
    return settings.console.admin.password.get_secret_value()


@pytest.mark.browser
async def test_customer_to_operator_and_back(base_url: str, browser: Browser,
                                             settings: Settings) -> None:
    operator = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    customer = await browser.new_context(locale="en-US")
    console = await operator.new_page()
    chat = await customer.new_page()

    await log_in(console, base_url, _admin_password(settings))
    await expect(console.get_by_text("Nothing waiting.")).to_be_visible()
    await console.evaluate("window.__notReloaded = true")

    await open_chat(chat, base_url)
    await expect(chat.locator(".hgw-greeting")).to_contain_text(
        "Hello! I am the Velora assistant.")  # the first visit is greeted
    await chat.evaluate("window.__notReloaded = true")
    await say(chat, "How long does delivery take?")
    answer = chat.locator('.hgw-bot[data-kind="answer"]')
    await expect(answer).to_contain_text("3 to 5 working days")

    await say(chat, "I want to talk to a person")
    await expect(chat.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()

    # The ticket shows up in the open console by itself (WebSocket signal, no reload), under
    # what the customer wanted to know rather than their request for a person.
    row = console.locator("tbody tr", has_text="How long does delivery take?")
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("webchat")
    assert await console.evaluate("window.__notReloaded") is True

    await row.get_by_role("link").click()
    await expect(console.get_by_role("heading", level=1)).to_contain_text(
        "How long does delivery take?")
    transcript = console.locator("#transcript")
    await expect(transcript.locator(".msg-customer .msg-body").first).to_have_text(
        "How long does delivery take?")
    await expect(transcript.locator(".msg-bot").first).to_contain_text("3 to 5 working days")
    attempts = console.get_by_role("region", name="What the bot tried")
    await expect(attempts).to_contain_text("Hand-off: asked for a human")

    await console.get_by_label("Reply to the customer").fill(
        "Hi, this is **Admin** from Velora. What can I do for you?")
    await console.get_by_role("button", name="Send reply").click()
    await expect(console.locator(".notice")).to_have_text("Reply sent to the customer.")

    # The customer reads the reply in the chat, rendered from Markdown, without reloading.
    reply = chat.locator(".hgw-operator")
    await expect(reply).to_contain_text("What can I do for you?")
    await expect(reply.locator("strong")).to_have_text("Admin")
    assert await chat.evaluate("window.__notReloaded") is True

    # And the customer's answer appears on the open ticket page live.
    await console.evaluate("window.__notReloaded = true")
    await say(chat, "My order number is 10042, it has not arrived yet")
    await expect(transcript.locator(".msg-customer .msg-body").last).to_have_text(
        "My order number is 10042, it has not arrived yet")
    assert await console.evaluate("window.__notReloaded") is True

    await console.get_by_role("tab", name="Internal note").click()
    await console.get_by_label("Note for colleagues").fill(
        "Order 10042: asked the warehouse for the tracking number.")
    await console.get_by_role("button", name="Add internal note").click()
    await expect(console.locator(".notice")).to_have_text("Internal note added.")
    await expect(console.locator("#audit .note")).to_contain_text("asked the warehouse")

    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await console.screenshot(path=str(SCREENSHOT), full_page=True)

    await operator.close()
    await customer.close()
