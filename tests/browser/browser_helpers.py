"""Steps the browser tests share: a customer typing in the chat, an operator logging in."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect


async def open_chat(page: Page, base_url: str) -> None:
    await page.goto(base_url + "/")
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
