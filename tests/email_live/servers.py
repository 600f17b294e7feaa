"""Real mail servers for the email tests: the private Dovecot (IMAP) and aiosmtpd (SMTP).

Nothing here imitates a protocol: mail is delivered into Dovecot with IMAP APPEND and
replies are captured by a real SMTP server listening on a loopback port.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aioimaplib
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
DOVECOT_SCRIPT = ROOT / "tests" / "services" / "dovecot.sh"
DOVECOT_CONF = Path("/tmp/hgw-dovecot/dovecot.conf")
IMAP_HOST = "127.0.0.1"
IMAP_PORT = 10143
IMAPS_PORT = 10993
CERT = Path("/tmp/hgw-dovecot/cert.pem")


def port_open(port: int, host: str = IMAP_HOST) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def doveadm(*args: str) -> None:
    """Run doveadm against the private instance (e.g. `kick` to drop a user's sessions)."""
    subprocess.run(["doveadm", "-c", str(DOVECOT_CONF), *args], check=True,
                   capture_output=True, timeout=10)


def ensure_dovecot() -> str | None:
    """Start the private Dovecot if its port is closed; return an error text or None."""
    if port_open(IMAP_PORT):
        return None
    if DOVECOT_SCRIPT.exists():
        subprocess.run([str(DOVECOT_SCRIPT), "start"], check=False, capture_output=True,
                       timeout=60)
    if port_open(IMAP_PORT):
        return None
    return (f"Dovecot is not reachable on {IMAP_HOST}:{IMAP_PORT}. "
            f"Run `tests/services/dovecot.sh start` (needs Debian's dovecot-imapd).")


class MailAdmin:
    """A test's own IMAP client: create/delete mailboxes, deliver mail, read flags."""

    def __init__(self, user: str = "support", timeout: float = 10) -> None:
        self.user = user
        self.timeout = timeout  # per command; deleting a big mailbox takes longer
        self.client: aioimaplib.IMAP4 | None = None

    async def __aenter__(self) -> MailAdmin:
        self.client = aioimaplib.IMAP4(host=IMAP_HOST, port=IMAP_PORT, timeout=self.timeout)
        await self.client.wait_hello_from_server()
        response = await self.client.login(self.user, f"{self.user}-pass")
        assert response.result == "OK", response
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.client is not None
        try:
            await self.client.logout()
        finally:
            # aioimaplib leaves the socket to the server's EOF, which may come after the
            # test's event loop is gone (an "unclosed transport" warning at GC).
            self.client.protocol.transport.close()

    @property
    def imap(self) -> aioimaplib.IMAP4:
        assert self.client is not None
        return self.client

    async def create(self, mailbox: str) -> None:
        response = await self.imap.create(f'"{mailbox}"')
        assert response.result == "OK", response

    async def delete(self, mailbox: str) -> None:
        await self.imap.delete(f'"{mailbox}"')

    async def append(self, mailbox: str, raw: bytes) -> int:
        """Deliver one mail; return its UID (APPENDUID, RFC 4315)."""
        response = await self.imap.append(raw, mailbox=f'"{mailbox}"')
        assert response.result == "OK", response
        text = response.lines[-1].decode()
        return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])

    async def flags(self, mailbox: str) -> dict[int, set[str]]:
        """UID -> flags of every mail in `mailbox`."""
        response = await self.imap.select(f'"{mailbox}"')
        assert response.result == "OK", response
        uidnext = int(b" ".join(response.lines).split(b"UIDNEXT ", 1)[1].split(b"]", 1)[0])
        result: dict[int, set[str]] = {}
        # 200 UIDs per FETCH: aioimaplib's parser recurses once per line of an answer.
        for start in range(1, uidnext, 200):
            response = await self.imap.uid("fetch", f"{start}:{start + 199}", "(UID FLAGS)")
            for line in response.lines:
                if isinstance(line, bytes) and b"FETCH (" in line:
                    text = line.decode()
                    uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                    if uid >= start:
                        flags = text.split("FLAGS (", 1)[1].split(")", 1)[0].split()
                        result[uid] = set(flags)
        await self.imap.close()
        return result


def make_mail(*, sender: str, subject: str, body: str, message_id: str | None = None,
              to: str = "support@velora.test", headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@customer.test>"
    msg["Date"] = "Sun, 29 Nov 2026 10:00:00 +0100"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def unique_mailbox() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


class SmtpCapture:
    """aiosmtpd on a loopback port, keeping every mail it accepts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        #: The client address and port of each accepted mail's session (one per TCP
        #: connection: a reused session shows as one peer for several mails).
        self.peers: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self.controller: Controller | None = None
        #: Called in the server thread for each RCPT TO; return an SMTP reply to refuse it.
        self.rcpt_hook: Callable[[str], str | None] = lambda _address: None
        #: Called in the server thread for each MAIL FROM with the client's peer; return an
        #: SMTP reply to refuse it.
        self.mail_hook: Callable[[tuple[str, int]], str | None] = lambda _peer: None

    def start(self) -> SmtpCapture:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        refusal = self.mail_hook(tuple(session.peer))
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self.rcpt_hook(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.peers.append(tuple(session.peer))
        return "250 Message accepted"

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            await asyncio.sleep(0.05)
        with self._lock:
            raise AssertionError(f"expected {count} mails, SMTP server got {len(self.messages)}")


MAIL_ROOT = Path("/tmp/hgw-dovecot/mail")


def deliver_maildir(user: str, mailbox: str, raws: list[bytes]) -> None:
    """Drop mails straight into the mailbox's Maildir `new/`, as a local delivery agent
    does: thousands in a second, where IMAP APPEND takes ~10 ms each. Dovecot assigns
    their UIDs at the next SELECT or IDLE check, in file-name order."""
    folder = MAIL_ROOT / user / f".{mailbox}"
    new, tmp = folder / "new", folder / "tmp"
    owner = new.stat()
    stamp = int(time.time())
    for n, raw in enumerate(raws):
        name = f"{stamp}.M{n:07d}P{uuid.uuid4().hex[:8]}.hgw-test"
        (tmp / name).write_bytes(raw)
        os.chown(tmp / name, owner.st_uid, owner.st_gid)
        (tmp / name).rename(new / name)
