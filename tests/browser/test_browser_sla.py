"""SLA pause and resume in a real browser: the operator sets a ticket pending and the page
shows the SLA paused; the customer writes again and, without a reload, the ticket is open
and its SLA running again. Then a breach shows up as a live alert. On the way, a canned
answer from the knowledge base fills the reply box."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import api_message, log_in
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from gateway.keys import HUB, SETTINGS, STORE
from gateway.sla.watcher import SlaWatcher

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.browser
async def test_sla_pauses_while_pending_and_resumes_when_the_customer_writes(
    base_url: str, browser: Browser, settings: Settings, gateway_app: web.Application
) -> None:
    assert settings.console.admin.password is not None
    started = await api_message(base_url, "I want to talk to a human about my delivery")
    ticket_id = started["ticket_id"]
    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    console = await context.new_page()
    await log_in(console, base_url, settings.console.admin.password.get_secret_value())
    await console.goto(f"{base_url}/console/tickets/{ticket_id}")
    await expect(console.locator("#live-status")).to_have_text("live")

    sla = console.get_by_role("region", name="SLA")
    await expect(sla.locator("h2")).to_contain_text("running")
    await expect(sla.get_by_role("row", name="First response")).to_contain_text("running")

    # A canned answer, found by typing, goes into the reply box to be edited.
    await console.get_by_label("Search answers").fill("delivery take")
    await expect(console.locator("#canned-list button").first).to_have_text(
        "How long does delivery take?")
    await console.get_by_label("Search answers").press("Enter")
    reply = console.get_by_label("Reply to the customer")
    await expect(reply).to_be_focused()
    await expect(reply).to_have_value(re.compile(r"^Bikes that are in stock .*\*\*3 to 5 "
                                                 r"working days\*\*", re.DOTALL))
    await reply.press("Control+End")
    await reply.type(" Yours, Admin")  # the operator edits before sending
    await expect(reply).to_have_value(re.compile(r"Yours, Admin$"))

    await console.evaluate("window.__notReloaded = true")
    await console.get_by_role("button", name="Pending (waiting on the customer)").click()
    await expect(console.locator(".notice")).to_contain_text("The SLA is paused.")
    await expect(sla).to_contain_text("SLA paused: waiting on the customer")
    await expect(sla.get_by_role("row", name="Resolution")).to_contain_text("paused")
    await expect(console.locator("#ticket-meta .status-pending")).to_have_text("pending")

    # The customer answers through their channel: the page follows by itself.
    await console.evaluate("window.__notReloaded = true")
    await api_message(base_url, "My order number is 10042",
                      conversation_id=started["conversation_id"])
    await expect(console.locator("#ticket-meta .status-open")).to_have_text("open")
    await expect(sla).not_to_contain_text("SLA paused")
    await expect(sla.get_by_role("row", name="Resolution")).to_contain_text("running")
    await expect(console.locator("#transcript .msg-customer .msg-body").last).to_have_text(
        "My order number is 10042")
    await expect(console.locator("#audit")).to_contain_text("Reopened")
    assert await console.evaluate("window.__notReloaded") is True

    # Much later the watcher finds the SLA breached: the alert appears while the page is open.
    ticket = await gateway_app[STORE].get_ticket(ticket_id)
    assert ticket is not None
    watcher = SlaWatcher(gateway_app[STORE], gateway_app[HUB], gateway_app[SETTINGS].sla,
                         gateway_app[SETTINGS].calendar.for_queue)
    await watcher.run_once(ticket.created_at + timedelta(days=60))
    alert = console.locator("#alerts .alert")
    await expect(alert).to_contain_text("SLA breached")
    await expect(alert.get_by_role("link")).to_have_text(
        f"#{ticket_id} I want to talk to a human about my delivery")
    assert await console.evaluate("window.__notReloaded") is True

    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await console.screenshot(path=str(DOCS / "console-sla.png"), full_page=True)
    await context.close()
