"""A role denied access, in a real browser: an agent finds no admin link, and typing the
admin page's address or another queue's ticket address gives the 403 page, nothing more."""

from __future__ import annotations

import pytest
from aiohttp import web
from browser_helpers import OPERATOR_PASSWORD, api_message, create_operator, log_in
from playwright.async_api import Browser, expect

from gateway.keys import STORE


@pytest.mark.browser
async def test_agent_is_denied_the_admin_page_and_other_queues(
    base_url: str, browser: Browser, gateway_app: web.Application
) -> None:
    await create_operator(gateway_app, "sam", "agent", ["sales"])
    ticket_id = (await api_message(base_url, "I want to talk to a human about my secret "
                                             "invoice", name="Zelda Secretname"))["ticket_id"]
    assert (await gateway_app[STORE].get_ticket(ticket_id)) is not None  # in `general`

    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await log_in(page, base_url, OPERATOR_PASSWORD, "sam")
    await expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Open tickets", "New ticket", "Call-backs", "Notifications"])  # no Admin or Reports
    await expect(page.locator(f'tr[data-ticket-id="{ticket_id}"]')).to_have_count(0)
    # Keyboard first: the first Tab reaches the skip link.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    for path, says in (("/console/admin", "This page is for admins."),
                       (f"/console/tickets/{ticket_id}", "You do not have access to this ticket.")):
        response = await page.goto(base_url + path)
        assert response is not None and response.status == 403, path
        await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        await expect(page.locator("main")).to_contain_text(says)
        await expect(page.locator("main")).not_to_contain_text("Zelda")
        await expect(page.locator("main")).not_to_contain_text("invoice")

    await context.close()
