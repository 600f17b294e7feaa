"""The email channel: mail in from one IMAP mailbox, replies out through SMTP.

This is the channel as the gateway sees it (`start`, `stop`, `send`, `health`, the
quarantine); the work is done by one module per job: `reader.py` the IMAP loop and its
exactly-once position, `intake.py` one mail into the pipeline (threading, loop
protection, bounces), `sending.py` replies out, `health.py` the /readyz report,
`lease.py` one replica per mailbox.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from connectors.email import escalation
from connectors.email import state as email_state
from connectors.email.intake import MailIntake, Unprocessable
from connectors.email.reader import MailboxReader, Tuning
from connectors.email.sending import CHANNEL, ReplySender
from connectors.email.smtp import SmtpSender
from connectors.email.state import QUARANTINE_INDEX
from connectors.email.worker import ParseWorker
from gateway.background import stop_task
from gateway.channels import Outbound
from gateway.config.channels import EmailSettings
from gateway.keys import CONNECTORS, HUB, SETTINGS, STORE
from gateway.models import utcnow
from gateway.store import Store

__all__ = ["EmailConnector", "Tuning", "Unprocessable", "setup"]


class EmailConnector:
    """`start()` runs the IMAP loop; `send()` is called by the outbox worker."""

    channel = CHANNEL
    #: A resend after an uncertain outcome carries the same Message-ID (see sending.py),
    #: so receivers drop the copy: the outbox resends such a mail once.
    resend_uncertain = True
    #: An operator's files go out as MIME attachments (sending.py).
    sends_files = True
    #: The Message-ID is recorded on the message before the send (sending.py): the outbox
    #: does not write it again once the mail is accepted.
    records_message_id = True

    def __init__(self, app: web.Application, tuning: Tuning | None = None) -> None:
        self.app = app
        self.settings: EmailSettings = app[SETTINGS].email
        self.tuning = tuning or Tuning()
        self.smtp = SmtpSender(self.settings, tls_context=self.tuning.smtp_tls_context)
        self.domain = self.settings.address.rpartition("@")[2].lower()
        self._parser = ParseWorker(self.tuning.parse_time_limit)
        self.intake = MailIntake(app, self.settings, self.domain, self._parser)
        self.reader = MailboxReader(app, self.settings, self.tuning, self.intake)
        self.sender = ReplySender(app, self.settings, self.smtp, self.domain)
        #: Set after every completed sync (tests and the benchmark wait on it).
        self.synced = self.reader.synced
        self._task: asyncio.Task[None] | None = None
        self._escalation: asyncio.Task[None] | None = None
        self._alarms: asyncio.Queue[dict[str, Any]] | None = None

    @property
    def store(self) -> Store:
        return self.app[STORE]

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self.reader.health.started_at = utcnow()
        self.reader.health.quarantined = len(await self.store.get_state(QUARANTINE_INDEX)
                                             or [])
        self._task = asyncio.create_task(self.reader.run(), name="email-imap")
        if self.settings.escalate_to:
            self._alarms = self.app[HUB].subscribe("notifications")
            self._escalation = asyncio.create_task(
                escalation.follow(self._alarms, self.smtp, self.settings,
                                  self.app[SETTINGS].server.public_url, self.domain,
                                  self.settings.escalate_language
                                  or self.app[SETTINGS].languages.default),
                name="email-escalation")

    async def stop(self) -> None:
        for task in (self._task, self._escalation):
            if task is not None:
                await stop_task(task)
        self._task = self._escalation = None
        if self._alarms is not None:
            self.app[HUB].unsubscribe("notifications", self._alarms)
            self._alarms = None
        self.reader.health.connected = False
        await self.reader.lease.release()
        await self.smtp.close()
        self._parser.close()

    def expected_interval(self) -> float:
        return self.reader.expected_interval()

    def health(self) -> dict[str, Any]:
        """For /readyz: is the mailbox being read, since when, and what went wrong last
        (connectors/email/health.py)."""
        return self.reader.report()

    # -- one mail, the quarantine --------------------------------------------------------

    async def ingest(self, raw: bytes) -> str:
        """Take in one raw mail; return what happened. Raises `Unprocessable` for quarantine."""
        return await self.intake.ingest(raw)

    async def quarantined(self) -> list[dict[str, Any]]:
        """The quarantine index (no raw bytes): id, error, size, when, mailbox/UID."""
        return await email_state.quarantined(self.store)

    async def quarantined_raw(self, entry_id: str) -> bytes | None:
        return await email_state.quarantined_raw(self.store, entry_id)

    async def reprocess(self, entry_id: str) -> str:
        """Ingest a quarantined mail again (after a fix); on success it leaves quarantine.
        Raises `Unprocessable` (it stays) when the mail still cannot be taken in."""
        raw = await self.quarantined_raw(entry_id)
        if raw is None:
            raise LookupError(f"no quarantined mail {entry_id!r}")
        result = await self.ingest(raw)
        await email_state.release(self.store, entry_id)
        self.reader.health.quarantined = len(await self.quarantined())
        return result

    # -- sending -------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        """Compose the reply to the conversation's last mail and hand it to SMTP."""
        return await self.sender.send(outbound)


    # -- starting a conversation (notifications) ------------------------------------------

    def first_address(self, identity: str, token: str) -> str:
        """A thread we start is known by our first mail's Message-ID, which is recorded
        on the message; the conversation's address only has to be unique."""
        return f"<started.{token}@{self.domain}>"

    async def refusal(self, store: Store, identity: str) -> str | None:
        """A hard-bounced (or repeatedly soft-bouncing) address is not written to."""
        return await email_state.suppression(store, identity)


def setup(app: web.Application) -> None:
    """Register the connector; `gateway.app` starts it once the store is open."""
    app[CONNECTORS][CHANNEL] = EmailConnector(app)
