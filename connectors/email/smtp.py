"""Hand one composed mail to the SMTP server, and say precisely how it failed.

The outbox decides what to do with a failure, so the phase matters (reliability §21):
nothing can have been delivered before DATA (retry later, zammad#1239); a 5xx reply is
final; a connection lost during DATA leaves the outcome unknown, and resending blindly
would duplicate the mail (freescout#5457), so that is `DeliveryUncertain`.

Sessions are reused (issue 21: a backlog's replies go out in a row): after a mail went
through, its session waits for the next one instead of QUIT.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import aiosmtplib

from gateway.config.channels import EmailSettings
from gateway.errors import DeliveryError, DeliveryRetryLater, DeliveryUncertain

#: Seconds per SMTP command; a stalled server must not hold the outbox worker.
TIMEOUT = 30.0
#: Seconds for everything before DATA (connect, TLS, AUTH, envelope): with DATA's own
#: TIMEOUT one attempt stays well inside the outbox lease (60 s), so no other worker
#: takes the entry over while this one still waits for the server.
ENVELOPE_BUDGET = 20.0


#: Idle sessions kept for the next replies (the outbox sends up to `max_parallel`, 8, at
#: once): a backlog's replies go out in a row, and a new session per mail (connect, EHLO,
#: TLS, AUTH, QUIT) costs more than the mail itself.
POOL_SIZE = 8
#: A session idle longer than this is closed rather than reused (servers drop idle sessions
#: after a few minutes, RFC 5321 §4.5.3.2.7: 5; some much sooner).
REUSE_WITHIN = 30.0


class SmtpSender:
    """Sends through the `[email]` SMTP server over a few reused sessions."""

    def __init__(
        self,
        settings: EmailSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT,
        envelope_budget: float = ENVELOPE_BUDGET,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.settings = settings
        self.tls_context = tls_context
        self.timeout = timeout
        self.envelope_budget = envelope_budget
        self.pool_size = pool_size
        #: Idle sessions, the most recently used last, with when they went idle.
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        #: Sessions opened (for tests and the benchmark: reuse shows as few of them).
        self.sessions_opened = 0

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=self.timeout,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            tls_context=self.tls_context,
            username=s.smtp_user or None,
            password=s.smtp_password.get_secret_value() if s.smtp_user else None,
        )

    async def send(self, message: EmailMessage, sender: str, recipient: str,
                   accepted: Callable[[], Awaitable[None]] | None = None) -> None:
        """Deliver `message` to `recipient` with envelope sender `sender`; `accepted` is
        awaited right after the server's 250 to DATA.

        Raises `DeliveryRetryLater` (nothing delivered, try again), `DeliveryError` (the
        server refused for good) or `DeliveryUncertain` (lost during DATA).

        A reused session that fails before DATA (the server closed it while idle, or
        answers 421) is dropped and the envelope tried once on a new one: nothing can have
        been delivered before DATA, so that retry cannot duplicate the mail.
        """
        reused = self._take_idle()
        client = reused or await self._connect()
        try:
            try:
                await self._envelope(client, sender, recipient, reused=reused is not None)
            except _StaleSession:
                _drop(client)
                client = await self._connect()
                await self._envelope(client, sender, recipient, reused=False)
            try:
                await client.data(message.as_bytes())
            except aiosmtplib.SMTPResponseException as exc:
                # A reply code means the server answered: it did not take the mail.
                raise _refused(exc, "DATA") from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise DeliveryUncertain(
                    f"SMTP connection lost during DATA, the server may "
                    f"have accepted the mail: {_describe(exc)}"
                ) from exc
            if accepted is not None:
                await accepted()
        except BaseException:
            _drop(client)  # in an unknown state: never reused
            raise
        await self._release(client)

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._client()
        self.sessions_opened += 1
        try:
            async with asyncio.timeout(self.envelope_budget):
                await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            raise DeliveryRetryLater(
                f"SMTP connect to {self.settings.smtp_host}:"
                f"{self.settings.smtp_port} failed: {_describe(exc)}"
            ) from exc
        return client

    async def _envelope(self, client: aiosmtplib.SMTP, sender: str, recipient: str, *,
                        reused: bool) -> None:
        try:
            async with asyncio.timeout(self.envelope_budget):
                await client.mail(sender)
                await client.rcpt(recipient)
        except aiosmtplib.SMTPResponseException as exc:
            if reused and exc.code == 421:  # the server is closing this session
                raise _StaleSession from exc
            raise _refused(exc, "envelope") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if reused and not isinstance(exc, TimeoutError):
                raise _StaleSession from exc
            raise DeliveryRetryLater(f"SMTP envelope failed: {_describe(exc)}") from exc

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        """The most recently used idle session that is still open and fresh enough."""
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < REUSE_WITHIN:
                return client
            _drop(client)
        return None

    async def _release(self, client: aiosmtplib.SMTP) -> None:
        """Keep a session whose mail went through for the next reply, or end it politely."""
        if client.is_connected and len(self._idle) < self.pool_size:
            self._idle.append((client, time.monotonic()))
            return
        await _quit(client)

    async def close(self) -> None:
        """End the idle sessions (the connector stops)."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            await _quit(client)


class _StaleSession(Exception):
    """A reused session failed before DATA: try a new one."""


async def _quit(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()  # the mail's fate is already decided; just drop the line


def _drop(client: aiosmtplib.SMTP) -> None:
    """Close a session at once, without QUIT."""
    if client.is_connected:
        client.close()


def _refused(exc: aiosmtplib.SMTPResponseException, phase: str) -> DeliveryError:
    """5xx is permanent (RFC 5321 §4.2.1), 4xx transient."""
    text = f"SMTP {phase} refused: {exc.code} {exc.message}"
    if 500 <= exc.code < 600:
        return DeliveryError(text)
    return DeliveryRetryLater(text)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
