"""Offline follow-up in Chromium, with real Dovecot and a real SMTP server (issue 18): after a
hand-off the customer leaves an address (the gateway refuses one that is not an address),
closes the chat, the operator replies, the reply is mailed with a link; the link opened on
another device shows the conversation and the customer goes on in it. A reply the customer
sees in the open chat is not mailed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from browser_helpers import open_chat, operator_reply, say
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from gateway.keys import CONNECTORS, STORE
from tests.conftest import ALWAYS_OPEN
from tests.email_live.conftest import dovecot, mailbox, smtp  # noqa: F401 (fixtures)
from tests.email_live.servers import IMAP_PORT, SmtpCapture, free_port

PORT = free_port()
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], smtp: SmtpCapture,  # noqa: F811 (the imported fixtures)
             mailbox: str) -> Settings:  # noqa: F811
    return make_settings(
        calendar=ALWAYS_OPEN, server={"public_url": BASE},
        webchat={"follow_up": {"after_minutes": 0.05, "sweep_interval": 0.2}},
        email={"enabled": True, "address": "support@velora.test", "imap_host": "127.0.0.1",
               "imap_port": IMAP_PORT, "imap_security": "plain", "imap_user": "support",
               "imap_password": "support-pass", "mailbox": mailbox,
               "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "plain"})


@pytest.fixture
async def base_url(gateway_app: web.Application) -> AsyncIterator[str]:
    """On the port `public_url` names, so the mailed link leads back here."""
    runner = web.AppRunner(gateway_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", PORT).start()
    try:
        yield BASE
    finally:
        await runner.cleanup()


def _text(mail: object) -> str:
    body = mail.get_body(("plain",))  # type: ignore[attr-defined]
    return str(body.get_content())


@pytest.mark.browser
async def test_a_missed_reply_is_mailed_and_its_link_continues_the_chat(
        base_url: str, browser: Browser, gateway_app: web.Application,
        smtp: SmtpCapture) -> None:  # noqa: F811
    chat = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(chat, base_url)
    await say(chat, "I want to talk to a person")
    await expect(chat.locator('.hgw-bot[data-kind="handoff"]')).to_be_visible()

    form = chat.locator(".hgw-follow-up")
    await expect(form).to_contain_text("We can e-mail you the replies you miss.")
    address = form.get_by_role("textbox", name="Your e-mail address")
    consent = form.get_by_role("checkbox",
                               name="Use it only to send me replies to this conversation")
    await address.fill("ann@localhost")  # the browser's own check lets it through
    await consent.check()
    await form.get_by_role("button", name="E-mail me").click()
    await expect(form.get_by_role("alert")).to_have_text(
        "That does not look like an e-mail address.")
    await address.fill("Ann.Peeters@Customer.test")
    await form.get_by_role("button", name="E-mail me").click()
    await expect(form).to_contain_text(
        "Replies you miss will be e-mailed to a***@customer.test.")
    # A transcript on request, at that address; asked again with nothing new: not sent again.
    await form.get_by_role("button", name="E-mail me this conversation").click()
    await expect(form.get_by_role("status")).to_have_text("Sent to a***@customer.test.")
    (copy,) = await smtp.wait_for(1, timeout=30)
    assert copy["To"] == "ann.peeters@customer.test"
    assert copy["Subject"].startswith("Your conversation with Velora")
    assert "You" in _text(copy) and "I want to talk to a person" in _text(copy), _text(copy)
    await form.get_by_role("status").evaluate("node => node.textContent = ''")
    await form.get_by_role("button", name="E-mail me this conversation").click()
    await expect(form.get_by_role("status")).to_contain_text("Not sent: nothing new")

    await chat.get_by_role("button", name="Close chat").first.click()
    await operator_reply(gateway_app, "Your new battery ships on Monday.")
    mail = (await smtp.wait_for(2, timeout=30))[1]
    assert mail["To"] == "ann.peeters@customer.test"
    assert mail["Subject"].startswith("Your chat with Velora: a reply for you")
    text = _text(mail)
    assert "Your new battery ships on Monday." in text
    link = re.search(rf"{re.escape(BASE)}/\?hgw-continue=[\w.-]+", text)
    assert link, text

    # Another device: the link opens the same conversation, and the customer goes on in it.
    phone = await (await browser.new_context(locale="en-US",
                                             viewport={"width": 390, "height": 844})).new_page()
    await phone.goto(link.group(0))
    await phone.get_by_role("button", name="Open chat").click()
    await expect(phone.locator(".hgw-operator")).to_contain_text(
        "Your new battery ships on Monday.")
    await expect(phone.locator(".hgw-customer")).to_contain_text("I want to talk to a person")
    assert "hgw-continue" not in phone.url  # the token does not stay in the address bar
    await say(phone, "Great, thanks!")
    conversations = await gateway_app[STORE].db.fetchall(
        "SELECT id FROM conversations WHERE channel = 'webchat'")
    assert len(conversations) == 1
    texts = [m.text for m in await gateway_app[STORE].messages(conversations[0]["id"])]
    assert "Great, thanks!" in texts

    # Seen in the open chat: nothing is mailed.
    await operator_reply(gateway_app, "You're welcome, Ann.")
    await expect(phone.locator(".hgw-operator").last).to_contain_text("You're welcome, Ann.")
    follow_up = gateway_app[STORE].follow_up_of

    async def seen() -> bool:
        found = await follow_up(conversations[0]["id"])
        return found is not None and found.due_at is None and found.seen_upto > 0 \
            and found.seen_upto >= found.pending_upto

    async with asyncio.timeout(15):
        while not await seen():
            await asyncio.sleep(0.1)
    assert await gateway_app[CONNECTORS]["webchat"].follow_ups.run_once() == 0  # type: ignore[attr-defined]
    assert len(smtp.messages) == 2
