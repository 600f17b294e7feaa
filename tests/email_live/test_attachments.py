"""Attachments of customer mail: stored through real Dovecot, listed on the ticket page and
downloaded from the console only by operators who may see the ticket, always as a download."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from gateway.access.auth import hash_password
from gateway.errors import StoreUnavailable
from gateway.models import Ticket
from tests.email_live.conftest import Gateway, GatewayFactory
from tests.email_live.servers import MailAdmin, make_mail

ADMIN_PASSWORD = "admin-password-1"  # tests/conftest.py `make_settings`
AGENT_PASSWORD = "agent-password-1"
LIMIT = 2000
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
BIG = bytes(range(256)) * 20  # 5120 bytes: above LIMIT
PDF_NAME = "facture été 2026.pdf"
BIG_NAME = "scan.tiff"


def mail_with_files(*, sender: str = "Ann Peeters <ann@customer.test>",
                    message_id: str | None = None, pdf: bytes = PDF) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@velora.test"
    msg["Subject"] = "Invoice wrong"
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@customer.test>"
    msg["Date"] = "Sun, 29 Nov 2026 10:00:00 +0100"
    msg.set_content("My invoice is wrong, I want to talk to a human please.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=PDF_NAME)
    msg.add_attachment(BIG, maintype="image", subtype="tiff", filename=BIG_NAME)
    return msg.as_bytes()


async def _ticket_with_files(gw: Gateway, count: int = 2) -> tuple[Ticket, list[dict[str, Any]]]:
    async def stored() -> bool:
        rows = await gw.store.db.fetchone("SELECT COUNT(*) AS n FROM attachments")
        return rows is not None and int(rows["n"]) >= count

    await gw.wait(stored, what="attachments stored")
    (message,) = await gw.inbound()
    ticket = await gw.store.open_ticket_of(message["conversation_id"])
    assert ticket is not None
    rows = await gw.store.db.fetchall(
        "SELECT id, message_id, filename, content_type, size, too_large, data"
        " FROM attachments ORDER BY id")
    assert all(r["message_id"] == message["id"] for r in rows)
    return ticket, rows


async def test_files_are_stored_listed_and_downloaded_only_by_who_sees_the_ticket(
        database_url: str, mailbox: str, gateway: GatewayFactory, browser: Any) -> None:
    gw = await gateway(mailbox, database_url=database_url, max_attachment_bytes=LIMIT)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, mail_with_files())
    await gw.processed(uid)
    ticket, rows = await _ticket_with_files(gw)

    # Stored: the small file with its exact bytes, the large one as a row without bytes.
    pdf, big = rows
    assert (pdf["filename"], pdf["content_type"], pdf["size"], pdf["too_large"]) == \
        (PDF_NAME, "application/pdf", len(PDF), 0)
    assert bytes(pdf["data"]) == PDF
    assert (big["filename"], big["size"], big["too_large"], big["data"]) == \
        (BIG_NAME, len(BIG), 1, None)
    # The mail itself was taken in, and the too-large file is on record for the operator.
    events = await gw.store.events(conversation_id=ticket.conversation_id)
    assert any(e.type == "email.attachment_too_large" and e.data["files"] == [BIG_NAME]
               for e in events)

    # The ticket page lists both under the customer's message.
    console = await browser(gw)
    await console.login("admin", ADMIN_PASSWORD)
    status, _, page = await console.get(f"/console/tickets/{ticket.id}")
    html = page.decode()
    assert status == 200
    assert f'href="/console/attachments/{pdf["id"]}"' in html
    assert "facture été 2026.pdf" in html
    assert f"{BIG_NAME} (5.0 KB): <em class=\"too-large\">too large, not stored</em>" in html
    assert f"/console/attachments/{big['id']}" not in html

    # The download: exact bytes, never the sender's type, never inline.
    status, headers, body = await console.get(f"/console/attachments/{pdf['id']}")
    assert status == 200
    assert body == PDF
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"facture _t_ 2026.pdf\"; "
        "filename*=UTF-8''facture%20%C3%A9t%C3%A9%202026.pdf")
    # The too-large one has nothing to download; an unknown id is a plain 404.
    assert (await console.get(f"/console/attachments/{big['id']}"))[0] == 404
    assert (await console.get("/console/attachments/999999"))[0] == 404

    # An agent of another queue: no ticket page, no bytes, not even a hint the file exists.
    await gw.store.create_operator("sam", "Sam Sales", hash_password(AGENT_PASSWORD),
                                   role="agent", queues=["sales"])
    await console.login("sam", AGENT_PASSWORD)
    assert ticket.queue != "sales"
    assert (await console.get(f"/console/tickets/{ticket.id}"))[0] == 403
    status, headers, body = await console.get(f"/console/attachments/{pdf['id']}")
    assert status == 404
    assert PDF not in body and b"%PDF" not in body
    assert "Content-Disposition" not in headers
    # An agent of the ticket's queue may download it.
    await gw.store.create_operator("gina", "Gina", hash_password(AGENT_PASSWORD),
                                   role="agent", queues=[ticket.queue])
    await console.login("gina", AGENT_PASSWORD)
    status, _, body = await console.get(f"/console/attachments/{pdf['id']}")
    assert (status, body) == (200, PDF)

    # Logged out: the login page, no bytes.
    console.session.cookie_jar.clear()
    status, headers, body = await console.get(f"/console/attachments/{pdf['id']}")
    assert status == 303 and headers["Location"].startswith("/console/login")
    assert b"%PDF" not in body


async def test_files_survive_a_store_failure_after_the_message_was_committed(
        mailbox: str, gateway: GatewayFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline committed the message, saving the files failed: the mail is fetched
    again, deduplicated, and its files are stored then, once."""
    import connectors.email.intake as intake_module

    real = intake_module.save_attachments
    calls = 0

    async def flaky(*args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StoreUnavailable("database went away")
        return await real(*args)

    monkeypatch.setattr(intake_module, "save_attachments", flaky)
    gw = await gateway(mailbox, max_attachment_bytes=LIMIT)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, mail_with_files())
    await gw.processed(uid)
    _, rows = await _ticket_with_files(gw)
    assert calls == 2
    assert [(r["filename"], r["too_large"]) for r in rows] == [(PDF_NAME, 0), (BIG_NAME, 1)]
    assert bytes(rows[0]["data"]) == PDF
    assert len(await gw.inbound()) == 1


async def test_a_stranger_reusing_the_message_id_adds_no_files(
        mailbox: str, gateway: GatewayFactory) -> None:
    """A duplicate may only bring the files of the very mail first taken in (the crash case
    above), never those of another mail carrying the same Message-ID."""
    gw = await gateway(mailbox, max_attachment_bytes=LIMIT)
    original = make_mail(sender="Ann Peeters <ann@customer.test>", subject="Invoice wrong",
                         body="My invoice is wrong.", message_id="<same@customer.test>")
    assert await gw.connector.ingest(original) != "duplicate"
    forged = mail_with_files(sender="mallory@evil.test", message_id="<same@customer.test>",
                             pdf=b"%PDF-1.4 evil")
    assert await gw.connector.ingest(forged) == "duplicate"
    assert await gw.connector.ingest(forged) == "duplicate"
    count = await gw.store.db.fetchone("SELECT COUNT(*) AS n FROM attachments")
    assert count is not None and int(count["n"]) == 0
