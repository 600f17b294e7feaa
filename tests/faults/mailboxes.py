"""The outside world's side of the mailbox: customers' mail arriving, and a UIDVALIDITY reset.

Mail goes straight into Dovecot with IMAP APPEND (never through the fault proxy: the
mail server keeps receiving while the gateway's connection to it fails). Every mail comes
from its own customer (so the per-correspondent auto-reply cap never applies) and asks a
question the knowledge base answers with one reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aioimaplib

from tests.email_live.servers import MailAdmin, make_mail

QUESTIONS = (
    "How long does delivery take?",
    "Can I get a copy of my invoice?",
    "What are the opening hours of your shops?",
    "How long does the delivery of my bike take?",
)


def message_id(run: str, n: int) -> str:
    return f"<fault.{run}.{n}@customer.test>"


def customer_mail(run: str, n: int) -> bytes:
    return make_mail(sender=f"Customer {n} <c{n}.{run}@customer.test>",
                     subject=f"Question {n}", body=QUESTIONS[n % len(QUESTIONS)],
                     message_id=message_id(run, n))


def warm_up_mail(run: str, n: int) -> bytes:
    """A machine mail (no reply) that makes a fresh gateway load its language models."""
    return make_mail(sender=f"Monitor <monitor.{run}@customer.test>", subject="warm-up",
                     body="This is an automatic check of the support mailbox.",
                     message_id=f"<warmup.{run}.{n}@customer.test>",
                     headers={"Auto-Submitted": "auto-generated"})


#: Seconds one harness IMAP command may take: deleting or refilling a mailbox of thousands
#: of mails on the loaded 2-core machine takes far longer than the tests' 10 s (a DELETE
#: that timed out there left the mailbox deleted and never created again: the next APPEND
#: said TRYCREATE and aborted a 10,000-mail run).
SLOW_COMMAND = 120.0
#: Tries of one harness step (a fresh connection each) before the run gives up on it.
ATTEMPTS = 5
#: How the server says an APPEND's mailbox is missing (RFC 3501 §6.3.11).
_TRYCREATE = "TRYCREATE"


class Mailbox:
    """One run's fresh mailbox on the private Dovecot. `lock` keeps a reset and a delivery
    from interleaving (a mail APPENDed into a mailbox being deleted would vanish).

    The harness's own hiccups (a cut admin connection, a mailbox found missing) are
    retried, not fatal, and each one is written to `incidents` (in the run's report): a
    10,000-mail run must measure the gateway, not die on the harness."""

    def __init__(self, user: str, name: str) -> None:
        self.user = user
        self.name = name
        self.lock = asyncio.Lock()
        self.resets = 0
        self.incidents: list[str] = []
        #: (time.time() of the last reset's DELETE, of its last mail back in)
        self.reset_window: tuple[float, float] | None = None

    async def create(self) -> None:
        async with MailAdmin(self.user) as admin:
            await admin.create(self.name)

    async def delete(self) -> None:
        async with MailAdmin(self.user) as admin:
            await admin.delete(self.name)

    async def deliver(self, run: str, count: int, rate: float,
                      record: Callable[[str, float], None], start: int = 0) -> None:
        """APPEND `count` mails at about `rate` per second; `record(Message-ID, time)`."""
        sender = Appender(self)
        try:
            began = time.monotonic()
            for i in range(count):
                n = start + i
                async with self.lock:
                    await sender.append(customer_mail(run, n))
                record(message_id(run, n), time.time())
                delay = began + (i + 1) / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            await sender.close()

    async def append(self, raw: bytes, locked: bool = False) -> None:
        """Deliver one mail; `locked`: the caller already holds `lock`."""
        async with contextlib.AsyncExitStack() as stack:
            if not locked:
                await stack.enter_async_context(self.lock)
            sender = Appender(self)
            stack.push_async_callback(sender.close)
            await sender.append(raw)

    async def ensure_exists(self) -> None:
        """CREATE the mailbox unless it is there, on a fresh connection each try."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with MailAdmin(self.user, timeout=SLOW_COMMAND) as admin:
                    response = await admin.imap.create(f'"{self.name}"')
            except (aioimaplib.AioImapException, OSError, TimeoutError) as exc:
                self.incidents.append(f"CREATE try {attempt}: {type(exc).__name__}: {exc}")
                await asyncio.sleep(attempt)
                continue
            text = _text(response)
            if response.result == "OK":
                return
            if "ALREADYEXISTS" in text or "already exists" in text.lower():
                return
            self.incidents.append(f"CREATE try {attempt}: {response.result} {text}")
            await asyncio.sleep(attempt)
        raise RuntimeError(f"mailbox {self.name!r} could not be created: {self.incidents[-1]}")

    async def reset_uidvalidity(self) -> tuple[int, int]:
        """Delete the mailbox and create it again with the same mails and flags in it, as a
        server migration or restore does; return (UIDVALIDITY before, after)."""
        async with self.lock:
            async with MailAdmin(self.user, timeout=SLOW_COMMAND) as reader:
                # logged out before the delete
                before = await self._uidvalidity(reader)
                mails = await self._contents(reader)
            return before, await self._recreate(mails)

    async def _recreate(self, mails: list[tuple[bytes, str, str]]) -> int:
        """DELETE, then CREATE whatever happened to the DELETE (an error still propagates,
        into the run's `errors`), then APPEND the mails back, each retried, with their
        flags and dates, as a restore (dsync, imapsync) does."""
        began = time.time()
        try:
            async with MailAdmin(self.user, timeout=SLOW_COMMAND) as admin:
                response = await admin.imap.delete(f'"{self.name}"')
                assert response.result == "OK", f"DELETE: {response.result} {_text(response)}"
                await asyncio.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
        finally:
            await self.ensure_exists()
        sender = Appender(self)
        try:
            for raw, flags, date in mails:
                await sender.append(raw, flags, date)
        finally:
            await sender.close()
            self.reset_window = (began, time.time())
        self.resets += 1
        async with MailAdmin(self.user, timeout=SLOW_COMMAND) as admin:
            return await self._uidvalidity(admin)

    async def _uidvalidity(self, admin: MailAdmin) -> int:
        response = await admin.imap.status(f'"{self.name}"', "(UIDVALIDITY)")
        assert response.result == "OK", response
        text = b" ".join(line for line in response.lines if isinstance(line, bytes)).decode()
        return int(text.split("UIDVALIDITY", 1)[1].strip(" ()").split()[0].rstrip(")"))

    async def _contents(self, admin: MailAdmin) -> list[tuple[bytes, str, str]]:
        """(raw bytes, flags, INTERNALDATE) of every mail, in UID order, 200 UIDs per FETCH
        (aioimaplib parses one answer recursively and fails on about a thousand mails)."""
        response = await admin.imap.status(f'"{self.name}"', "(UIDNEXT)")
        text = b" ".join(line for line in response.lines if isinstance(line, bytes)).decode()
        uidnext = int(text.split("UIDNEXT", 1)[1].strip(" ()").split()[0].rstrip(")"))
        response = await admin.imap.select(f'"{self.name}"')
        assert response.result == "OK", response
        exists = int(_text(response).split(" EXISTS", 1)[0].rsplit(None, 1)[-1])
        mails: list[tuple[bytes, str, str]] = []
        for low in range(1, uidnext, 200):
            response = await admin.imap.uid("fetch", f"{low}:{low + 199}",
                                            "(FLAGS INTERNALDATE BODY.PEEK[])")
            assert response.result == "OK", f"FETCH: {response.result} {_text(response)}"
            lines = response.lines
            for index, line in enumerate(lines[:-1]):
                if isinstance(line, bytes) and b"FETCH (" in line and b"FLAGS (" in line \
                        and isinstance(lines[index + 1], bytearray):
                    flags = line.decode().split("FLAGS (", 1)[1].split(")", 1)[0]
                    wanted = " ".join(f for f in flags.split() if f != "\\Recent")
                    date = line.decode().split('INTERNALDATE "', 1)[1].split('"', 1)[0]
                    mails.append((bytes(lines[index + 1]), f"({wanted})" if wanted else "",
                                  f'"{date}"'))
        await admin.imap.close()
        # A mail missing here would be missing from the recreated mailbox: "lost" by us.
        assert len(mails) == exists, f"read {len(mails)} of {exists} mails before a reset"
        return mails


class Appender:
    """APPENDs over one admin connection, opened again after a failure. A missing mailbox
    (TRYCREATE) is created and the mail APPENDed again; a connection that failed mid-APPEND
    is replaced and the mail APPENDed again, so the server may hold it twice (as after an
    MTA's retry: the gateway must take it in once, on its Message-ID)."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.admin: MailAdmin | None = None

    async def append(self, raw: bytes, flags: str = "", date: str = "") -> None:
        box = self.mailbox
        for attempt in range(1, ATTEMPTS + 1):
            try:
                if self.admin is None:
                    self.admin = await MailAdmin(box.user, timeout=SLOW_COMMAND).__aenter__()
                response = await self.admin.imap.append(raw, mailbox=f'"{box.name}"',
                                                        flags=flags or None, date=date or None)
            except (aioimaplib.AioImapException, OSError, TimeoutError) as exc:
                box.incidents.append(f"APPEND try {attempt}: {type(exc).__name__}: {exc}")
                await self.close()
                await asyncio.sleep(attempt)
                continue
            if response.result == "OK":
                return
            text = _text(response)
            box.incidents.append(f"APPEND try {attempt}: {response.result} {text}")
            if _TRYCREATE in text:
                await box.ensure_exists()
            else:
                await asyncio.sleep(attempt)
        raise RuntimeError(f"APPEND to {box.name!r} failed {ATTEMPTS} times: "
                           f"{box.incidents[-1]}")

    async def close(self) -> None:
        admin, self.admin = self.admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await admin.__aexit__(None, None, None)


def _text(response: aioimaplib.Response) -> str:
    return " ".join(line.decode(errors="replace") for line in response.lines
                    if isinstance(line, bytes))
