"""The console in French and in Dutch, in Chromium: a Walloon operator (her language stored)
and a Flemish one (his browser's) each log in and work a ticket; labels, flash messages,
plurals, the scripts' texts and the Brussels local time are theirs."""

from __future__ import annotations

import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date
from browser_helpers import OPERATOR_PASSWORD, api_message, create_operator
from playwright.async_api import Browser, Page, expect

from gateway.keys import STORE
from gateway.models import Ticket

BRUSSELS = ZoneInfo("Europe/Brussels")
DOCS = Path(__file__).resolve().parents[2] / "docs"


def brussels(ticket: Ticket, locale: str) -> str:
    """How the console writes the ticket's opening in Brussels time, in `locale`."""
    local = ticket.created_at.astimezone(BRUSSELS)
    return f"{format_date(local, 'medium', locale=locale)} {local:%H:%M %Z}"


async def _log_in(page: Page, base_url: str, username: str, labels: tuple[str, str, str],
                  heading: str) -> None:
    user, password, button = labels
    await page.goto(base_url + "/console")
    await page.get_by_label(user).fill(username)
    await page.get_by_label(password).fill(OPERATOR_PASSWORD)
    await page.get_by_role("button", name=button).click()
    await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


async def test_a_french_operator_works_a_ticket_in_french(
    browser: Browser, base_url: str, gateway_app: web.Application
) -> None:
    store = gateway_app[STORE]
    await create_operator(gateway_app, "amelie", "agent", ["general"])
    amelie = await store.operator_by_username("amelie")
    assert amelie is not None
    await store.set_operator_locale(amelie.id, "fr")  # chosen before: her browser is English
    first = (await api_message(base_url, "I want to talk to a human", customer_id="c1"))
    await api_message(base_url, "A person please", customer_id="c2", name="Bob")
    ticket = await store.get_ticket(first["ticket_id"])
    assert ticket is not None

    context = await browser.new_context(locale="en-GB")
    page = await context.new_page()
    await _log_in(page, base_url, "amelie", ("Username", "Password", "Log in"),
                  "Tickets ouverts")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.locator("#live-status")).to_have_text("en direct")
    await expect(page.locator("#ticket-list p.count")).to_contain_text("2 tickets ouverts")
    row = page.locator(f'tr[data-ticket-id="{ticket.id}"]')
    await expect(row.locator(".badge.status-new")).to_have_text("nouveau")
    opened = row.locator("time").last
    await expect(opened).to_have_text(re.compile(r"^il y a \d+\s+min$"))  # a no-break space
    assert brussels(ticket, "fr_BE") in (await opened.get_attribute("title") or "")
    # the scripts count in French: "1 ticket sélectionné", "2 tickets sélectionnés"
    await row.get_by_role("checkbox").check()
    await expect(page.locator("#bulk-count")).to_have_text("1 ticket sélectionné")
    await page.get_by_role("checkbox", name="Sélectionner tous les tickets de cette page").check()
    await expect(page.locator("#bulk-count")).to_have_text("2 tickets sélectionnés")

    await row.get_by_role("link").first.click()
    await page.get_by_role("button", name="Prendre", exact=True).click()
    await expect(page.get_by_role("status").filter(
        has_text="Ce ticket vous est maintenant attribué.")).to_be_visible()
    await expect(page.locator("#ticket-meta")).to_contain_text("Attribué à")
    opened_at = page.locator("#ticket-meta time")
    await expect(opened_at).to_have_text(brussels(ticket, "fr_BE"))
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "console-fr.png"), full_page=True)
    await page.get_by_label(re.compile("^Réponse au client via api")).fill(
        "Bonjour, je m'en occupe.")
    await page.get_by_role("button", name="Envoyer la réponse").click()
    await expect(page.get_by_role("status").filter(
        has_text="Réponse envoyée au client.")).to_be_visible()
    await page.locator("#close-panel summary").click()  # the wrap-up panel folds away
    await page.get_by_label("Résultat").select_option(label="répondu")
    await page.get_by_role("button", name="Clôturer le ticket").click()
    await expect(page.get_by_role("status").filter(has_text="Ticket clôturé.")).to_be_visible()
    trail = page.locator("#audit")
    await expect(trail).to_contain_text("Pris en charge")
    await expect(trail).to_contain_text("Clôturé")
    await expect(trail).to_contain_text("résultat : répondu")
    await context.close()


async def test_a_dutch_operator_follows_his_browser_then_keeps_dutch(
    browser: Browser, base_url: str, gateway_app: web.Application
) -> None:
    store = gateway_app[STORE]
    await create_operator(gateway_app, "joris", "agent", ["general"])
    sent = await api_message(base_url, "I want to talk to a human")
    ticket = await store.get_ticket(sent["ticket_id"])
    assert ticket is not None

    context = await browser.new_context(locale="nl-BE")  # Accept-Language: nl-BE
    page = await context.new_page()
    await page.goto(base_url + "/console")
    await expect(page.get_by_role("heading", name="Aanmelden")).to_be_visible()
    await _log_in(page, base_url, "joris", ("Gebruikersnaam", "Wachtwoord", "Aanmelden"),
                  "Open tickets")
    await expect(page.locator("html")).to_have_attribute("lang", "nl")
    await expect(page.get_by_role("link", name="Nieuw ticket")).to_be_visible()
    await expect(page.locator("#ticket-list p.count")).to_contain_text("1 open ticket")
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "console-nl.png"), full_page=True)

    await page.get_by_role("link", name="I want to talk to a human").click()
    await page.get_by_role("button", name="Nemen", exact=True).click()
    await expect(page.get_by_role("status").filter(
        has_text="Dit ticket is nu van jou.")).to_be_visible()
    await expect(page.locator("#ticket-meta time")).to_have_text(brussels(ticket, "nl_BE"))
    await page.get_by_role("button", name="In afwachting (van de klant)").click()
    await expect(page.get_by_role("status").filter(
        has_text="In afwachting gezet: we wachten op de klant. De SLA is gepauzeerd.")
    ).to_be_visible()
    await expect(page.locator("#ticket-meta .badge.status-pending")).to_have_text(
        "in afwachting")
    await expect(page.locator("#audit")).to_contain_text("In afwachting gezet (van de klant)")

    # He chooses Dutch for good: it stays when the browser asks for English.
    await page.locator("#console-language").select_option(label="Nederlands")
    await page.locator("form.language").get_by_role("button", name="Instellen").click()
    await expect(page.locator("html")).to_have_attribute("lang", "nl")
    joris = await store.operator_by_username("joris")
    assert joris is not None and joris.locale == "nl"
    english = await browser.new_context(locale="en-US", storage_state=await context.storage_state())
    again = await english.new_page()
    await again.goto(base_url + "/console")
    await expect(again.get_by_role("button", name="Afmelden")).to_be_visible()
    await english.close()
    await context.close()
