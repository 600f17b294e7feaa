"""A macro and tags in a real browser: the operator applies "Refund sent" on a ticket with a
draft; the ticket turns pending, P2 and tagged `refund` without a reload, the macro's text
goes into the reply box at the cursor keeping the draft, and the tag link lists the ticket."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from browser_helpers import api_message, log_in
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(console={"macros": [{
        "name": "Refund sent", "text": "Your refund for ticket {ticket.id} left today.",
        "status": "pending", "priority": "P2", "add_tags": ["refund"]}]})


@pytest.mark.browser
async def test_a_macro_sets_fields_and_tags_and_inserts_its_text_keeping_the_draft(
    base_url: str, browser: Browser, settings: Settings
) -> None:
    assert settings.console.admin.password is not None
    ticket_id = (await api_message(base_url, "I want to talk to a human about my refund",
                                   name="Ann"))["ticket_id"]
    context = await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    console = await context.new_page()
    await log_in(console, base_url, settings.console.admin.password.get_secret_value())
    await console.goto(f"{base_url}/console/tickets/{ticket_id}")
    await console.get_by_role("button", name="Take", exact=True).click()
    await expect(console.locator(".notice")).to_have_text("You now own this ticket.")

    reply = console.get_by_label("Reply to the customer")
    await reply.fill("Hello Ann,")
    await console.evaluate("window.__notReloaded = true")
    await console.get_by_role("group", name="Macros:").get_by_role(
        "button", name="Refund sent").click()
    await expect(console.locator("#macro-status")).to_contain_text(
        "Applied “Refund sent”: status → pending, priority → P2, tag + refund")
    await expect(reply).to_have_value(re.compile(
        rf"^Hello Ann,\n\nYour refund for ticket {ticket_id} left today\.$"))
    meta = console.locator("#ticket-meta")
    await expect(meta.locator(".status-pending")).to_have_text("pending")
    await expect(meta.locator(".priority-p2")).to_have_text("P2")
    await expect(meta.locator("#ticket-tags")).to_contain_text("refund")
    assert await console.evaluate("window.__notReloaded") is True

    # The tag in the list leads to the tickets carrying it.
    await console.goto(f"{base_url}/console?status=pending")
    await console.locator(f'tr[data-ticket-id="{ticket_id}"] a.tag').click()
    await expect(console).to_have_url(f"{base_url}/console?tag=refund")
    await expect(console.locator("#ticket-list .count")).to_contain_text("1 ticket match")
    await expect(console.get_by_label("Tag", exact=True)).to_have_value("refund")
    await context.close()
