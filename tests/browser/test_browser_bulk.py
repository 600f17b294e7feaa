"""A bulk transfer in a real browser: the operator ticks two tickets of the list, a new
hand-off arrives meanwhile (the list refreshes live and keeps the ticks), and the two go to
the sales queue in one step, each with its audit entry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import api_message, log_in
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from gateway.keys import STORE

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.browser
async def test_a_bulk_transfer_moves_the_ticked_tickets_keeping_ticks_across_live_updates(
    base_url: str, browser: Browser, settings: Settings, gateway_app: web.Application
) -> None:
    assert settings.console.admin.password is not None
    ids = [(await api_message(base_url, f"I want to talk to a human about order {n}",
                              customer_id=f"c{n}", name=f"Customer {n}"))["ticket_id"]
           for n in range(3)]
    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    console = await context.new_page()
    await log_in(console, base_url, settings.console.admin.password.get_secret_value())
    await expect(console.get_by_role("button", name="Apply to selected")).to_be_disabled()

    await console.get_by_label(f"Select ticket #{ids[0]}").check()
    await console.get_by_label(f"Select ticket #{ids[2]}").check()
    await expect(console.locator("#bulk-count")).to_have_text("2 tickets selected")
    late = (await api_message(base_url, "I want to talk to a human, again",
                              customer_id="late", name="Late"))["ticket_id"]
    await expect(console.locator(f'tr[data-ticket-id="{late}"]')).to_be_visible()
    await expect(console.get_by_label(f"Select ticket #{ids[0]}")).to_be_checked()
    await expect(console.get_by_label(f"Select ticket #{ids[2]}")).to_be_checked()

    bulk = console.get_by_role("form", name="Change the selected tickets")
    await bulk.get_by_label("With the selected tickets").select_option("transfer")
    await expect(bulk.get_by_label("Operator")).to_be_hidden()
    await bulk.get_by_label("Queue").select_option("sales")
    await bulk.get_by_label("Reason (optional)").fill("Quotes go to sales")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await console.screenshot(path=str(DOCS / "console-bulk.png"), full_page=True)
    await bulk.get_by_role("button", name="Apply to selected").click()
    await expect(console.locator(".notice")).to_have_text("2 tickets changed.")
    for ticket_id in (ids[0], ids[2]):
        await expect(console.locator(f'tr[data-ticket-id="{ticket_id}"]')).to_contain_text(
            "sales")
        trail = await gateway_app[STORE].events(ticket_id=ticket_id)
        assert trail[-1].type == "ticket.transferred"
        assert trail[-1].data["reason"] == "Quotes go to sales"
    await expect(console.locator(f'tr[data-ticket-id="{ids[1]}"]')).to_contain_text("general")
    await context.close()
