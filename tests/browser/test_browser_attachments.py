"""A customer sends the photo the answer asked for: it is checked by content and size, stored
like an e-mail's attachments, and the operator downloads it from the ticket's transcript."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from browser_helpers import log_in, newest_ticket, open_chat, say
from playwright.async_api import Browser, Page, expect

from gateway.config.settings import Settings
from tests.conftest import ADMIN_PASSWORD

#: A real 1×1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                       "hKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(webchat={"max_attachment_bytes": 2048})


async def _attach(page: Page, name: str, mime: str, data: bytes) -> None:
    await page.locator(".hgw-chat input[type=file]").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data})


@pytest.mark.browser
async def test_a_photo_sent_in_the_chat_is_downloaded_by_the_operator(
        base_url: str, browser: Browser, gateway_app: web.Application, tmp_path: Path) -> None:
    chat = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(chat, base_url)
    await say(chat, "I want to talk to a person")
    await expect(chat.get_by_role("button", name="Attach a photo or PDF")).to_be_visible()
    await _attach(chat, "damage.png", "image/png", PNG)
    sent = chat.locator(".hgw-customer", has=chat.locator(".hgw-file", has_text="damage.png"))
    await expect(sent).to_have_attribute("data-message-id", re.compile(r"^\d+$"))
    await chat.reload()  # the history names it too
    await expect(chat.locator(".hgw-customer .hgw-file")).to_have_text(["damage.png"])

    console = await (await browser.new_context(locale="en-US", accept_downloads=True)).new_page()
    await log_in(console, base_url, ADMIN_PASSWORD)
    await console.goto(f"{base_url}/console/tickets/{await newest_ticket(gateway_app)}")
    link = console.get_by_role("list", name="Attachments").get_by_role("link", name="damage.png")
    async with console.expect_download() as download:
        await link.click()
    saved = tmp_path / "download.png"
    await (await download.value).save_as(saved)
    assert saved.read_bytes() == PNG


@pytest.mark.browser
async def test_files_of_another_type_or_too_large_are_refused_with_the_reason(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await open_chat(page, base_url)
    # named and announced as a photo, but its content is a web page
    await _attach(page, "photo.jpg", "image/jpeg", b"<html><script>alert(1)</script></html>")
    refused = page.locator(".hgw-failed .hgw-error")
    await expect(refused).to_have_text(
        "only photos (JPEG, PNG, GIF, WebP) and PDF files can be sent")
    await _attach(page, "invoice.pdf", "application/pdf", b"%PDF-1.7\n" + b"0" * 3000)
    await expect(refused.last).to_have_text("the file is larger than 2 KB")
    await expect(page.locator(".hgw-customer[data-message-id]")).to_have_count(0)
