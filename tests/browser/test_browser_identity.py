"""A shop that knows its logged-in customer signs their id for the chat (HMAC-SHA256 with a
secret shared with the gateway): accepted, the customer is identified and verified without
typing their number; tampered, the page is told and nothing is trusted."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlencode

import pytest
from aiohttp import web
from browser_helpers import say
from playwright.async_api import Browser, Page, expect

from gateway.config.settings import Settings
from gateway.keys import STORE
from tests.conftest import ROOT

SECRET = "test-identity-secret-of-at-least-32-chars"


@pytest.fixture
async def shop() -> AsyncIterator[str]:
    """The shop's own site on another origin: its account page embeds the widget with the
    signed id given in the query (what the shop's server would render)."""

    async def account(request: web.Request) -> web.Response:
        gateway, customer_id, signature = (request.query[k] for k in ("gateway", "id", "hash"))
        return web.Response(content_type="text/html", text=(
            f'<!doctype html><html><head><meta charset="utf-8"><title>My account</title>'
            f'</head><body><script src="{gateway}/chat/static/widget.js" data-customer-id='
            f'"{customer_id}" data-customer-hash="{signature}" data-customer-name="Ann Peeters"'
            f' defer></script></body></html>'))

    app = web.Application()
    app.router.add_get("/account", account)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], shop: str) -> Settings:
    return make_settings(webchat={"identity_secret": SECRET}, server={"chat_origins": [shop]},
                         customers={"directory": str(ROOT / "config" / "customers.csv")})


def _signed(customer_id: str, secret: str = SECRET) -> str:
    """What the shop's server computes (as Intercom and Chatwoot document it)."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


async def _account(page: Page, shop: str, base_url: str, customer_id: str,
                   signature: str) -> None:
    await page.goto(f"{shop}/account?" + urlencode(
        {"gateway": base_url, "id": customer_id, "hash": signature}))
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.locator(".hgw-status")).to_have_text("online")


@pytest.mark.browser
async def test_a_signed_customer_is_verified_without_typing_their_number(
        base_url: str, browser: Browser, gateway_app: web.Application, shop: str) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await _account(page, shop, base_url, "C-1042", _signed("C-1042"))
    await say(page, "Where is my order?")
    # verified: the order-status article asks for the order number straight away
    await expect(page.locator('.hgw-bot[data-kind="slot"]')).to_be_visible()
    await expect(page.locator('.hgw-bot[data-kind="verify"]')).to_have_count(0)
    store = gateway_app[STORE]
    conversation = await store.get_conversation(1)
    assert conversation is not None and conversation.verified_number == "C-1042"
    customer = await store.get_customer(conversation.customer_id)
    assert customer is not None and customer.name == "Ann Peeters"
    events = [e for e in await store.events(conversation_id=1)
              if e.type == "verification.succeeded"]
    assert [e.data for e in events] == [{"number": "C-1042", "by": "signed identity"}]

    # Another device of the same customer: a conversation of its own, the same customer.
    phone = await (await browser.new_context(locale="en-US")).new_page()
    await _account(phone, shop, base_url, "C-1042", _signed("C-1042"))
    await say(phone, "Where is my order?")
    await expect(phone.locator('.hgw-bot[data-kind="slot"]')).to_be_visible()
    assert len(await store.conversations_of(customer.id)) == 2


@pytest.mark.browser
async def test_a_tampered_identity_is_refused_and_trusted_for_nothing(
        base_url: str, browser: Browser, gateway_app: web.Application, shop: str) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    # someone else's number with Ann's signature, then a signature under another secret
    async with page.expect_console_message(lambda m: "identity refused" in m.text) as said:
        await _account(page, shop, base_url, "B-0007", _signed("C-1042"))
    assert (await said.value).text == \
        "helpdesk-gateway chat: identity refused: the signature does not match this customer id"
    await say(page, "Where is my order?")
    await expect(page.locator('.hgw-bot[data-kind="verify"]')).to_be_visible()  # asks, as usual
    conversation = await gateway_app[STORE].get_conversation(1)
    assert conversation is not None and conversation.verified_number is None

    other = await (await browser.new_context(locale="en-US")).new_page()
    forged = _signed("C-1042", "a-different-secret-of-32-chars!!")
    await _account(other, shop, base_url, "C-1042", forged)
    await say(other, "Where is my order?")
    await expect(other.locator('.hgw-bot[data-kind="verify"]')).to_be_visible()
