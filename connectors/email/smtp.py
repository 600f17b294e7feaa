"""Hand one composed mail to the SMTP server, and say precisely how it failed.

The outbox decides what to do with a failure, so the phase matters (reliability §21):
nothing can have been delivered before DATA (retry later, zammad#1239); a 5xx reply is
final; a connection lost during DATA leaves the outcome unknown, and resending blindly
would duplicate the mail (freescout#5457), so that is `DeliveryUncertain`.
"""

from __future__ import annotations

import asyncio
import ssl
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


class SmtpSender:
    """Sends through the `[email]` SMTP server; one connection per mail (replies are rare)."""

    def __init__(
        self,
        settings: EmailSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT,
        envelope_budget: float = ENVELOPE_BUDGET,
    ) -> None:
        self.settings = settings
        self.tls_context = tls_context
        self.timeout = timeout
        self.envelope_budget = envelope_budget

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
        awaited right after the server's 250 to DATA, before QUIT.

        Raises `DeliveryRetryLater` (nothing delivered, try again), `DeliveryError` (the
        server refused for good) or `DeliveryUncertain` (lost during DATA).
        """
        client = self._client()
        try:
            async with asyncio.timeout(self.envelope_budget):
                await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            raise DeliveryRetryLater(
                f"SMTP connect to {self.settings.smtp_host}:"
                f"{self.settings.smtp_port} failed: {_describe(exc)}"
            ) from exc
        try:
            try:
                async with asyncio.timeout(self.envelope_budget):
                    await client.mail(sender)
                    await client.rcpt(recipient)
            except aiosmtplib.SMTPResponseException as exc:
                raise _refused(exc, "envelope") from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise DeliveryRetryLater(f"SMTP envelope failed: {_describe(exc)}") from exc
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
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()  # the mail's fate is already decided; just drop the line


def _refused(exc: aiosmtplib.SMTPResponseException, phase: str) -> DeliveryError:
    """5xx is permanent (RFC 5321 §4.2.1), 4xx transient."""
    text = f"SMTP {phase} refused: {exc.code} {exc.message}"
    if 500 <= exc.code < 600:
        return DeliveryError(text)
    return DeliveryRetryLater(text)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
