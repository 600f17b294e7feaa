"""Hostile mails through Dovecot and the running gateway: while one is taken in, the
gateway keeps answering `/healthz` (parsing runs in a worker process, the KB and the
signals read a bounded prefix, the reply stripper is linear), and a mail that takes
too long to parse is stopped and quarantined with the reason."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from tests.email_live.conftest import FAST, Gateway, GatewayFactory
from tests.email_live.servers import MailAdmin, free_port

#: Generous: the target is 100 ms; a stalled loop takes seconds to minutes.
HEALTHZ_LIMIT = 2.0
HEADERS = ("From: Ann <ann@customer.test>\r\nTo: support@velora.test\r\n"
           "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n")


def five_megabytes_of_text() -> bytes:
    line = "How long does delivery take for my new bike, and can I pick it up? " * 15
    body = (line + "\r\n") * (5 * 1024 * 1024 // (len(line) + 2) + 1)
    return (HEADERS + "Subject: Long\r\nMessage-ID: <long@customer.test>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


def adversarial_attribution_line() -> bytes:
    """100 KB that looks like the start of "On <date> … wrote:" but never ends like one
    (quadratic for `On\\s.*\\d.*\\swrote`)."""
    return (HEADERS + "Subject: Line\r\nMessage-ID: <line@customer.test>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\nOn " + "1 " * 50_000
            + "\r\n").encode()


def quote_marker_lines() -> bytes:
    """2 MB of lines made of ">" only (a regular expression with overlapping repeats over
    each quote line took seconds per thousand lines)."""
    return (HEADERS + "Subject: Quotes\r\nMessage-ID: <quotes@customer.test>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n"
            + (">" * 399 + "\r\n") * 5000).encode()


def deeply_nested_mime(depth: int = 1000) -> bytes:
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
                      for i in range(depth))
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    return (HEADERS + "Subject: Nested\r\nMessage-ID: <nested@customer.test>\r\n" + opening
            + "Content-Type: text/plain\r\n\r\nHello from the bottom\r\n" + closing).encode()


@pytest.fixture
async def healthz() -> AsyncIterator[Callable[[Gateway], Awaitable[str]]]:
    """Serve a started gateway over HTTP; return the /healthz URL."""
    sessions: list[aiohttp.ClientSession] = []

    async def serve(gw: Gateway) -> str:
        port = free_port()
        await web.TCPSite(gw.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}/healthz"

    yield serve
    for session in sessions:
        await session.close()


async def _watch_healthz(gw: Gateway, url: str, uid: int, timeout: float) -> tuple[int, float]:
    """Poll /healthz until the mail at `uid` is handled: (answers while in progress, slowest)."""
    answered, slowest = 0, 0.0
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while (gw.connector.health()["last_uid"] or 0) < uid:
            assert time.monotonic() < deadline, f"mail {uid} not handled in {timeout} s"
            started = time.monotonic()
            async with session.get(url) as response:
                assert response.status == 200
            slowest = max(slowest, time.monotonic() - started)
            if (gw.connector.health()["last_uid"] or 0) < uid:
                answered += 1  # answered while the mail was still being taken in
            await asyncio.sleep(0.02)
    return answered, slowest


@pytest.mark.parametrize(
    "make_mail", [five_megabytes_of_text, adversarial_attribution_line, quote_marker_lines,
                  deeply_nested_mime],
    ids=["5MB-text", "100KB-attribution-line", "quote-marker-lines", "deep-MIME"])
async def test_healthz_answers_while_a_hostile_mail_is_taken_in(
        make_mail: Callable[[], bytes], mailbox: str, gateway: GatewayFactory,
        healthz: Callable[[Gateway], Awaitable[str]]) -> None:
    gw = await gateway(mailbox)
    url = await healthz(gw)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail())
    answered, slowest = await _watch_healthz(gw, url, uid, timeout=180)
    assert answered >= 1, "processing finished before /healthz could be asked"
    assert slowest < HEALTHZ_LIMIT, f"/healthz took {slowest:.2f} s during processing"
    (message,) = await gw.inbound()  # taken in, not quarantined
    assert message["text"].strip()


async def test_a_mail_that_parses_too_long_is_stopped_and_quarantined_with_the_reason(
        mailbox: str, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, tuning=replace(FAST, parse_time_limit=0.5))
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, deeply_nested_mime(depth=3000))
        after = await admin.append(mailbox, HEADERS.encode() + b"Subject: Next\r\n"
                                   b"Message-ID: <next@customer.test>\r\n\r\nStill here?\r\n")
    await gw.processed(after, timeout=60)
    (entry,) = await gw.connector.quarantined()
    assert entry["uid"] == uid
    assert "ParseTimeout" in entry["error"] and "longer than 0.5 s" in entry["error"]
    (message,) = await gw.inbound()  # the next mail gets a fresh worker
    assert "Still here?" in message["text"]
