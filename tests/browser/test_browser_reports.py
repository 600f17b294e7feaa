"""Reports in Chromium, with data made through the channels: customers in the web chat and
on the REST API, an operator replying in the console. A supervisor reads the dashboards
(SVG charts named for assistive technology, tables beside them, a CSV download, the queue
filter); an admin turns the gap report's cluster into a draft article, and the bot answers
the next customer with it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import (
    OPERATOR_PASSWORD,
    api_message,
    create_operator,
    log_in,
    open_chat,
    operator_reply,
    say,
)
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from gateway.keys import KB
from tests.conftest import ADMIN_PASSWORD, ALWAYS_OPEN, DEMO_KB

DOCS = Path(__file__).resolve().parents[2] / "docs"
GIFT_REPLY = "Yes: gift cards of 25 to 500 euro, in every shop and online."


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    """Open around the clock, over a copy of the demo KB the admin may write to."""
    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    return make_settings(calendar=ALWAYS_OPEN,
                         knowledge_base={"path": str(kb), "reload_interval": 60})


async def _chat(browser: Browser, base_url: str, text: str, kind: str) -> None:
    """A web-chat customer asks `text` and gets the bot's reply of `kind`."""
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await open_chat(page, base_url)
    await say(page, text)
    await expect(page.locator(f'.hgw-bot[data-kind="{kind}"]')).to_be_visible(timeout=30_000)
    await context.close()


@pytest.mark.browser
async def test_a_supervisor_reads_the_dashboards_and_downloads_a_table(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    await _chat(browser, base_url, "What are your opening hours?", "answer")
    await api_message(base_url, "I want to talk to a human about my invoice")
    await operator_reply(gateway_app, "Here is your invoice.")
    await create_operator(gateway_app, "sue", "supervisor", ["general"])
    await create_operator(gateway_app, "gina", "agent", ["general"])

    context = await browser.new_context(locale="en-US", accept_downloads=True,
                                        viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await log_in(page, base_url, OPERATOR_PASSWORD, "sue")
    await page.get_by_role("link", name="Reports").click()
    await page.get_by_role("link", name="Dashboards").click()
    await expect(page.get_by_role("heading", name="Dashboards", exact=True)).to_be_visible()
    await expect(page.get_by_role("img", name="Tickets opened per day")).to_be_visible()
    channel = page.locator("#volume-by-channel")
    await expect(channel.get_by_role("img", name="Tickets by channel")).to_contain_text("api")
    await expect(channel.get_by_role("table")).to_contain_text("api")
    contained = page.locator("#containment")
    await expect(contained.get_by_role("img", name="Share of answers contained")
                 ).to_contain_text("opening-hours-shops (en)")
    await expect(contained.get_by_role("row", name="opening-hours-shops en 1 1 100")
                 ).to_be_visible()
    await expect(page.locator("#operators").get_by_role("table")).to_contain_text("admin")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "reports-dashboards.png"), full_page=False)

    async with page.expect_download() as download_info:
        await contained.get_by_role("link", name="Download bot containment").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("containment-")
    saved = await download.path()
    text = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8-sig")
    assert "opening-hours-shops,en,1,1,100.0" in text

    filters = page.get_by_role("form", name="Period and queue")
    await filters.get_by_label("Queue").select_option("sales")
    await filters.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"[?&]queue=sales"))
    await expect(page.locator("#volume-by-channel").get_by_role("table")).to_contain_text(
        "No data in this period.")
    await context.close()

    agent = await browser.new_context(locale="en-US")
    page = await agent.new_page()
    await log_in(page, base_url, OPERATOR_PASSWORD, "gina")
    await expect(page.get_by_role("link", name="Reports")).to_have_count(0)
    response = await page.goto(base_url + "/console/dashboards")
    assert response is not None and response.status == 403
    await agent.close()


@pytest.mark.browser
async def test_an_admin_turns_a_gap_cluster_into_an_article_the_bot_then_answers_with(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    await _chat(browser, base_url, "Do you sell gift cards?", "handoff")
    await operator_reply(gateway_app, GIFT_REPLY)
    await api_message(base_url, "can I buy a gift voucher for my dad", customer_id="c2")

    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await log_in(page, base_url, ADMIN_PASSWORD)
    await page.get_by_role("link", name="Reports").click()
    await page.get_by_role("link", name="What the bot could not answer").click()
    cluster = page.locator(".gap-cluster", has_text="Do you sell gift cards?")
    await expect(cluster.get_by_role("heading", level=2)).to_contain_text("2 questions")
    await expect(cluster.locator(".gap-questions")).to_contain_text(
        "can I buy a gift voucher for my dad")
    await expect(cluster.locator(".gap-reply")).to_have_text(GIFT_REPLY)
    await cluster.get_by_text("Create a draft article").click()
    await expect(cluster.get_by_label("Answer (draft")).to_have_value(GIFT_REPLY)
    await cluster.get_by_label("Article id").fill("gift-cards")
    await cluster.get_by_label("Category").select_option("sales")
    await cluster.get_by_label("Title (en)").fill("Gift cards")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "reports-gaps.png"), full_page=False)
    await cluster.get_by_role("button", name="Write draft article").click()
    await expect(page.locator("main").get_by_role("status")).to_contain_text(
        "drafts/gift-cards.yaml")
    assert "gift-cards" in gateway_app[KB].snapshot.articles
    await context.close()

    customer = await browser.new_context(locale="en-US")
    chat = await customer.new_page()
    await open_chat(chat, base_url)
    await say(chat, "Do you sell gift cards?")
    await expect(chat.locator('.hgw-bot[data-kind="answer"]')).to_contain_text(
        "25 to 500 euro", timeout=30_000)
    await customer.close()
