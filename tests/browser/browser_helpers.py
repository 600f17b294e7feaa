"""Steps the browser tests share: a customer typing in the chat, an operator logging in."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from aiohttp import web
from playwright.async_api import Page, expect

from gateway.access.auth import hash_password
from gateway.keys import STORE, TICKETS
from tests.conftest import API_KEY

OPERATOR_PASSWORD = "operator-password-1"


async def open_chat(page: Page, base_url: str) -> None:
    """The demo page, the chat opened from its launcher, connected."""
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_role("dialog", name="Support")).to_be_visible()
    await expect(page.locator(".hgw-status")).to_have_text("online")


async def say(page: Page, text: str) -> None:
    """Type into the widget and send; wait until the gateway acknowledged (stored) it."""
    await page.get_by_role("textbox", name="Type your question…").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()
    sent = page.locator(".hgw-customer", has_text=text).last
    await expect(sent).to_have_attribute("data-message-id", re.compile(r"^\d+$"))


async def log_in(page: Page, base_url: str, password: str, username: str = "admin") -> None:
    await page.goto(base_url + "/console")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Open tickets")).to_be_visible()
    await expect(page.locator("#live-status")).to_have_text("live")


async def api_message(base_url: str, text: str, *, customer_id: str = "c1", name: str = "Ann",
                      conversation_id: int | None = None) -> dict[str, Any]:
    """A customer writes through the REST API channel (the quickest way to make a ticket)."""
    async with aiohttp.ClientSession() as http, http.post(
        base_url + "/api/v1/messages", headers={"Authorization": f"Bearer {API_KEY}"},
        json={"customer": {"id": customer_id, "name": name}, "text": text,
              "conversation_id": conversation_id},
    ) as response:
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def create_operator(app: web.Application, username: str, role: str,
                          queues: list[str]) -> None:
    """An operator with password `OPERATOR_PASSWORD`, in the running app's store."""
    await app[STORE].create_operator(username, username.title(), hash_password(OPERATOR_PASSWORD),
                                     role, languages=["en", "fr", "nl", "de"], queues=queues)


async def newest_ticket(app: web.Application) -> int:
    tickets = await app[STORE].tickets(("new", "open", "pending"), None)
    return max(t.id for t in tickets)


async def operator_reply(app: web.Application, text: str, username: str = "admin") -> None:
    """The operator answers the newest open ticket, as the console's Send reply does."""
    operator = await app[STORE].operator_by_username(username)
    assert operator is not None
    await app[TICKETS].reply(operator, await newest_ticket(app), text)
