"""The chat widget as a customer sees it: links that open, nothing shown twice, no stale
buttons, tidy bubbles, a new conversation on request."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from aiohttp import web
from browser_helpers import open_chat, say
from playwright.async_api import Browser, WebSocketRoute, expect

from gateway.keys import STORE


@pytest.mark.browser
async def test_bare_urls_in_answers_are_links_that_open_in_a_new_tab(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    link = page.locator('.hgw-bot[data-kind="answer"] a[href="https://velora.be/delivery"]')
    await expect(link).to_have_text("https://velora.be/delivery")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")


@pytest.mark.browser
async def test_did_this_help_goes_away_once_a_person_takes_over(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    await expect(page.get_by_role("button", name="Yes, thanks")).to_be_visible()
    await say(page, "I want to talk to a person")
    await expect(page.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Yes, thanks")).to_have_count(0)
    await page.reload()  # the replayed history does not bring it back either
    await expect(page.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Yes, thanks")).to_have_count(0)


@pytest.mark.browser
async def test_the_site_has_a_favicon(base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    response = await page.goto(base_url + "/favicon.ico")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.browser
async def test_answer_bubbles_have_no_blank_line_after_the_text(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    body = page.locator('.hgw-bot[data-kind="answer"] .hgw-body')
    await expect(body).to_contain_text("3 to 5 working days")
    # the space below the last paragraph inside the text block: none with the text itself
    below = await body.evaluate(
        "b => b.getBoundingClientRect().bottom - b.lastElementChild.getBoundingClientRect().bottom")
    assert below < 2, below


@pytest.mark.browser
async def test_a_message_whose_ack_was_lost_in_a_drop_is_shown_once(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    drop = {"armed": False, "muted": False}
    closing: list[asyncio.Future[None]] = []

    async def relay(route: WebSocketRoute) -> None:
        server = route.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if drop["armed"] and json.loads(message).get("type") == "message":
                drop["armed"], drop["muted"] = False, True  # nothing more reaches the tab...
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if drop["muted"]:
                if json.loads(message).get("type") == "ack":  # ...until it is stored: cut
                    drop["muted"] = False
                    closing.append(asyncio.ensure_future(route.close()))
                return
            route.send(message)

        route.on_message(from_page)
        server.on_message(from_server)

    await page.route_web_socket("**/chat/ws", relay)
    await open_chat(page, base_url)
    drop["armed"] = True
    await page.get_by_role("textbox", name="Type your question…").fill("Where is my order?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator(".hgw-bot").last).to_have_attribute("data-kind", re.compile("."))
    mine = page.locator(".hgw-customer", has_text="Where is my order?")
    await expect(mine).to_have_attribute("data-message-id", re.compile(r"^\d+$"))
    await expect(page.locator(".hgw-pending")).to_have_count(0)
    assert closing and not drop["armed"]
    await expect(mine).to_have_count(1)


@pytest.mark.browser
async def test_an_unacknowledged_message_kept_across_a_reload_is_shown_once_in_its_place(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    # The ack was lost just before the reload: the message is stored and still pending here.
    await page.evaluate("""() => {
        const mine = document.querySelector(".hgw-customer");
        const key = Object.keys(localStorage).find(k => k.startsWith("hgw-chat:"));
        const state = JSON.parse(localStorage.getItem(key));
        state.pending = [{client_id: mine.dataset.clientId,
                          text: mine.querySelector(".hgw-body").textContent}];
        localStorage.setItem(key, JSON.stringify(state));
    }""")
    await page.reload()
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    await expect(page.locator(".hgw-pending")).to_have_count(0)
    mine = page.locator(".hgw-customer", has_text="How long does delivery take?")
    await expect(mine).to_have_count(1)
    # in its place: before the answer to it, not above the history
    order = await page.locator(".hgw-log > li:not(.hgw-greeting)").evaluate_all(
        "nodes => nodes.map(n => n.classList.contains('hgw-customer') ? 'me' : n.dataset.kind)")
    assert order == ["me", "answer"], order


@pytest.mark.browser
async def test_new_conversation_starts_afresh_and_the_old_one_stays_with_the_desk(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    await page.get_by_role("button", name="New conversation").click()
    await expect(page.locator(".hgw-status")).to_have_text("online")
    await expect(page.locator(".hgw-log > li")).to_have_count(1)  # the greeting alone
    await expect(page.locator(".hgw-greeting")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Type your question…")).to_be_focused()
    await say(page, "Can I book a test ride?")
    await page.reload()
    await expect(page.locator(".hgw-customer .hgw-body")).to_have_text(
        ["Can I book a test ride?"])
    first = await gateway_app[STORE].get_conversation(1)
    second = await gateway_app[STORE].get_conversation(2)
    assert first is not None and second is not None and first.address != second.address
    old = [m.text for m in await gateway_app[STORE].messages(1)]
    assert old[0] == "How long does delivery take?" and len(old) == 2  # kept, untouched


@pytest.mark.browser
async def test_a_reply_pushed_before_the_ack_still_follows_the_question(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    held: list[str | bytes] = []
    answered = [False]

    async def relay(route: WebSocketRoute) -> None:
        server = route.connect_to_server()

        def from_server(message: str | bytes) -> None:
            kind = json.loads(message).get("type")
            if kind == "ack" and not answered[0]:  # late: after the answer it acknowledges
                held.append(message)
                return
            route.send(message)
            if kind == "message":
                answered[0] = True
                for late in held:
                    route.send(late)
                held.clear()

        route.on_message(server.send)
        server.on_message(from_server)

    await page.route_web_socket("**/chat/ws", relay)
    await open_chat(page, base_url)
    await say(page, "How long does delivery take?")
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    order = await page.locator(".hgw-log > li:not(.hgw-greeting)").evaluate_all(
        "nodes => nodes.map(n => n.classList.contains('hgw-customer') ? 'me' : n.dataset.kind)")
    assert order == ["me", "answer"], order
