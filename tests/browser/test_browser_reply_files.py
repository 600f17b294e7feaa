"""An operator sends a PDF and a photo from the console's composer; the web-chat customer
sees them under the reply and downloads them, byte for byte; another chat session cannot
fetch them."""

from __future__ import annotations

import base64
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from browser_helpers import log_in, newest_ticket, open_chat, say
from playwright.async_api import Browser, expect

from gateway.keys import STORE
from tests.conftest import ADMIN_PASSWORD

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                       "hKmMIQAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n" + bytes(range(256)) * 40


@pytest.mark.browser
async def test_files_an_operator_sends_are_downloaded_by_the_chat_customer(
        base_url: str, browser: Browser, gateway_app: web.Application, tmp_path: Path) -> None:
    chat = await (await browser.new_context(locale="en-US", accept_downloads=True)).new_page()
    await open_chat(chat, base_url)
    await say(chat, "I want to talk to a person")

    console = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(console, base_url, ADMIN_PASSWORD)
    ticket_id = await newest_ticket(gateway_app)
    await console.goto(f"{base_url}/console/tickets/{ticket_id}")
    await console.get_by_label("Reply to the customer").fill("Here is the manual and a photo.")
    await console.get_by_label("Attach files").set_input_files([
        {"name": "manual.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "where.png", "mimeType": "image/png", "buffer": PNG}])
    await expect(console.locator("#reply-file-list li")).to_have_text(
        ["manual.pdf (10.1 KB)", "where.png (70 B)"])
    await console.get_by_role("button", name="Send reply").click()
    await expect(console.get_by_text("Reply sent to the customer.")).to_be_visible()
    # the operator sees the files under their own reply
    files = console.locator(".msg-operator .attachments a")
    await expect(files).to_have_text(["manual.pdf", "where.png"])

    reply = chat.locator(".hgw-operator", has_text="Here is the manual and a photo.")
    buttons = reply.locator(".hgw-files button")
    await expect(buttons).to_have_text(["manual.pdf (10 KB)", "where.png (1 KB)"])
    for index, expected in ((0, PDF), (1, PNG)):
        async with chat.expect_download() as download:
            await buttons.nth(index).click()
        saved = tmp_path / f"file-{index}"
        await (await download.value).save_as(saved)
        assert saved.read_bytes() == expected
    assert (await download.value).suggested_filename == "where.png"

    await chat.reload()  # the history lists them too
    await expect(chat.locator(".hgw-operator .hgw-files button")).to_have_count(2)

    # another chat session (or none) gets a 404, not the bytes
    row = await gateway_app[STORE].db.fetchone("SELECT id FROM attachments ORDER BY id LIMIT 1")
    assert row is not None
    stranger = await (await browser.new_context()).new_page()
    await open_chat(stranger, base_url)
    other = await stranger.evaluate(
        "JSON.parse(localStorage.getItem('hgw-chat:' + location.host)).session")
    assert other
    async with aiohttp.ClientSession() as http:
        for session in (other, "", "made-up"):
            async with http.post(f"{base_url}/chat/files/{row['id']}",
                                 data={"session": session}) as response:
                assert response.status == 404
                assert b"%PDF" not in await response.read()
