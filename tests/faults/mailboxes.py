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


class Mailbox:
    """One run's fresh mailbox on the private Dovecot. `lock` keeps a reset and a delivery
    from interleaving (a mail APPENDed into a mailbox being deleted would vanish)."""

    def __init__(self, user: str, name: str) -> None:
        self.user = user
        self.name = name
        self.lock = asyncio.Lock()
        self.resets = 0

    async def create(self) -> None:
        async with MailAdmin(self.user) as admin:
            await admin.create(self.name)

    async def delete(self) -> None:
        async with MailAdmin(self.user) as admin:
            await admin.delete(self.name)

    async def deliver(self, run: str, count: int, rate: float,
                      record: Callable[[str, float], None], start: int = 0) -> None:
        """APPEND `count` mails at about `rate` per second; `record(Message-ID, time)`."""
        async with MailAdmin(self.user) as admin:
            began = time.monotonic()
            for i in range(count):
                n = start + i
                async with self.lock:
                    await admin.append(self.name, customer_mail(run, n))
                record(message_id(run, n), time.time())
                delay = began + (i + 1) / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

    async def append(self, raw: bytes, locked: bool = False) -> None:
        """Deliver one mail; `locked`: the caller already holds `lock`."""
        async with contextlib.AsyncExitStack() as stack:
            if not locked:
                await stack.enter_async_context(self.lock)
            admin = await stack.enter_async_context(MailAdmin(self.user))
            await admin.append(self.name, raw)

    async def reset_uidvalidity(self) -> tuple[int, int]:
        """Delete the mailbox and create it again with the same mails and flags in it, as a
        server migration or restore does; return (UIDVALIDITY before, after)."""
        async with self.lock:
            async with MailAdmin(self.user) as reader:  # logged out before the delete
                before = await self._uidvalidity(reader)
                mails = await self._contents(reader)
            return before, await self._recreate(mails)

    async def _recreate(self, mails: list[tuple[bytes, str]]) -> int:
        async with MailAdmin(self.user) as admin:
            await admin.delete(self.name)
            await asyncio.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
            await admin.create(self.name)
            for raw, flags in mails:
                response = await admin.imap.append(raw, mailbox=f'"{self.name}"',
                                                   flags=flags or None)
                assert response.result == "OK", response
            self.resets += 1
            return await self._uidvalidity(admin)

    async def _uidvalidity(self, admin: MailAdmin) -> int:
        response = await admin.imap.status(f'"{self.name}"', "(UIDVALIDITY)")
        assert response.result == "OK", response
        text = b" ".join(line for line in response.lines if isinstance(line, bytes)).decode()
        return int(text.split("UIDVALIDITY", 1)[1].strip(" ()").split()[0].rstrip(")"))

    async def _contents(self, admin: MailAdmin) -> list[tuple[bytes, str]]:
        """(raw bytes, flags) of every mail, in UID order, 200 UIDs per FETCH (aioimaplib
        parses one answer recursively and fails on about a thousand mails)."""
        response = await admin.imap.status(f'"{self.name}"', "(UIDNEXT)")
        text = b" ".join(line for line in response.lines if isinstance(line, bytes)).decode()
        uidnext = int(text.split("UIDNEXT", 1)[1].strip(" ()").split()[0].rstrip(")"))
        response = await admin.imap.select(f'"{self.name}"')
        assert response.result == "OK", response
        mails: list[tuple[bytes, str]] = []
        for low in range(1, uidnext, 200):
            response = await admin.imap.uid("fetch", f"{low}:{low + 199}", "(FLAGS BODY.PEEK[])")
            lines = response.lines
            for index, line in enumerate(lines[:-1]):
                if isinstance(line, bytes) and b"FETCH (" in line and b"FLAGS (" in line \
                        and isinstance(lines[index + 1], bytearray):
                    flags = line.decode().split("FLAGS (", 1)[1].split(")", 1)[0]
                    wanted = " ".join(f for f in flags.split() if f != "\\Recent")
                    mails.append((bytes(lines[index + 1]), f"({wanted})" if wanted else ""))
        await admin.imap.close()
        return mails
