"""Two operators in two browsers: agent Gina (queue general) transfers a ticket to the sales
queue with a reason; agent Sam (queue sales) sees it appear in his open list by itself and
opens it; Gina can no longer open it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import OPERATOR_PASSWORD, api_message, create_operator, log_in
from playwright.async_api import Browser, expect

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.browser
async def test_transfer_between_two_operators(base_url: str, browser: Browser,
                                              gateway_app: web.Application) -> None:
    await create_operator(gateway_app, "gina", "agent", ["general"])
    await create_operator(gateway_app, "sam", "agent", ["sales"])
    ticket_id = (await api_message(base_url, "I want to talk to a human about a quote for "
                                             "ten bikes", name="Ann Quote"))["ticket_id"]

    gina_ctx = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    sam_ctx = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    gina, sam = await gina_ctx.new_page(), await sam_ctx.new_page()
    await log_in(gina, base_url, OPERATOR_PASSWORD, "gina")
    await log_in(sam, base_url, OPERATOR_PASSWORD, "sam")
    await expect(sam.get_by_text("Nothing waiting.")).to_be_visible()
    await sam.evaluate("window.__notReloaded = true")

    row = gina.locator(f'tr[data-ticket-id="{ticket_id}"]')
    await row.get_by_role("link").click()
    await expect(gina.get_by_role("heading", level=1)).to_contain_text("quote for ten bikes")

    transfer = gina.get_by_role("region", name="Transfer")
    await transfer.get_by_text("Transfer", exact=True).first.click()  # unfold the panel
    await transfer.get_by_label("Queue").select_option("sales")
    # The reason is required: the browser itself refuses an empty one.
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(gina).to_have_url(f"{base_url}/console/tickets/{ticket_id}")
    await transfer.get_by_label("Reason").fill("Wants a quote for a fleet: sales")
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(gina.locator(".notice")).to_have_text(
        "Ticket transferred. It is no longer in your queues.")
    await expect(gina.locator(f'tr[data-ticket-id="{ticket_id}"]')).to_have_count(0)

    # Sam's open list shows it without a reload (WebSocket signal, then a refresh).
    sam_row = sam.locator(f'tr[data-ticket-id="{ticket_id}"]')
    await expect(sam_row).to_be_visible()
    await expect(sam_row).to_contain_text("sales")
    assert await sam.evaluate("window.__notReloaded") is True
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await sam.screenshot(path=str(DOCS / "console-queue.png"), full_page=True)
    await sam_row.get_by_role("link").click()
    await expect(sam.get_by_role("heading", level=1)).to_contain_text("quote for ten bikes")
    audit = sam.locator("#audit")
    await expect(audit).to_contain_text("Transferred")
    await expect(audit).to_contain_text("reason: Wants a quote for a fleet: sales")
    await expect(audit).to_contain_text("queue: general → sales")

    # Gina tries the ticket's address: 403, and nothing of the ticket.
    response = await gina.goto(f"{base_url}/console/tickets/{ticket_id}")
    assert response is not None and response.status == 403
    await expect(gina.get_by_role("heading", name="Not allowed")).to_be_visible()
    await expect(gina.locator("main")).not_to_contain_text("quote")

    await gina_ctx.close()
    await sam_ctx.close()
