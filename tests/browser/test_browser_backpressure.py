"""The widget under back-pressure (issue 21): a message the gateway is too busy to take is
kept, shown as "busy, retrying…" and sent again once after the busy frame's retry_after;
one stored but waiting for its answer says so until the answer comes."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from browser_helpers import open_chat
from playwright.async_api import Browser, WebSocketRoute, expect


@pytest.mark.browser
async def test_busy_messages_are_resent_once_after_retry_after_and_answered(
        base_url: str, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    sent: Counter[str] = Counter()
    queue_acks = {"on": False}

    async def relay(route: WebSocketRoute) -> None:
        server = route.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "message" and not queue_acks["on"]:
                sent[frame["client_id"]] += 1
                if sent[frame["client_id"]] == 1:  # the gateway is full: not taken
                    route.send(json.dumps({"type": "error", "error": "busy, retrying shortly",
                                           "client_id": frame["client_id"], "retry": True,
                                           "busy": True, "retry_after": 1.5}))
                    return
            server.send(message)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if queue_acks["on"] and frame.get("type") == "ack":
                message = json.dumps({**frame, "queued": True})
            route.send(message)

        route.on_message(from_page)
        server.on_message(from_server)

    await page.route_web_socket("**/chat/ws", relay)
    await open_chat(page, base_url)
    box = page.get_by_role("textbox", name="Type your question…")
    for text in ("How long does delivery take?", "Is delivery free?"):
        await box.fill(text)
        await page.get_by_role("button", name="Send", exact=True).click()
    status = page.locator(".hgw-status")
    await expect(status).to_have_text("busy, retrying…")
    await expect(page.locator(".hgw-pending")).to_have_count(2)  # kept, not dropped
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_have_count(2)
    await expect(page.locator(".hgw-pending")).to_have_count(0)
    await expect(status).to_have_text("online")
    # Two busy frames, one resend of each: not one resend of everything per busy frame.
    await page.wait_for_timeout(2000)
    assert sorted(sent.values()) == [2, 2], sent

    # Stored, its answer queued behind others': the header says so until the answer.
    queue_acks["on"] = True
    await page.evaluate("""() => {
        const status = document.querySelector(".hgw-status");
        window.__statuses = [];
        new MutationObserver(() => window.__statuses.push(status.textContent))
            .observe(status, {childList: true, characterData: true, subtree: true});
    }""")
    await box.fill("Do you have a warranty?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator('.hgw-bot[data-kind="answer"]')).to_have_count(3)
    await expect(status).to_have_text("online")
    assert await page.evaluate("window.__statuses") == ["received, answer on its way…",
                                                        "online"]
