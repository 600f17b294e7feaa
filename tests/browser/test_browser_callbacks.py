"""Call-backs in a real browser: customers ask to be called back in the four languages,
the console's Call-backs view lists them with their windows, due once their window has
come (the console's clock moved on), and an operator logs that the customer was reached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from browser_helpers import log_in
from playwright.async_api import Browser, expect

from gateway.config.settings import Settings
from gateway.console import callbacks as console_callbacks
from gateway.models import utcnow
from tests.conftest import ADMIN_PASSWORD, ALWAYS_OPEN, API_KEY

ASKED = {"en": "call me tomorrow after 5", "nl": "bel me morgen na 17u",
         "fr": "rappelez-moi lundi matin", "de": "ruf mich morgen früh an"}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(calendar=ALWAYS_OPEN)


async def _ask(base_url: str, language: str, text: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(
            base_url + "/api/v1/messages", headers={"Authorization": f"Bearer {API_KEY}"},
            json={"customer": {"id": f"c-{language}", "name": "Ann"}, "text": text,
                  "language": language}) as response:
        assert response.status == 201, await response.text()
        return dict(await response.json())


@pytest.mark.browser
async def test_call_backs_asked_in_four_languages_show_due_in_the_console(
        base_url: str, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    tickets = {language: (await _ask(base_url, language, text))["ticket_id"]
               for language, text in ASKED.items()}
    page = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(page, base_url, ADMIN_PASSWORD)
    await page.get_by_role("link", name="Call-backs").click()
    await expect(page.get_by_role("heading", name="Call-backs")).to_be_visible()
    rows = page.locator("tr[data-callback]")
    await expect(rows).to_have_count(4)
    for language, ticket_id in tickets.items():
        await expect(page.locator(f'tr[data-ticket="{ticket_id}"]')).to_contain_text(
            ASKED[language])

    later = utcnow() + timedelta(days=8)  # every window has begun
    monkeypatch.setattr(console_callbacks, "utcnow", lambda: later)
    await page.reload()
    await expect(page.locator("tr[data-callback].due")).to_have_count(4)

    row = page.locator(f'tr[data-ticket="{tickets["fr"]}"]')
    await row.get_by_label("Outcome").select_option("reached")
    await row.get_by_role("button", name="Log").click()
    await expect(page.locator("main").get_by_role("status")).to_have_text("Attempt logged.")
    await expect(rows).to_have_count(3)
