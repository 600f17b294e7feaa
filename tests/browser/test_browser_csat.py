"""The web chat survey in Chromium: the operator marks the ticket solved in the console, the
customer's open chat shows the question with buttons 1-5, the customer picks a score, adds
a comment and sends; the console's ticket page shows both, and the survey stays answered
after a reload of the chat."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import log_in, open_chat, say
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from gateway.keys import STORE
from tests.conftest import ALWAYS_OPEN

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(calendar=ALWAYS_OPEN, csat={
        "enabled": True, "delay_minutes": 0, "sweep_interval": 0.2})


@pytest.mark.browser
async def test_web_chat_survey_round_trip(base_url: str, browser: Browser, settings: Settings,
                                          gateway_app: web.Application) -> None:
    assert settings.console.admin.password is not None
    chat = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(chat, base_url)
    await say(chat, "I want to talk to a person")
    await expect(chat.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    (ticket,) = await gateway_app[STORE].tickets(("new",))

    console = await (await browser.new_context(
        locale="en-US", viewport={"width": 1400, "height": 900})).new_page()
    await log_in(console, base_url, settings.console.admin.password.get_secret_value())
    await console.goto(f"{base_url}/console/tickets/{ticket.id}")
    await console.get_by_role("button", name="Solved").click()
    await expect(console.locator(".notice")).to_contain_text("Marked solved")

    survey = chat.locator('.hgw-msg[data-kind="survey"]')
    await expect(survey).to_contain_text(f"Your ticket #{ticket.id} is solved.")
    scores = survey.get_by_role("group", name="1 = Very dissatisfied, 5 = Very satisfied")
    await expect(scores.get_by_role("button")).to_have_count(5)
    await scores.get_by_role("button", name="4").click()
    await expect(scores.get_by_role("button", name="4")).to_have_attribute("aria-pressed",
                                                                            "true")
    comment = survey.get_by_role("textbox", name="Anything you would like to add? (optional)")
    await expect(comment).to_be_focused()
    await comment.fill("Quick and friendly, thanks")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await chat.locator(".hgw-chat").screenshot(path=str(DOCS / "csat-webchat.png"))
    await survey.get_by_role("button", name="Send").click()
    await expect(survey.get_by_role("status")).to_have_text("Thank you for your feedback!")

    await chat.reload()  # answered stays answered: no buttons come back
    await expect(chat.locator('.hgw-msg[data-kind="survey"] .hgw-survey-done')).to_have_text(
        "Thank you for your feedback!")
    await expect(chat.locator(".hgw-scores")).to_have_count(0)

    await console.reload()
    card = console.get_by_role("region", name="Customer satisfaction")
    await expect(card.locator("#csat-score")).to_have_text("4 / 5")
    await expect(card.locator("#csat-comment")).to_have_text("Quick and friendly, thanks")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await card.screenshot(path=str(DOCS / "csat-ticket.png"))
    stored = await gateway_app[STORE].survey_of_ticket(ticket.id)
    assert stored is not None and (stored.score, stored.channel) == (4, "webchat")
