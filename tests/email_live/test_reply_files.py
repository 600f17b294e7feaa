"""Files an operator sends with a reply, through the console's form over HTTP: stored with
the reply, mailed as MIME attachments through the real aiosmtpd server, and refused (too
large, not the type it claims, no CSRF token) with the reason on the page, the draft kept
and nothing stored or sent."""

from __future__ import annotations

import base64
import io
from typing import Any

import aiohttp

from gateway.models import Ticket
from tests.email_live.conftest import Gateway, GatewayFactory
from tests.email_live.console_browser import Browser
from tests.email_live.servers import SmtpCapture, make_mail

ADMIN_PASSWORD = "admin-password-1"  # tests/conftest.py `make_settings`
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n" + bytes(range(256)) * 8
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                       "hKmMIQAAAABJRU5ErkJggg==")


async def _ticket(gw: Gateway, smtp: SmtpCapture) -> Ticket:
    """A customer's mail handed to people; the bot's acknowledgement already mailed."""
    mail = make_mail(sender="Ann Peeters <ann@customer.test>", subject="Invoice wrong",
                     body="My invoice is wrong, I want to talk to a human please.")
    assert await gw.connector.ingest(mail) != "duplicate"
    (message,) = await gw.inbound()
    ticket = await gw.store.open_ticket_of(message["conversation_id"])
    assert ticket is not None
    await smtp.wait_for(await gw.replies())
    return ticket


def _form(csrf: str | None, text: str, files: list[tuple[str, bytes, str]]) -> aiohttp.FormData:
    """The composer's form as the browser sends it: csrf first, then the text, then files."""
    form = aiohttp.FormData(quote_fields=False)  # names as browsers send them
    if csrf is not None:
        form.add_field("csrf", csrf)
    form.add_field("text", text)
    for name, data, claimed in files:
        form.add_field("files", data, filename=name, content_type=claimed)
    return form


async def _send(console: Browser, ticket: Ticket, form: aiohttp.FormData) -> tuple[int, str]:
    async with console.session.post(f"{console.base}/console/tickets/{ticket.id}/reply",
                                    data=form) as response:
        return response.status, await response.text()


async def _stored(gw: Gateway) -> tuple[int, int]:
    """(attachment rows, outbox entries)."""
    files = await gw.store.db.fetchone("SELECT COUNT(*) AS n FROM attachments")
    assert files is not None
    return int(files["n"]), await gw.replies()


async def test_a_reply_with_files_is_mailed_with_them_as_attachments(
        database_url: str, mailbox: str, gateway: GatewayFactory, browser: Any,
        smtp: SmtpCapture) -> None:
    gw = await gateway(mailbox, database_url=database_url, wait_connected=False)
    ticket = await _ticket(gw, smtp)
    sent_before = len(smtp.messages)
    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    page = (await console.get(f"/console/tickets/{ticket.id}"))[2].decode()
    assert 'enctype="multipart/form-data"' in page and 'name="files" multiple' in page

    status, html = await _send(console, ticket, _form(console.csrf, "Here is your corrected "
                               "invoice and a photo of the label.", [
                                   ("invoice 2026.pdf", PDF, "application/pdf"),
                                   ("label.png", PNG, "application/octet-stream")]))
    assert status == 200 and "Reply sent to the customer." in html, html

    (mail,) = (await smtp.wait_for(sent_before + 1))[sent_before:]
    assert mail.get_content_type() == "multipart/mixed"
    assert mail["To"] == "ann@customer.test"
    body = mail.get_body(("plain",))
    assert body is not None and "corrected invoice" in body.get_content()
    files = [(part.get_filename(), part.get_content_type(), part.get_content())
             for part in mail.iter_attachments()]
    assert files == [("invoice 2026.pdf", "application/pdf", PDF),
                     ("label.png", "image/png", PNG)]  # the type told by content

    # The ticket page lists the operator's files under the reply, downloadable.
    rows = await gw.store.db.fetchall("SELECT id, filename FROM attachments ORDER BY id")
    assert [r["filename"] for r in rows] == ["invoice 2026.pdf", "label.png"]
    page = (await console.get(f"/console/tickets/{ticket.id}"))[2].decode()
    assert f'href="/console/attachments/{rows[0]["id"]}"' in page
    status, _, data = await console.get(f"/console/attachments/{rows[0]['id']}")
    assert (status, data) == (200, PDF)


async def test_a_refused_file_sends_nothing_and_keeps_the_draft(
        database_url: str, mailbox: str, gateway: GatewayFactory, browser: Any,
        smtp: SmtpCapture) -> None:
    gw = await gateway(mailbox, database_url=database_url, wait_connected=False,
                       settings={"console": {"attachment_max_bytes": 4096,
                                             "attachment_total_bytes": 6000}})
    ticket = await _ticket(gw, smtp)
    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    before = await _stored(gw)
    draft = "Please find the scan attached."

    big = b"%PDF-1.4\n" + b"0" * 5000
    status, html = await _send(console, ticket, _form(console.csrf, draft,
                                                      [("scan.pdf", big, "application/pdf")]))
    assert status == 413
    assert "Nothing was sent. scan.pdf is larger than 4 KB" in html
    assert f">{draft}</textarea>" in html

    together = [("a.pdf", b"%PDF-1.4\n" + b"1" * 3500, "application/pdf"),
                ("b.pdf", b"%PDF-1.4\n" + b"2" * 3500, "application/pdf")]
    status, html = await _send(console, ticket, _form(console.csrf, draft, together))
    assert status == 413 and "The files together are larger than 5 KB" in html

    fake = b"<html><script>alert(1)</script></html>"
    status, html = await _send(console, ticket, _form(console.csrf, draft,
                                                      [("invoice.pdf", fake, "application/pdf")]))
    assert status == 415
    assert "invoice.pdf cannot be sent: only these types can (JPEG, PNG, GIF, WebP, PDF)" in html
    assert f">{draft}</textarea>" in html

    status, html = await _send(console, ticket, _form(None, draft,
                                                      [("ok.pdf", PDF[:3000], "application/pdf")]))
    assert status == 403 and "This form has expired" in html
    status, html = await _send(console, ticket, _form("forged-token", draft,
                                                      [("ok.pdf", PDF[:3000], "application/pdf")]))
    assert status == 403

    assert await _stored(gw) == before  # no file, no reply, no outbox entry
    messages = await gw.store.messages(ticket.conversation_id)
    assert [m.author for m in messages] == ["customer"] or \
        all(m.author != "operator" for m in messages)


async def test_the_plain_reply_form_still_works(
        mailbox: str, gateway: GatewayFactory, browser: Any, smtp: SmtpCapture) -> None:
    """A reply without files from a page loaded before (urlencoded form), as before."""
    gw = await gateway(mailbox, wait_connected=False)
    ticket = await _ticket(gw, smtp)
    sent_before = len(smtp.messages)
    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    status, html = await console.post(f"/console/tickets/{ticket.id}/reply",
                                      {"text": "Just text."})
    assert status == 200 and "Reply sent to the customer." in html
    (mail,) = (await smtp.wait_for(sent_before + 1))[sent_before:]
    assert list(mail.iter_attachments()) == []


async def test_a_text_field_is_not_read_past_its_limit(
        mailbox: str, gateway: GatewayFactory, browser: Any, smtp: SmtpCapture) -> None:
    """2 MB of "text" with the files form: refused once 17 KB are read, the start kept."""
    gw = await gateway(mailbox, wait_connected=False)
    ticket = await _ticket(gw, smtp)
    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    before = await _stored(gw)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("csrf", console.csrf)
    form.add_field("text", io.BytesIO(b"Dear Ann, " + b"x" * 2**21), filename="",
                   content_type="text/plain")
    form.add_field("files", PNG, filename="a.png", content_type="image/png")
    status, html = await _send(console, ticket, form)
    assert status == 400 and "Nothing was sent. The text is limited to 4000 characters." in html
    assert ">Dear Ann, xxx" in html
    assert await _stored(gw) == before
