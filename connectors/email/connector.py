"""The email channel: mail in from one IMAP mailbox, replies out through SMTP.

Receiving is exactly once. The position (UIDVALIDITY, last UID) lives in the store and
advances one mail at a time, after `pipeline.handle` returned and the mail was flagged
or moved (reliability §1, §4). A crash anywhere in between fetches the mail again, and
the pipeline deduplicates it on its normalised Message-ID (parse.py falls back to a
content hash). A mail that cannot be processed is quarantined in the store with its raw
bytes and the rest flow on (zammad#2754).

Threading (reliability §16, lessons §1-2): our own Message-IDs in References, then
In-Reply-To, then the "[#1234]" ticket tag in the subject, and each only when the sender
is that conversation's customer; otherwise a new conversation keyed by the mail's own
Message-ID. Loops (RFC 3834): machine mail, our own mail and "don't answer me" mail is
stored but never answered, bot replies per correspondent are capped, and a hard bounce
stops all mail to the address.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import email.policy
import hashlib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aioimaplib
import structlog
from aiohttp import web

from connectors.email import escalation
from connectors.email import state as email_state
from connectors.email.compose import ComposeError, compose_reply
from connectors.email.headers import normalise_message_id, raw_header
from connectors.email.imap import (
    WINDOW,
    ImapError,
    ImapSession,
    MailboxStatus,
    batches,
    tls_context,
)
from connectors.email.lease import MailboxLease
from connectors.email.mailthread import subject_ticket_ref, thread_candidates
from connectors.email.parse import ParsedMail
from connectors.email.smtp import SmtpSender
from connectors.email.state import AUTO_REPLIES, QUARANTINE_INDEX, QUARANTINE_RAW
from connectors.email.worker import DEFAULT_TIME_LIMIT, ParseWorker
from gateway.bot.pipeline import Pipeline
from gateway.bot.turn import Outcome
from gateway.channels import ConversationKey, Identity, Inbound, InboundAttachment, Outbound
from gateway.config.channels import EmailSettings
from gateway.errors import DeliveryError, StoreError
from gateway.keys import CONNECTORS, HUB, PIPELINE, SETTINGS, STORE
from gateway.models import Conversation, Message, utcnow
from gateway.store import Store
from gateway.store.attachments import save_attachments

log = structlog.get_logger(__name__)

CHANNEL = "email"
#: Our Message-IDs are `<hgw.OUTBOX_ID.DIGEST@domain>` (see `_message_id`).
_OWN_ID_PREFIX = "<hgw."
#: Returned-mail parts of a DSN that carry the original headers (RFC 3462, RFC 6522).
_RETURNED_PARTS = {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}
#: Failures after which the session is rebuilt (the server, the network or the database).
_TRANSIENT = (ImapError, aioimaplib.AioImapException, OSError, TimeoutError, StoreError,
              ssl.SSLError)


class Unprocessable(Exception):
    """A mail the gateway cannot take in as it is; it goes to quarantine."""


@dataclass(frozen=True)
class Tuning:
    """Timings not in `[email]` (tests and the benchmark shorten them)."""

    reconnect_min: float = 1.0
    reconnect_max: float = 300.0
    #: Re-issue IDLE before the 30-minute inactivity logout (RFC 2177 §3: every 29 min).
    idle_renew: float = 25 * 60.0
    #: Extra seconds an IDLE round may take before the session is declared dead (aioimaplib#110).
    idle_watchdog: float = 30.0
    imap_timeout: float = 30.0
    #: Per-mail time budget (reliability §8); a mail that exceeds it is quarantined.
    message_budget: float = 120.0
    #: Seconds parsing one mail may take in its worker process before it is stopped.
    parse_time_limit: float = DEFAULT_TIME_LIMIT
    #: Replace the system trust store (e.g. a private CA); None = default verification.
    imap_ssl_context: ssl.SSLContext | None = None
    smtp_tls_context: ssl.SSLContext | None = None


@dataclass
class _Health:
    connected: bool = False
    idle: bool = False
    last_success: datetime | None = None
    #: The last step that completed: a whole sync, or one window of a long catch-up.
    last_progress: datetime | None = None
    syncing: bool = False
    last_error: str | None = None
    last_error_at: datetime | None = None
    quarantined: int = 0
    uidvalidity: int | None = None
    last_uid: int | None = None


class EmailConnector:
    """`start()` runs the IMAP loop; `send()` is called by the outbox worker."""

    channel = CHANNEL
    #: A resend after an uncertain outcome carries the same Message-ID (see `_message_id`),
    #: so receivers drop the copy: the outbox resends such a mail once.
    resend_uncertain = True

    def __init__(self, app: web.Application, tuning: Tuning | None = None) -> None:
        self.app = app
        self.settings: EmailSettings = app[SETTINGS].email
        self.tuning = tuning or Tuning()
        self.smtp = SmtpSender(self.settings, tls_context=self.tuning.smtp_tls_context)
        self.domain = self.settings.address.rpartition("@")[2].lower()
        self._health = _Health()
        self._task: asyncio.Task[None] | None = None
        #: The current session got as far as SELECT (resets the reconnect backoff).
        self._selected = False
        #: After a UIDVALIDITY change: \\Seen mails up to this UID are not taken in again.
        self._recover_upto = 0
        #: Staleness counts from here until the first step completes.
        self._started_at = utcnow()
        self._escalation: asyncio.Task[None] | None = None
        self._alarms: asyncio.Queue[dict[str, Any]] | None = None
        #: Set after every completed sync (tests and the benchmark wait on it).
        self.synced = asyncio.Event()
        self._parser = ParseWorker(self.tuning.parse_time_limit)
        #: One replica at a time reads the mailbox (issue 11).
        self._lease = MailboxLease(lambda: self.store, self._position_key(),
                                   self.settings.lease_seconds)

    @property
    def store(self) -> Store:
        return self.app[STORE]

    @property
    def pipeline(self) -> Pipeline:
        return self.app[PIPELINE]

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._started_at = utcnow()
        self._health.quarantined = len(await self.store.get_state(QUARANTINE_INDEX) or [])
        self._task = asyncio.create_task(self._run(), name="email-imap")
        if self.settings.escalate_to:
            self._alarms = self.app[HUB].subscribe("notifications")
            self._escalation = asyncio.create_task(
                escalation.follow(self._alarms, self.smtp, self.settings,
                                  self.app[SETTINGS].server.public_url, self.domain),
                name="email-escalation")

    async def stop(self) -> None:
        for task in (self._task, self._escalation):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._escalation = None
        if self._alarms is not None:
            self.app[HUB].unsubscribe("notifications", self._alarms)
            self._alarms = None
        self._health.connected = False
        await self._lease.release()
        self._parser.close()

    def expected_interval(self) -> float:
        """Seconds within which a healthy loop completes a step: an IDLE round (or a poll)
        plus two command timeouts for the sync after it."""
        wait = (self.tuning.idle_renew + self.tuning.idle_watchdog if self._health.idle
                else self.settings.poll_interval)
        return wait + 2 * self.tuning.imap_timeout

    def health(self) -> dict[str, Any]:
        """For /readyz: is the mailbox being read, since when, and what went wrong last.

        `ok` needs a connection *and* a completed sync, IDLE round or catch-up window
        within `expected_interval`: a loop stuck without an error (issue 11: a backlog
        that hung the parser kept saying "connected") shows as `state: "stale"`.
        """
        h = self._health
        since = (utcnow() - (h.last_progress or self._started_at)).total_seconds()
        stale = since > self.expected_interval()
        standby = not self._lease.held  # another replica reads the mailbox
        state = ("standby" if standby else "disconnected" if not h.connected
                 else "stale" if stale else "syncing" if h.syncing
                 else "idle" if h.idle else "polling")
        return {
            "ok": standby or (h.connected and not stale),
            "state": state,
            "connected": h.connected,
            "idle": h.idle,
            "mailbox": self.settings.mailbox,
            "last_success": h.last_success.isoformat() if h.last_success else None,
            "last_sync_at": h.last_success.isoformat() if h.last_success else None,
            "seconds_since_sync": round(since, 1),
            "expected_interval": self.expected_interval(),
            "last_error": h.last_error,
            "last_error_at": h.last_error_at.isoformat() if h.last_error_at else None,
            "quarantined": h.quarantined,
            "uidvalidity": h.uidvalidity,
            "last_uid": h.last_uid,
            "lease": self._lease.health(),
        }

    # -- the IMAP loop -------------------------------------------------------------------

    async def _run(self) -> None:
        """Forever: hold the mailbox lease, and read the mailbox for as long as it is held."""
        while True:
            await self._lease.acquire()
            self._started_at = utcnow()  # staleness counts from the start of this turn
            reading = asyncio.create_task(self._read(), name="email-imap-read")
            try:
                await self._lease.keep()
            finally:
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
            self._failed("mailbox lease lost: another replica may read it now")

    async def _read(self) -> None:
        """Forever: connect, catch up, wait for news; on any failure back off and reconnect."""
        delay = self.tuning.reconnect_min
        while True:
            self._selected = False
            try:
                await self._session()
            except _TRANSIENT as exc:
                self._failed(f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a bug must not stop the inbox silently (chatwoot#6604)
                self._failed(f"{type(exc).__name__}: {exc}")
                log.exception("email.imap.crashed")
            if self._selected:
                # The server let us in and selected the mailbox: a blip (a cut, a restart
                # mid-backlog), not an outage, so retry soon rather than after the backoff
                # a complete sync alone used to reset.
                delay = self.tuning.reconnect_min
            log.warning("email.imap.reconnecting", delay=delay, error=self._health.last_error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.tuning.reconnect_max)

    def _failed(self, error: str) -> None:
        self._health.connected = False
        self._health.idle = self._health.syncing = False
        self._health.last_error = error[:500]
        self._health.last_error_at = utcnow()

    async def _session(self) -> None:
        context = None
        if self.settings.imap_security != "plain":
            context = self.tuning.imap_ssl_context or tls_context(self.settings.imap_security)
        session, status = await ImapSession.connect(
            self.settings, ssl_context=context, command_timeout=self.tuning.imap_timeout
        )
        try:
            self._health.connected = True
            self._selected = True
            if self.settings.after_ingest == "move":
                await session.ensure_mailbox(self.settings.processed_mailbox)
            # A catch-up after every (re)connect: whatever arrived meanwhile, however much
            # (lessons §3, reliability §5-6: no date or count window).
            await self._sync(session, status)
            use_idle = self.settings.idle and session.supports_idle
            self._health.idle = use_idle
            while True:
                if use_idle:
                    await session.idle(self.tuning.idle_renew, self.tuning.idle_watchdog)
                else:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.settings.poll_interval):
                            await session.lost.wait()
                if session.lost.is_set():
                    raise ImapError("connection lost")
                await self._sync(session, status)
        finally:
            session.abort()

    async def _sync(self, session: ImapSession, status: MailboxStatus) -> None:
        """Take in every mail above the saved position, one commit at a time.

        UIDs are listed `WINDOW` at a time up to the newest mail, and the newest is asked
        again at the end, so mail that arrived during a long catch-up is taken in too.
        """
        self._health.syncing = True
        cursor = await self._position(status)
        while (newest := await session.highest_uid()) > cursor:
            while cursor < newest:
                upto = min(cursor + WINDOW, newest)
                pending = [p for p in await session.pending(cursor, upto)
                           if not (p.seen and p.uid <= self._recover_upto)]
                for batch in batches(pending):
                    bodies = await session.fetch(batch)
                    for uid in batch:
                        raw = bodies.get(uid)
                        if raw is not None and await self._process(raw, status.uidvalidity, uid):
                            await self._done_on_server(session, uid)
                        # Only now: a crash before this line fetches it again (deduplicated).
                        await self._advance(status.uidvalidity, uid)
                if (self._health.last_uid or 0) < upto:
                    # UIDs only grow: nothing can appear at or below `upto` any more.
                    await self._advance(status.uidvalidity, upto)
                cursor = upto
                self._health.last_progress = utcnow()
        self._health.last_success = self._health.last_progress = utcnow()
        self._health.syncing = False
        self.synced.set()

    def _position_key(self) -> str:
        s = self.settings
        return f"email:imap:{s.imap_user}@{s.imap_host}:{s.imap_port}/{s.mailbox}"

    async def _position(self, status: MailboxStatus) -> int:
        """The last committed UID, resynchronised when the mailbox is new or was recreated.

        On a first connection every existing mail counts as already seen (reliability §3,
        §9: connecting a mailbox does not answer its history); mail arriving from now on
        is taken in. On a UIDVALIDITY change (the mailbox was recreated or its index
        rebuilt) the old UIDs mean nothing, so every mail is looked at again: what is not
        `\\Seen` is taken in (with `after_ingest = "move"`, everything left in the
        mailbox) and Message-ID dedup drops the ones already stored (issue 11: skipping
        them all lost every unread mail in the mailbox).
        """
        saved = await self.store.get_state(self._position_key())
        if saved and saved.get("uidvalidity") == status.uidvalidity:
            last_uid = int(saved["last_uid"])
            self._recover_upto = int(saved.get("recover_upto", 0))
        elif not saved:
            last_uid, self._recover_upto = status.uidnext - 1, 0
            log.warning("email.imap.baseline", mailbox=self.settings.mailbox,
                        uidvalidity=status.uidvalidity, skipped_existing=status.exists,
                        resume_after_uid=last_uid)
        else:
            last_uid = 0
            # Read mails up to here were handled before (or by a person): not again.
            self._recover_upto = status.uidnext - 1 if self.settings.after_ingest == "seen" \
                else 0
            log.warning("email.imap.uidvalidity_changed", mailbox=self.settings.mailbox,
                        uidvalidity=status.uidvalidity,
                        previous_uidvalidity=saved.get("uidvalidity"),
                        rescanning=status.exists, skipping_seen_upto=self._recover_upto)
        if saved is None or saved.get("uidvalidity") != status.uidvalidity:
            await self._save_position(status.uidvalidity, last_uid)
        self._health.uidvalidity, self._health.last_uid = status.uidvalidity, last_uid
        return last_uid

    async def _advance(self, uidvalidity: int, uid: int) -> None:
        """Commit the position after a mail (or a window) is done."""
        await self._save_position(uidvalidity, uid)
        self._health.last_uid = uid

    async def _save_position(self, uidvalidity: int, uid: int) -> None:
        position: dict[str, int] = {"uidvalidity": uidvalidity, "last_uid": uid}
        if uid < self._recover_upto:
            position["recover_upto"] = self._recover_upto
        await self.store.set_state(self._position_key(), position)

    async def _done_on_server(self, session: ImapSession, uid: int) -> None:
        if self.settings.after_ingest == "move":
            await session.move(uid, self.settings.processed_mailbox)
        else:
            await session.mark_seen(uid)

    async def _process(self, raw: bytes, uidvalidity: int, uid: int) -> bool:
        """Ingest one mail; True when committed, False when quarantined.

        Store errors propagate (the database is down: retry the same mail later rather
        than quarantine good mail); anything else about this mail quarantines it.
        """
        try:
            async with asyncio.timeout(self.tuning.message_budget):
                result = await self.ingest(raw)
        except StoreError:
            raise
        except Exception as exc:  # one bad mail must not block the inbox (zammad#2754)
            await self._quarantine(raw, f"{type(exc).__name__}: {exc}",
                                   {"mailbox": self.settings.mailbox,
                                    "uidvalidity": uidvalidity, "uid": uid})
            return False
        log.info("email.ingested", uid=uid, result=result)
        return True

    # -- one mail ------------------------------------------------------------------------

    async def ingest(self, raw: bytes) -> str:
        """Take in one raw mail; return what happened. Raises `Unprocessable` for quarantine."""
        # In a worker process with a time limit: no mail can stall the event loop.
        mail = await self._parser.parse(
            raw, max_attachment_bytes=self.settings.max_attachment_bytes)
        known = await self.store.find_message(CHANNEL, mail.message_id)
        if known is not None and known.direction == "outbound":
            return "own-copy"  # a copy of our own reply (Bcc, or a server that files it here)
        if mail.bounce is not None:  # before the sender: "From: MAILER-DAEMON <>" has none
            await self._record_bounce(mail)
            return "bounce"
        if mail.from_address is None:
            raise Unprocessable("no usable From address (missing or ambiguous, CVE-2023-27043)")
        key, threading = await self._thread(mail)
        automated = await self._automated(mail)
        text = mail.new_text.strip() or mail.text.strip()
        meta: dict[str, Any] = {
            "subject": mail.subject,
            "message_id": mail.message_id,
            "in_reply_to": list(mail.in_reply_to),
            "references": list(mail.references),
            "attachments": [{"filename": a.filename, "content_type": a.content_type,
                             "size": a.size, "too_large": a.too_large}
                            for a in mail.attachments],
            **threading,
        }
        if text != mail.text.strip():
            meta["full_text"] = mail.text  # the stripped history stays available
        if mail.defects:
            meta["defects"] = list(mail.defects[:20])
        inbound = Inbound(
            key=key,
            sender=Identity(CHANNEL, mail.from_address, mail.from_name, email=mail.from_address),
            text=text or "(empty message)",
            channel_message_id=mail.message_id,
            attachments=tuple(InboundAttachment(a.filename, a.content_type, a.size, a.too_large)
                              for a in mail.attachments),
            automated=automated,
            meta=meta,
        )
        outcome = await self.pipeline.handle(inbound)
        await self._keep_attachments(mail, outcome, meta["attachments"])
        too_large = [a.filename for a in mail.attachments if a.too_large]
        if too_large and not outcome.duplicate:
            await self.store.add_event(
                "system", "email.attachment_too_large", conversation_id=outcome.conversation_id,
                data={"files": too_large, "limit": self.settings.max_attachment_bytes},
            )
        if outcome.duplicate:
            return "duplicate"
        return f"automated:{automated}" if automated else str(outcome.decision)

    async def _keep_attachments(self, mail: ParsedMail, outcome: Outcome,
                                listed: list[dict[str, Any]]) -> None:
        """Store the files with the message (too-large ones as a row without bytes).

        A new message always. A duplicate only when it is this very mail taken in again
        after a crash or a store error between the pipeline's commit and this call (the
        stored message lists the same attachments and has none saved yet); never a
        stranger's mail reusing the Message-ID. `save_attachments` is all-or-nothing and
        writes nothing for a message that already has its files.
        """
        if not mail.attachments:
            return
        if outcome.duplicate:
            stored = await self.store.find_message(CHANNEL, mail.message_id)
            if (stored is None or stored.id != outcome.message_id
                    or stored.meta.get("attachments") != listed):
                return
        await save_attachments(self.store, outcome.message_id, mail.attachments)

    async def _thread(self, mail: ParsedMail) -> tuple[ConversationKey, dict[str, Any]]:
        """Which conversation the mail joins; only ever one whose customer is the sender."""
        others: list[int] = []
        for message_id in thread_candidates(mail):
            message = await self.store.find_message(CHANNEL, message_id)
            if message is None:
                continue
            conversation = await self.store.get_conversation(message.conversation_id)
            if conversation is None:
                continue
            if await self._is_customer(conversation, mail.from_address):
                return _key(conversation), {"threaded_by": "references"}
            others.append(conversation.id)
        ticket_ref = subject_ticket_ref(mail.subject)
        if ticket_ref is not None:
            ticket = await self.store.get_ticket(ticket_ref)
            conversation = (await self.store.get_conversation(ticket.conversation_id)
                            if ticket else None)
            if conversation is not None and conversation.channel == CHANNEL:
                if await self._is_customer(conversation, mail.from_address):
                    return _key(conversation), {"threaded_by": "subject"}
                others.append(conversation.id)
        # A stranger quoting someone else's thread or "[#123]" opens a new conversation,
        # linked for the operator (zammad#5064, chatwoot#13502).
        extra = {"related_conversations": sorted(set(others))} if others else {}
        return ConversationKey(CHANNEL, mail.message_id), {"threaded_by": "new", **extra}

    async def _is_customer(self, conversation: Conversation, address: str | None) -> bool:
        customer = await self.store.get_customer(conversation.customer_id)
        return bool(customer and customer.email and address and customer.email.lower() == address)

    async def _automated(self, mail: ParsedMail) -> str | None:
        """Why the bot must stay silent on this mail, or None (RFC 3834, reliability §17-19)."""
        if mail.automated:
            return mail.automated
        if mail.from_address == self.settings.address.lower():
            return "own-address"
        if mail.message_id.startswith(_OWN_ID_PREFIX) and \
                mail.message_id.endswith(f"@{self.domain}>"):
            return "own-message-id"  # our mail came back without its own copy in the store
        if mail.auto_response_suppress:
            return "auto-response-suppress"
        assert mail.from_address is not None
        if len(await self._recent_auto_replies(mail.from_address)) >= \
                self.settings.auto_replies_per_hour:
            return "auto-reply-limit"
        return None

    async def _recent_auto_replies(self, address: str) -> list[str]:
        stamps: list[str] = await self.store.get_state(AUTO_REPLIES + address) or []
        since = (utcnow() - timedelta(hours=1)).isoformat()
        return [s for s in stamps if s > since]

    async def _record_bounce(self, mail: ParsedMail) -> None:
        """A bounce: an event on the conversation it is about; a hard one stops mail to it."""
        if not await self.store.first_time("email-bounce", mail.message_id):
            return
        bounce = mail.bounce
        assert bounce is not None
        conversation_id = await self._bounced_conversation(mail)
        await self.store.add_event("system", "email.bounce", conversation_id=conversation_id,
                                   data={"recipient": bounce.recipient, "status": bounce.status,
                                         "permanent": bounce.permanent, "hard": bounce.hard,
                                         "reason": bounce.reason})
        # Only a dead address is suppressed; soft bounces pause it when they repeat (§20).
        await email_state.record_bounce(self.store, bounce, conversation_id=conversation_id)
        log.warning("email.bounce", conversation_id=conversation_id, status=bounce.status,
                    permanent=bounce.permanent)

    async def _bounced_conversation(self, mail: ParsedMail) -> int | None:
        """The conversation of the mail that bounced: from the DSN's own threading headers or
        from the Message-ID of the returned original (RFC 3464 §2: it travels with the DSN)."""
        candidates = list(thread_candidates(mail))
        if mail.bounce is not None and mail.bounce.returned_message_id:
            candidates.append(mail.bounce.returned_message_id)  # quoted in a text bounce
        for attachment in mail.attachments:
            if attachment.content_type in _RETURNED_PARTS and attachment.data:
                returned = email.message_from_bytes(attachment.data, policy=email.policy.compat32)
                if returned.get_content_type() == "message/rfc822" and returned.is_multipart():
                    inner = returned.get_payload(0)
                    returned = inner if isinstance(inner, email.message.Message) else returned
                found = normalise_message_id(raw_header(returned, "Message-ID"))
                if found:
                    candidates.append(found)
        for message_id in candidates:
            message = await self.store.find_message(CHANNEL, message_id)
            if message is not None:
                return message.conversation_id
        return None

    # -- quarantine ----------------------------------------------------------------------

    async def _quarantine(self, raw: bytes, error: str, origin: dict[str, Any]) -> None:
        """Keep the raw bytes and the error in the store (shared by replicas, backed up with
        the database, covered by erasure); `reprocess` takes it in again after a fix."""
        entry_id = f"{origin['mailbox']}/{origin['uidvalidity']}/{origin['uid']}"
        index: list[dict[str, Any]] = await self.store.get_state(QUARANTINE_INDEX) or []
        if not any(e["id"] == entry_id for e in index):
            await self.store.set_state(QUARANTINE_RAW + entry_id,
                                       {"raw": base64.b64encode(raw).decode("ascii")})
            index.append({"id": entry_id, "error": error[:1000], "size": len(raw),
                          "at": utcnow().isoformat(), **origin})
            await self.store.set_state(QUARANTINE_INDEX, index)
        self._health.quarantined = len(index)
        log.error("email.quarantined", id=entry_id, error=error[:200])

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
        self._health.quarantined = len(await self.quarantined())
        return result

    # -- sending -------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        """Compose the reply to the conversation's last mail and hand it to SMTP."""
        conversation = await self.store.get_conversation(outbound.conversation_id)
        if conversation is None:
            raise DeliveryError(f"conversation {outbound.conversation_id} not found")
        customer = await self.store.get_customer(conversation.customer_id)
        recipient = customer.email.lower() if customer and customer.email else None
        if recipient is None:
            raise DeliveryError("the conversation's customer has no mail address")
        suppressed = await email_state.suppression(self.store, recipient)
        if suppressed:
            raise DeliveryError(suppressed)
        parent = _last_inbound(await self.store.messages(conversation.id))
        ticket = await self.store.open_ticket_of(conversation.id)
        message_id = self._message_id(outbound, conversation)
        automated = outbound.author == "bot"
        try:
            message = compose_reply(
                from_address=self.settings.address, from_name=self.settings.display_name,
                to_address=recipient,
                subject=parent.meta.get("subject", "") if parent else "",
                markdown_body=outbound.text,
                ticket_ref=ticket.id if ticket else None,
                in_reply_to=parent.channel_message_id if parent else None,
                references=parent.meta.get("references", []) if parent else [],
                message_id=message_id, automated=automated,
            )
        except ComposeError as exc:
            raise DeliveryError(f"cannot compose the reply: {exc}") from exc
        # Recorded before the send: a copy of it, or a customer's answer to it, is
        # recognised even if the process dies between the send and marking it sent.
        await self.store.set_message_channel_id(outbound.message_id, message_id)
        result = {"channel_message_id": message_id}

        async def accepted() -> None:
            if outbound.accepted is not None:
                await outbound.accepted(result)

        # Envelope sender = our address, not <> (RFC 3834 §3.3 allows either): bounces of
        # our replies must come back so that hard bounces can suppress the address.
        await self.smtp.send(message, self.settings.address, recipient, accepted)
        if automated:
            stamps = await self._recent_auto_replies(recipient)
            await self.store.set_state(AUTO_REPLIES + recipient,
                                       [*stamps, utcnow().isoformat()])
        log.info("email.sent", outbox_id=outbound.outbox_id,
                 conversation_id=outbound.conversation_id, automated=automated)
        return result

    def _message_id(self, outbound: Outbound, conversation: Conversation) -> str:
        """Deterministic per outbox entry: a resend after a crash carries the same id, so the
        recipient's server and mail client can drop the copy. The conversation's creation
        time makes it unique across installations that reuse outbox ids."""
        seed = f"{outbound.outbox_id}|{conversation.id}|{conversation.created_at.isoformat()}"
        digest = hashlib.sha256(seed.encode()).hexdigest()[:20]
        return f"{_OWN_ID_PREFIX}{outbound.outbox_id}.{digest}@{self.domain}>"


def _key(conversation: Conversation) -> ConversationKey:
    return ConversationKey(conversation.channel, conversation.address)


def _last_inbound(messages: list[Message]) -> Message | None:
    """The newest mail the customer wrote: the reply answers it and continues its thread.

    Auto-replies (out of office, read receipts) are passed over, so the answer does not
    thread under "I am away until Monday"; only when there is nothing else is it used.
    """
    inbound = [m for m in messages if m.direction == "inbound" and m.channel_message_id]
    human = [m for m in inbound if not m.meta.get("automated")]
    return (human or inbound)[-1] if inbound else None


def setup(app: web.Application) -> None:
    """Register the connector; `gateway.app` starts it once the store is open."""
    app[CONNECTORS][CHANNEL] = EmailConnector(app)
