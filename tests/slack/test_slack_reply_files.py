"""An operator's files to a Slack customer: posted through the console's reply form (HTTP
multipart, as a browser sends it), uploaded by Slack's external upload flow and shared in
the customer's thread under the reply, byte for byte; a lost answer from Slack and an
operator's re-drive share nothing twice."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from gateway.config.settings import Settings
from gateway.models import Ticket
from tests.console.console_helpers import csrf_of
from tests.slack.conftest import CUSTOMER_DM, OPS, SIGNING_SECRET, SlackDriver, eventually
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_slack_operators import hand_off

ADMIN_PASSWORD = "admin-password-1"  # tests/conftest.py `make_settings`
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n" + bytes(range(256)) * 8
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                       "hKmMIQAAAABJRU5ErkJggg==")
TEXT = "Here is your corrected invoice."


@pytest.fixture
def slack_settings(make_settings: Callable[..., Settings], fake_slack: FakeSlack,
                   database_url: str) -> Settings:
    """As in conftest, on SQLite and PostgreSQL (the outbox records the upload's steps)."""
    return make_settings(
        database={"url": database_url},
        slack={"enabled": True, "api_url": fake_slack.url, "signing_secret": SIGNING_SECRET,
               "bot_token": "xoxb-test", "operators_channel": OPS},
        server={"public_url": "https://help.velora.be"},
    )


async def _console(slack: SlackDriver) -> str:
    """Log in as the admin through the form; the session's CSRF token."""
    form = await slack.client.get("/console/login")
    response = await slack.client.post("/console/login", data={
        "csrf": csrf_of(await form.text()), "username": "admin", "password": ADMIN_PASSWORD})
    assert response.status == 200 and response.url.path == "/console"
    return csrf_of(await response.text())


async def _reply_with_pdf(slack: SlackDriver, ticket: Ticket, csrf: str,
                          text: str = TEXT, png: bool = False) -> None:
    form = aiohttp.FormData(quote_fields=False)  # csrf first, then text, then files
    form.add_field("csrf", csrf)
    form.add_field("text", text)
    form.add_field("files", PDF, filename="invoice 2026.pdf", content_type="application/pdf")
    if png:
        form.add_field("files", PNG, filename="label.png", content_type="image/png")
    response = await slack.client.post(f"/console/tickets/{ticket.id}/reply", data=form)
    html = await response.text()
    assert response.status == 200 and "Reply sent to the customer." in html, html


async def _ticket(slack: SlackDriver) -> tuple[str, Ticket, str]:
    """(the customer's thread, their ticket, a console session's CSRF token) with the
    composer offering a file input on the Slack ticket."""
    thread, _ = await hand_off(slack)
    await slack.fake.wait_for("chat.postMessage", 2, channel=CUSTOMER_DM)  # the hand-off
    (ticket,) = await slack.store.tickets(("new",))
    csrf = await _console(slack)
    page = await (await slack.client.get(f"/console/tickets/{ticket.id}")).text()
    assert 'enctype="multipart/form-data"' in page and 'name="files" multiple' in page
    return thread, ticket, csrf


async def _sent_with_files(slack: SlackDriver) -> list[Any]:
    return [e for e in await slack.store.outbox_entries("sent") if e.payload.get("files")]


def _posted(fake: FakeSlack) -> list[dict[str, Any]]:
    return fake.messages(channel=CUSTOMER_DM, text=TEXT)


async def test_the_files_are_shared_in_the_customers_thread_under_the_reply(
        slack: SlackDriver) -> None:
    thread, ticket, csrf = await _ticket(slack)
    await _reply_with_pdf(slack, ticket, csrf, png=True)

    (completed,) = await slack.fake.wait_for("files.completeUploadExternal")
    (reply,) = _posted(slack.fake)
    assert reply["thread_ts"] == thread and "Here is your corrected" in json.dumps(
        reply["blocks"])
    assert completed["channel_id"] == CUSTOMER_DM and completed["thread_ts"] == thread
    calls = slack.fake.calls
    posted_at = next(i for i, c in enumerate(calls) if c.method == "chat.postMessage"
                     and c.result["ts"] == reply["ts"])
    shared_at = next(i for i, c in enumerate(calls) if c.method == "files.completeUploadExternal")
    assert posted_at < shared_at  # the text first, the files under it
    asked = slack.fake.called("files.getUploadURLExternal")
    assert [(a["filename"], a["length"]) for a in asked] == [
        ("invoice 2026.pdf", str(len(PDF))), ("label.png", str(len(PNG)))]
    shared = slack.fake.shared_files(CUSTOMER_DM, thread)
    assert [(f["title"], f["data"]) for f in shared] == [("invoice 2026.pdf", PDF),
                                                        ("label.png", PNG)]
    # The outbox entry remembers the post and the shared files.
    (entry,) = await eventually(lambda: _sent_with_files(slack))
    assert [f["id"] for f in entry.result["files"]] == [f["id"] for f in shared]
    assert entry.result["ts"] == reply["ts"] and "completing" not in entry.result


async def test_a_lost_answer_then_a_resend_share_the_file_once(slack: SlackDriver) -> None:
    thread, ticket, csrf = await _ticket(slack)
    # Slack shares the file but its answer never comes back: the reply is uncertain, and
    # the ticket offers to send it again.
    slack.fake.lost_answers["files.completeUploadExternal"] = 1
    await _reply_with_pdf(slack, ticket, csrf)
    (entry,) = await eventually(lambda: slack.store.outbox_entries("uncertain"))
    assert entry.result["completing"][0]["title"] == "invoice 2026.pdf"
    page = await (await slack.client.get(f"/console/tickets/{ticket.id}")).text()
    assert f"/outbox/{entry.id}/resend" in page

    response = await slack.client.post(
        f"/console/tickets/{ticket.id}/outbox/{entry.id}/resend", data={"csrf": csrf})
    assert response.status == 200, await response.text()
    (sent,) = await eventually(lambda: _sent_with_files(slack))
    # The resend found the file in the thread: no second post, upload or share.
    assert sent.id == entry.id and sent.attempts == 2
    assert len(slack.fake.called("files.info")) == 1
    assert len(_posted(slack.fake)) == 1
    assert len(slack.fake.called("files.getUploadURLExternal")) == 1
    (shared,) = slack.fake.shared_files(CUSTOMER_DM, thread)
    assert shared["data"] == PDF and sent.result["files"][0]["id"] == shared["id"]


async def test_a_failed_upload_is_retried_without_posting_the_text_again(
        slack: SlackDriver) -> None:
    thread, ticket, csrf = await _ticket(slack)
    slack.fake.rate_limit("files.getUploadURLExternal", 0)  # 429: retried by the outbox
    await _reply_with_pdf(slack, ticket, csrf)
    (sent,) = await eventually(lambda: _sent_with_files(slack))
    assert sent.attempts == 2 and len(_posted(slack.fake)) == 1
    (shared,) = slack.fake.shared_files(CUSTOMER_DM, thread)
    assert shared["data"] == PDF


async def test_files_alone_are_shared_without_an_empty_message(slack: SlackDriver) -> None:
    thread, ticket, csrf = await _ticket(slack)
    await _reply_with_pdf(slack, ticket, csrf, text="")
    (sent,) = await eventually(lambda: _sent_with_files(slack))
    (shared,) = slack.fake.shared_files(CUSTOMER_DM, thread)
    assert shared["data"] == PDF and sent.result["files"][0]["id"] == shared["id"]
    assert len(slack.fake.called("chat.postMessage", channel=CUSTOMER_DM)) == 2  # no more
