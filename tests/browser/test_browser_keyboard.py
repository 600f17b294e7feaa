"""The console by keyboard in a real browser: j/k move through the list, x ticks a ticket for
a bulk action, Enter opens it, t takes it, r goes to the reply box and Esc back out of it,
/ goes to the search, ? shows the shortcuts."""

from __future__ import annotations

import re

import pytest
from browser_helpers import api_message, log_in
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings


@pytest.mark.browser
async def test_keyboard_navigation_through_the_list_and_a_ticket(
    base_url: str, browser: Browser, settings: Settings
) -> None:
    assert settings.console.admin.password is not None
    ids = [(await api_message(base_url, f"I want to talk to a human about order {n}",
                              customer_id=f"k{n}", name=f"Customer {n}"))["ticket_id"]
           for n in range(3)]
    newest_first = sorted(ids, reverse=True)
    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    console = await context.new_page()
    await log_in(console, base_url, settings.console.admin.password.get_secret_value())

    keyboard = console.keyboard
    await keyboard.press("j")
    row = console.locator(f'tr[data-ticket-id="{newest_first[0]}"]')
    await expect(row).to_have_class(re.compile(r"\bcurrent\b"))
    await expect(row.get_by_role("link")).to_be_focused()
    await keyboard.press("j")
    await keyboard.press("j")
    await keyboard.press("k")
    second = console.locator(f'tr[data-ticket-id="{newest_first[1]}"]')
    await expect(second).to_have_class(re.compile(r"\bcurrent\b"))
    await keyboard.press("x")
    await expect(second.get_by_role("checkbox")).to_be_checked()
    await expect(console.locator("#bulk-count")).to_have_text("1 ticket selected")

    await keyboard.press("?")
    dialog = console.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("next / previous ticket in the list")
    await keyboard.press("Escape")
    await expect(dialog).to_be_hidden()

    await second.get_by_role("link").focus()
    await keyboard.press("Enter")
    await expect(console).to_have_url(f"{base_url}/console/tickets/{newest_first[1]}")
    await expect(console.locator("#live-status")).to_have_text("live")
    await keyboard.press("t")
    await expect(console.locator(".notice")).to_have_text("You now own this ticket.")
    await keyboard.press("r")
    reply = console.get_by_label("Reply to the customer")
    await expect(reply).to_be_focused()
    await keyboard.type("jkx typed, not shortcuts")
    await expect(reply).to_have_value("jkx typed, not shortcuts")
    await keyboard.press("Escape")
    await expect(reply).not_to_be_focused()
    await keyboard.press("n")  # the composer's other tab; the reply draft is kept in its own
    await expect(console.get_by_label("Note for colleagues")).to_be_focused()
    await expect(console.get_by_role("tab", name="Internal note")).to_have_attribute(
        "aria-selected", "true")
    await expect(reply).to_be_hidden()
    await keyboard.press("Escape")
    await keyboard.press("r")
    await expect(reply).to_have_value("jkx typed, not shortcuts")
    await expect(console.get_by_label("Note for colleagues")).to_be_hidden()
    await keyboard.press("Escape")
    await keyboard.press("/")
    await expect(console.get_by_role("searchbox", name="Search tickets").first).to_be_focused()
    await context.close()
