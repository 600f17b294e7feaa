"""Search in a real browser: from the header's search box an operator finds a closed ticket
by a word the customer wrote, opens a ticket by its number, and finds a breached ticket far
beyond the 200 newest both by the Breached view and by searching for it."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import api_message, log_in
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from gateway.keys import STORE, TICKETS
from tests.console.console_helpers import backdate, bulk_tickets

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.browser
async def test_search_from_the_header_finds_closed_numbered_and_breached_tickets(
    base_url: str, browser: Browser, settings: Settings, gateway_app: web.Application
) -> None:
    assert settings.console.admin.password is not None
    store = gateway_app[STORE]
    bike = await api_message(base_url, "I want to talk to a human: my Brompton's hub clicks",
                             customer_id="el", name="Élodie Martin")
    admin = await store.operator_by_username("admin")
    assert admin is not None
    await gateway_app[TICKETS].close(admin, bike["ticket_id"], "answered", "")
    backlog = await bulk_tickets(store, 230, "vol")
    await backdate(store, backlog[:1], timedelta(days=30))  # the oldest: breached

    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    console = await context.new_page()
    await log_in(console, base_url, settings.console.admin.password.get_secret_value())

    box = console.get_by_role("searchbox", name="Search tickets").first
    await box.fill("brompton")
    await box.press("Enter")
    await expect(console.get_by_role("heading", name="Search tickets")).to_be_visible()
    found = console.locator(f'#search-results tr[data-ticket-id="{bike["ticket_id"]}"]')
    await expect(found).to_contain_text("Élodie Martin")
    await expect(found).to_contain_text("closed")
    await expect(console.locator("#search-results .count")).to_have_text("1 ticket found")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await console.screenshot(path=str(DOCS / "console-search.png"), full_page=True)
    await found.get_by_role("link").click()
    await expect(console.get_by_role("heading", level=1)).to_contain_text(
        f"#{bike['ticket_id']}")

    # The Breached view lists the oldest ticket of the backlog, number 2 of 232.
    await console.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Open tickets").click()
    await console.get_by_role("navigation", name="Views").get_by_role(
        "link", name="Breached").click()
    await expect(console.locator(f'#ticket-list tr[data-ticket-id="{backlog[0]}"]')).to_be_visible()
    await expect(console.locator("#ticket-list .count")).to_contain_text("1 ticket match")

    box = console.get_by_role("searchbox", name="Search tickets").first
    await box.fill("question vol-0")
    await box.press("Enter")
    rows = console.locator("#search-results tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-ticket-id", str(backlog[0]))

    box = console.get_by_role("searchbox", name="Search tickets").first
    await box.fill(f"#{backlog[-1]}")
    await box.press("Enter")
    await expect(console).to_have_url(f"{base_url}/console/tickets/{backlog[-1]}")
    await context.close()
