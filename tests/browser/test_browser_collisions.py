"""Two operators on one ticket in two browsers: each sees the other on the page, live; the
one who types is shown replying; and the second to send is warned that a colleague replied
since her page loaded, with her draft kept, before she sends it anyway."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import OPERATOR_PASSWORD, api_message, create_operator, log_in
from playwright.async_api import Browser, expect

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.browser
async def test_two_operators_see_each_other_and_the_second_is_warned_before_sending(
    base_url: str, browser: Browser, gateway_app: web.Application
) -> None:
    await create_operator(gateway_app, "gina", "agent", ["general"])
    await create_operator(gateway_app, "sam", "agent", ["general"])
    ticket_id = (await api_message(base_url, "I want to talk to a human about my refund",
                                   name="Ann Refund"))["ticket_id"]
    pages = {}
    for name in ("gina", "sam"):
        context = await browser.new_context(locale="en-US",
                                            viewport={"width": 1400, "height": 900})
        pages[name] = await context.new_page()
        await log_in(pages[name], base_url, OPERATOR_PASSWORD, name)
        await pages[name].goto(f"{base_url}/console/tickets/{ticket_id}")
        await expect(pages[name].locator("#live-status")).to_have_text("live")
    gina, sam = pages["gina"], pages["sam"]

    await expect(gina.locator("#viewers")).to_have_text("Also on this ticket: Sam is viewing")
    await expect(sam.locator("#viewers")).to_have_text("Also on this ticket: Gina is viewing")

    await gina.get_by_label("Reply to the customer").fill("Hello Ann, I am looking into it")
    await sam.get_by_label("Reply to the customer").type("Hi Ann, the refund left today")
    await expect(gina.locator("#viewers .replying")).to_have_text("Sam is replying")
    await sam.get_by_role("button", name="Send reply").click()
    await expect(sam.locator(".notice")).to_have_text("Reply sent to the customer.")
    await expect(gina.locator("#transcript")).to_contain_text("the refund left today")

    # Gina's page loaded before Sam's reply: she is warned, her draft is kept.
    await gina.get_by_role("button", name="Send reply").click()
    warning = gina.get_by_role("alert").filter(has_text="replied since you opened")
    await expect(warning).to_contain_text("Sam replied since you opened this ticket.")
    await expect(warning).to_contain_text("Hi Ann, the refund left today")
    await expect(gina.get_by_label("Reply to the customer")).to_have_value(
        "Hello Ann, I am looking into it")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await gina.screenshot(path=str(DOCS / "console-collision.png"), full_page=True)
    await gina.get_by_role("button", name="Send reply").click()
    await expect(gina.locator(".notice")).to_have_text("Reply sent to the customer.")
    await expect(gina.locator("#transcript")).to_contain_text("I am looking into it")

    # Sam leaves: Gina's page says nobody else is there.
    await sam.context.close()
    await expect(gina.locator("#viewers")).to_be_hidden()
    await gina.context.close()
