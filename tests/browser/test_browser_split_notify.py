"""In Chromium: an operator splits a second matter off a ticket and the customer's next
message lands on the new ticket; operator A mentions B in a note (chosen from the
autocomplete) and B, logged in in another browser, gets a toast and the count in the tab
title, and once she switched desktop notifications on, a second mention only as a toast
while her tab is in front, then a desktop notification for a ticket A assigns to her while
her tab is in the background."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import OPERATOR_PASSWORD, api_message, create_operator, log_in
from playwright.async_api import Browser, Page, expect

from gateway.keys import STORE

INVOICE = "I want to talk to a human about my invoice"
MOVE = "Another thing: I am moving house next week, please change my address"

#: Records the desktop notifications the page shows (the browser's own still appear).
DOCS = Path(__file__).resolve().parents[2] / "docs"
SPY = """
window.__desktop = [];
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) { super(title, options); window.__desktop.push(title); }
  };
}
"""

#: The tab goes to the background, as the browser says it (headless pages stay "visible").
HIDE = """
Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
document.dispatchEvent(new Event("visibilitychange"));
"""


async def _page(browser: Browser, base_url: str, username: str) -> Page:
    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await log_in(page, base_url, OPERATOR_PASSWORD, username)
    return page


@pytest.mark.browser
async def test_split_then_the_customer_reply_lands_on_the_new_ticket(
    base_url: str, browser: Browser, gateway_app: web.Application
) -> None:
    await create_operator(gateway_app, "gina", "agent", ["general"])
    first = await api_message(base_url, INVOICE)
    await api_message(base_url, MOVE, conversation_id=first["conversation_id"])
    page = await _page(browser, base_url, "gina")
    await page.goto(f"{base_url}/console/tickets/{first['ticket_id']}")

    message = page.locator("#transcript li.msg").filter(has_text="moving house")
    await message.get_by_role("button", name="Split from here").click()
    await expect(page.locator(".notice")).to_contain_text("Split off: this new ticket")
    new_id = int(page.url.split("/tickets/")[1].split("?")[0])
    assert new_id != first["ticket_id"]
    await expect(page.locator("#transcript li.msg-customer")).to_have_count(1)
    await expect(page.locator("#transcript")).to_contain_text("moving house")
    await expect(page.locator("#ticket-meta .split-link")).to_contain_text(
        f"Split from#{first['ticket_id']}")
    await expect(page.locator("#live-status")).to_have_text("live")

    later = await api_message(base_url, "The new address is Kerkstraat 12, Gent",
                              conversation_id=first["conversation_id"])
    assert later["ticket_id"] == new_id
    await expect(page.locator("#transcript")).to_contain_text("Kerkstraat 12")  # live
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "console-split.png"))

    await page.locator("#ticket-meta .split-link a").click()  # back to the original
    await expect(page).to_have_url(re.compile(f"/console/tickets/{first['ticket_id']}$"))
    await expect(page.locator("#transcript")).to_contain_text("about my invoice")
    await expect(page.locator("#transcript")).not_to_contain_text("moving house")
    await expect(page.locator("#transcript")).not_to_contain_text("Kerkstraat")
    await expect(page.locator("#audit")).to_contain_text("Messages split off to a new ticket")
    await page.context.close()


@pytest.mark.browser
async def test_a_mention_and_an_assignment_reach_the_colleague_in_her_browser(
    base_url: str, browser: Browser, gateway_app: web.Application
) -> None:
    await create_operator(gateway_app, "gina", "agent", ["general"])
    await create_operator(gateway_app, "bea", "agent", ["general"])
    ticket_id = (await api_message(base_url, INVOICE))["ticket_id"]

    bea = await _page(browser, base_url, "bea")
    await bea.context.grant_permissions(["notifications"], origin=base_url)
    await bea.context.add_init_script(SPY)
    await bea.goto(f"{base_url}/console")
    await expect(bea.locator("#live-status")).to_have_text("live")
    title = await bea.title()
    assert not title.startswith("(")

    gina = await _page(browser, base_url, "gina")
    await gina.goto(f"{base_url}/console/tickets/{ticket_id}")
    await gina.get_by_role("tab", name="Internal note").click()
    note = gina.get_by_label("Note for colleagues")
    await note.type("Could you check this, @be")
    await expect(gina.locator("#mention-list")).to_contain_text("Bea (@bea)")
    await note.press("Enter")
    await note.type("it is about the March invoice")
    await expect(note).to_have_value("Could you check this, @bea it is about the March invoice")
    await gina.get_by_role("button", name="Add internal note").click()
    await expect(gina.locator(".notice")).to_have_text("Internal note added.")

    toast = bea.locator("#toasts .toast").filter(has_text="You were mentioned")
    await expect(toast).to_contain_text("@bea it is about the March invoice")
    await expect(bea).to_have_title(re.compile(r"^\(1\) "))
    await expect(bea.locator("#notify-count")).to_have_text("1")
    await expect(bea.locator("#notify-count")).to_have_attribute(
        "aria-label", "1 unread notification")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await bea.screenshot(path=str(DOCS / "console-notifications.png"))

    # desktop notifications only once Bea asks for them, with a click
    assert await bea.evaluate("window.__desktop.length") == 0
    await bea.get_by_role("button", name="Enable desktop notifications").click()
    await expect(bea.locator("#desktop-notify")).to_have_text(
        "Desktop notifications on (turn off)")

    # with her tab in front, the toast alone: no desktop notification on top of it
    await gina.get_by_role("tab", name="Internal note").click()
    await note.fill("@bea the customer called again")
    await gina.get_by_role("button", name="Add internal note").click()
    await expect(gina.locator(".notice")).to_have_text("Internal note added.")
    await expect(bea.locator("#toasts .toast").filter(has_text="the customer called again")
                 ).to_be_visible()
    await expect(bea).to_have_title(re.compile(r"^\(2\) "))
    assert await bea.evaluate("window.__desktop") == []

    # in the background: the desktop notification
    await bea.evaluate(HIDE)
    await gina.locator("#transfer-panel summary").click()
    await gina.get_by_label("Operator").select_option("bea")
    await gina.get_by_label("Reason (required").fill("Bea handles invoices")
    await gina.get_by_role("button", name="Transfer").click()
    await expect(bea.locator("#toasts .toast").filter(has_text="Assigned to you")
                 ).to_contain_text("Bea handles invoices")
    await expect(bea).to_have_title(re.compile(r"^\(3\) "))
    assert await bea.evaluate("window.__desktop") == ["Assigned to you"]

    # the notifications page lists all three; opening the ticket reads them, and the count goes
    await bea.get_by_role("link", name="Notifications").click()
    await expect(bea.locator("li.notification.unread")).to_have_count(3)
    await expect(bea).to_have_title(re.compile(r"^\(3\) Notifications"))
    await bea.locator("li.notification").first.get_by_role("link", name=f"#{ticket_id}").click()
    await expect(bea.locator("#notify-count")).to_be_hidden()
    await expect(bea).to_have_title(re.compile(rf"^#{ticket_id} "))
    await bea.go_back()
    await expect(bea.locator("li.notification.unread")).to_have_count(0)
    gina_id = (await gateway_app[STORE].operator_by_username("gina")).id  # type: ignore[union-attr]
    assert await gateway_app[STORE].unread_notifications(gina_id) == 0
    await gina.context.close()
    await bea.context.close()
