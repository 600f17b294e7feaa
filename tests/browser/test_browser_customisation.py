"""The widget in the desk's own colours, side, title and greeting (`[webchat]`, `[texts]`), at
desktop and phone sizes. With HGW_SCREENSHOTS=1 it also refreshes docs/webchat-*.png."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_helpers import say
from playwright.async_api import Browser, Page, expect
from pydantic import ValidationError

from gateway.config.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
PLUM = "rgb(122, 31, 92)"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        webchat={"accent_color": "#7a1f5c", "accent_text_color": "#fff", "position": "left",
                 "title": {"en": "Velora help", "fr": "Aide Velora"}},
        texts={"greeting": {"en": "Hi! Ask Velora anything about your e-bike.",
                            "fr": "Bonjour ! Posez votre question sur votre vélo."}})


async def _open(page: Page, base_url: str, launcher: str, title: str) -> None:
    await page.goto(base_url + "/")
    await page.get_by_role("button", name=launcher).click()
    await expect(page.get_by_role("dialog", name=title)).to_be_visible()
    await expect(page.locator(".hgw-status")).to_have_text(
        "online" if launcher == "Open chat" else "en ligne")


async def _background(page: Page, selector: str) -> str:
    return str(await page.locator(selector).first.evaluate(
        "n => getComputedStyle(n).backgroundColor"))


@pytest.mark.browser
async def test_colours_side_title_and_greeting_come_from_the_config(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(
        locale="en-US", viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(base_url + "/")
    launcher = page.get_by_role("button", name="Open chat")
    await expect(launcher).to_have_css("background-color", PLUM)
    box = await launcher.bounding_box()
    assert box is not None and box["x"] < 100, box  # bottom left
    await _open(page, base_url, "Open chat", "Velora help")
    await expect(page.locator(".hgw-chat h2")).to_have_text("Velora help")
    await expect(page.locator(".hgw-greeting")).to_have_text(
        "Hi! Ask Velora anything about your e-bike.")
    await say(page, "How long does delivery take?")
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    assert await _background(page, ".hgw-chat header") == PLUM
    assert await _background(page, ".hgw-customer") == PLUM
    await expect(page.locator(".hgw-customer").first).to_have_css("color", "rgb(255, 255, 255)")
    chat = await page.get_by_role("dialog", name="Velora help").bounding_box()
    assert chat is not None and chat["x"] < 100, chat
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "webchat-desktop.png"))

    french = await (await browser.new_context(locale="fr-BE")).new_page()
    await _open(french, base_url, "Ouvrir le chat", "Aide Velora")
    await expect(french.locator(".hgw-greeting")).to_have_text(
        "Bonjour ! Posez votre question sur votre vélo.")


@pytest.mark.browser
async def test_on_a_phone_the_customised_chat_still_fills_the_screen(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(
        locale="en-US", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        device_scale_factor=2)).new_page()
    await _open(page, base_url, "Open chat", "Velora help")
    box = await page.get_by_role("dialog", name="Velora help").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    await say(page, "How long does delivery take?")
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_be_visible()
    if os.environ.get("HGW_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "webchat-phone.png"))


def test_a_colour_is_a_colour_and_nothing_else(make_settings: Callable[..., Settings]) -> None:
    for bad in ("red", "#12345", "#0f4c5c; } body { display: none", "url(x)"):
        with pytest.raises(ValidationError, match="accent_color"):
            make_settings(webchat={"accent_color": bad})
    with pytest.raises(ValidationError, match="the languages are"):
        make_settings(webchat={"title": {"es": "Ayuda"}})
