"""Who is behind the chat, as the customer sees it: when each message was written, the
operator's name and initials, "… is typing" while they write, and when the desk replies or
opens (from the business calendar)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from browser_helpers import log_in, newest_ticket, open_chat, operator_reply, say
from playwright.async_api import Browser, expect

from gateway.access.auth import hash_password
from gateway.config.settings import Settings
from gateway.keys import STORE
from tests.conftest import ADMIN_PASSWORD, ALWAYS_OPEN

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
def settings(make_settings: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    """Open around the clock, or (param "closed") closed all of today, Brussels time."""
    hours: dict[str, Any] = dict(ALWAYS_OPEN)
    if getattr(request, "param", "open") == "closed":
        hours["closed_days"] = [datetime.now(BRUSSELS).date().isoformat()]
    return make_settings(calendar=hours)


@pytest.mark.browser
async def test_messages_show_when_they_were_written_and_the_operator_by_name_and_initials(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    page = await (await browser.new_context(locale="en-GB", timezone_id="Europe/Brussels")
                  ).new_page()
    await open_chat(page, base_url)
    await say(page, "I want to talk to a person")
    await gateway_app[STORE].create_operator("sam", "Sam Peeters", hash_password("x" * 12),
                                             "agent", languages=["en"], queues=["general"])
    await operator_reply(gateway_app, "Hello, Sam here.", username="sam")
    reply = page.locator(".hgw-operator", has_text="Hello, Sam here.")
    await expect(reply.locator(".hgw-who")).to_have_text("SPSam Peeters")
    await expect(reply.locator(".hgw-avatar")).to_have_text("SP")
    # pushed live, it shows when it was written, as the store has it
    (written,) = [m.created_at for m in await gateway_app[STORE].messages(1)
                  if m.author == "operator"]
    live = datetime.fromisoformat(await reply.locator("time").get_attribute("datetime") or "")
    assert abs(live - written) < timedelta(milliseconds=1), (live, written)

    await page.reload()  # the replayed history shows when each message was stored
    await expect(reply).to_be_visible()
    stored = {m.id: m.created_at for m in await gateway_app[STORE].messages(1)}
    bubbles = page.locator(".hgw-log > li[data-message-id]")
    await expect(bubbles).to_have_count(len(stored))
    for bubble in await bubbles.all():
        created = stored[int(await bubble.get_attribute("data-message-id") or 0)]
        time = bubble.locator("time")
        shown = datetime.fromisoformat(await time.get_attribute("datetime") or "")
        assert abs(shown - created) < timedelta(milliseconds=1), (shown, created)
        await expect(time).to_have_text(created.astimezone(BRUSSELS).strftime("%H:%M"))


@pytest.mark.browser
async def test_the_customer_sees_the_operator_typing_until_the_reply_arrives(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    chat = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(chat, base_url)
    await say(chat, "I want to talk to a person")
    await expect(chat.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    console = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(console, base_url, ADMIN_PASSWORD)
    await console.goto(f"{base_url}/console/tickets/{await newest_ticket(gateway_app)}")
    await expect(console.locator("#live-status")).to_have_text("live")

    typing = chat.locator(".hgw-typing")
    await expect(typing).to_be_hidden()
    await console.get_by_label("Reply to the customer").press_sequentially("Hello, I am")
    await expect(typing).to_have_text("Admin is typing…")
    await console.get_by_label("Reply to the customer").press_sequentially(" here to help.")
    await console.get_by_role("button", name="Send reply").click()
    await expect(chat.locator(".hgw-operator")).to_contain_text("Hello, I am here to help.")
    await expect(typing).to_be_hidden()  # the reply replaces the signal


@pytest.mark.browser
async def test_the_customer_sees_seen_once_an_operator_has_their_message_on_screen(
        base_url: str, browser: Browser, gateway_app: web.Application) -> None:
    chat = await (await browser.new_context(locale="nl-BE")).new_page()
    await chat.goto(base_url + "/")
    await chat.get_by_role("button", name="Chat openen").click()
    await chat.get_by_role("textbox", name="Stel uw vraag…").fill("Ik wil met iemand praten")
    await chat.get_by_role("button", name="Verstuur", exact=True).click()
    await expect(chat.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()
    first = chat.locator(".hgw-customer").first
    await expect(chat.locator(".hgw-read")).to_have_count(0)  # nobody has looked yet

    console = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(console, base_url, ADMIN_PASSWORD)
    await console.goto(f"{base_url}/console/tickets/{await newest_ticket(gateway_app)}")
    await expect(first.locator(".hgw-read")).to_have_text("Gezien")

    # A new message: the open ticket page refreshes itself, and the mark moves with it.
    await chat.get_by_role("textbox", name="Stel uw vraag…").fill("Mijn fiets is stuk")
    await chat.get_by_role("button", name="Verstuur", exact=True).click()
    second = chat.locator(".hgw-customer", has_text="Mijn fiets is stuk")
    await expect(second.locator(".hgw-read")).to_have_text("Gezien")
    await expect(chat.locator(".hgw-read")).to_have_count(1)


@pytest.mark.browser
@pytest.mark.parametrize("settings", ["open"], indirect=True)
async def test_the_header_says_within_how_long_people_reply_while_open(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    # the first-response target of the default priority (P3: 4 business hours)
    await expect(page.locator(".hgw-hours")).to_have_text("We reply within 4 hours.")
    french = await (await browser.new_context(locale="fr-BE")).new_page()
    await french.goto(base_url + "/")
    await french.get_by_role("button", name="Ouvrir le chat").click()
    await expect(french.locator(".hgw-hours")).to_have_text(
        "Nous répondons dans un délai de 4 heures.")


@pytest.mark.browser
@pytest.mark.parametrize("settings", ["closed"], indirect=True)
async def test_the_header_says_when_the_desk_opens_while_closed(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    tomorrow = datetime.now(BRUSSELS).date() + timedelta(days=1)
    when = f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B} at 00:00"
    await expect(page.locator(".hgw-hours")).to_have_text(f"We are closed; we open on {when}.")
