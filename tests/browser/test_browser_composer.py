"""The reply box in a real browser: a canned answer goes in at the operator's cursor and
keeps the draft around it (it used to replace the whole draft without a word)."""

from __future__ import annotations

import re

import pytest
from browser_helpers import api_message, log_in
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings


@pytest.mark.browser
async def test_a_canned_answer_is_inserted_at_the_cursor_keeping_the_draft(
    base_url: str, browser: Browser, settings: Settings
) -> None:
    assert settings.console.admin.password is not None
    ticket_id = (await api_message(base_url, "I want to talk to a human about delivery"))[
        "ticket_id"]
    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    console = await context.new_page()
    await log_in(console, base_url, settings.console.admin.password.get_secret_value())
    await console.goto(f"{base_url}/console/tickets/{ticket_id}")

    reply = console.get_by_label("Reply to the customer")
    await reply.fill("Hello Ann,\n\nKind regards, Admin")
    await reply.press("Control+Home")
    await reply.press("ArrowDown")
    await reply.press("ArrowDown")  # the start of "Kind regards"

    await console.get_by_label("Search answers").fill("delivery take")
    await expect(console.locator("#canned-list button").first).to_have_text(
        "How long does delivery take?")
    await console.get_by_label("Search answers").press("Enter")
    await expect(reply).to_be_focused()
    await expect(reply).to_have_value(re.compile(
        r"^Hello Ann,\n\nBikes that are in stock .*\*\*3 to 5 working days\*\*.*\n\n"
        r"Kind regards, Admin$", re.DOTALL))
    await expect(console.locator("#canned-status")).to_contain_text("your draft is kept")
    await reply.type("P.S. ")  # the cursor is right after the inserted answer
    await expect(reply).to_have_value(re.compile(r"\n\nP\.S\. Kind regards, Admin$"))
    await context.close()
