"""The IMAP loop: hold the mailbox lease, connect, catch up, wait for news, reconnect.

Receiving is exactly once. The position (UIDVALIDITY, last UID) lives in the store and
advances one mail at a time, after `pipeline.handle` returned and the mail was flagged
or moved (reliability §1, §4). A crash anywhere in between fetches the mail again, and
the pipeline deduplicates it on its normalised Message-ID (parse.py falls back to a
content hash). A mail that cannot be processed is quarantined in the store with its raw
bytes and the rest flow on (zammad#2754).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aioimaplib
import structlog
from aiohttp import web

from connectors.email.ahead import DEPTH, ParseAhead
from connectors.email.health import ReaderHealth
from connectors.email.imap import (
    WINDOW,
    ImapError,
    ImapSession,
    MailboxStatus,
    Pending,
    batches,
    tls_context,
)
from connectors.email.intake import MailIntake
from connectors.email.lease import MailboxLease
from connectors.email.parse import ParsedMail
from connectors.email.reconnect import back_off, backoff_wait
from connectors.email.state import QUARANTINE_INDEX, QUARANTINE_RAW
from connectors.email.worker import DEFAULT_TIME_LIMIT
from gateway.background import stop_task
from gateway.config.channels import EmailSettings
from gateway.errors import StoreError
from gateway.keys import STORE
from gateway.models import utcnow
from gateway.store import Store

log = structlog.get_logger(__name__)

#: Failures after which the session is rebuilt (the server, the network or the database).
_TRANSIENT = (ImapError, aioimaplib.AioImapException, OSError, TimeoutError, StoreError,
              ssl.SSLError)


@dataclass(frozen=True)
class Tuning:
    """Timings not in `[email]` (tests and the benchmark shorten them)."""

    #: Reconnect backoff: doubles from `reconnect_min` up to `reconnect_max`, and each
    #: wait is drawn at random from its upper half (jitter: replicas and gateways on one
    #: server do not reconnect in lockstep). Back to `reconnect_min` once a session got
    #: as far as SELECT. The cap bounds how long mail waits after an outage ends (issue
    #: 11: at 5 min it had reached 64 s during a 2-minute outage).
    reconnect_min: float = 1.0
    reconnect_max: float = 15.0
    #: While waiting after a refused connection (nothing listening: a restart, an
    #: outage), try a bare TCP connect this often and reconnect as soon as one is
    #: accepted; 0 turns it off.
    reconnect_probe: float = 2.0
    #: Re-issue IDLE before the 30-minute inactivity logout (RFC 2177 §3: every 29 min).
    idle_renew: float = 25 * 60.0
    #: Extra seconds an IDLE round may take before the session is declared dead (aioimaplib#110).
    idle_watchdog: float = 30.0
    imap_timeout: float = 30.0
    #: Per-mail time budget (reliability §8); a mail that exceeds it is quarantined.
    message_budget: float = 120.0
    #: Seconds parsing one mail may take in its worker process before it is stopped.
    parse_time_limit: float = DEFAULT_TIME_LIMIT
    #: Mails of a fetched batch parsed ahead of the one being stored (0: each in its turn).
    parse_ahead: int = DEPTH
    #: Replace the system trust store (e.g. a private CA); None = default verification.
    imap_ssl_context: ssl.SSLContext | None = None
    smtp_tls_context: ssl.SSLContext | None = None


class MailboxReader:
    """`run()` reads the mailbox for as long as the gateway runs; `health` says how it goes."""

    def __init__(self, app: web.Application, settings: EmailSettings, tuning: Tuning,
                 intake: MailIntake) -> None:
        self.app = app
        self.settings = settings
        self.tuning = tuning
        self.intake = intake
        self.health = ReaderHealth()
        #: The current session got as far as SELECT (resets the reconnect backoff).
        self._selected = False
        #: After a UIDVALIDITY change: \\Seen mails up to this UID are not taken in again,
        self._recover_upto = 0
        #: nor \\Seen mails dated (INTERNALDATE) before the change was seen: those a restore
        #: still running brings back after the first look at the new mailbox.
        self._recover_before: datetime | None = None
        #: Set after every completed sync (tests and the benchmark wait on it).
        self.synced = asyncio.Event()
        #: One replica at a time reads the mailbox (issue 11).
        self.lease = MailboxLease(lambda: self.store, self._position_key(),
                                  settings.lease_seconds)

    @property
    def store(self) -> Store:
        return self.app[STORE]

    def expected_interval(self) -> float:
        """Seconds within which a healthy loop completes a step: an IDLE round (or a poll)
        plus two command timeouts for the sync after it."""
        wait = (self.tuning.idle_renew + self.tuning.idle_watchdog if self.health.idle
                else self.settings.poll_interval)
        return wait + 2 * self.tuning.imap_timeout

    def report(self) -> dict[str, Any]:
        """For /readyz (see `ReaderHealth.report`)."""
        return self.health.report(self.expected_interval(), self.lease, self.settings.mailbox,
                                  self.settings.max_waiting_seconds)

    async def run(self) -> None:
        """Forever: hold the mailbox lease, and read the mailbox for as long as it is held."""
        while True:
            await self.lease.acquire()
            self.health.started_at = utcnow()  # staleness counts from the start of this turn
            reading = asyncio.create_task(self._read(), name="email-imap-read")
            try:
                await self.lease.keep()
            finally:
                await stop_task(reading)
            self._failed("mailbox lease lost: another replica may read it now")

    async def _read(self) -> None:
        """Forever: connect, catch up, wait for news; on any failure back off and reconnect."""
        delay = self.tuning.reconnect_min
        while True:
            self._selected = False
            refused = False
            try:
                await self._session()
            except ConnectionRefusedError as exc:  # nothing listens: the server is down
                refused = True
                self._failed(f"{type(exc).__name__}: {exc}")
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
            wait = backoff_wait(delay)
            log.warning("email.imap.reconnecting", delay=round(wait, 2),
                        error=self.health.last_error)
            await back_off(wait, host=self.settings.imap_host, port=self.settings.imap_port,
                           probe_every=self.tuning.reconnect_probe if refused else 0.0)
            delay = min(delay * 2, self.tuning.reconnect_max)

    def _failed(self, error: str) -> None:
        self.health.connected = False
        self.health.idle = self.health.syncing = False
        self.health.last_error = error[:500]
        self.health.last_error_at = utcnow()

    async def _session(self) -> None:
        context = None
        if self.settings.imap_security != "plain":
            context = self.tuning.imap_ssl_context or tls_context(self.settings.imap_security)
        session, status = await ImapSession.connect(
            self.settings, ssl_context=context, command_timeout=self.tuning.imap_timeout
        )
        try:
            self.health.connected = True
            self._selected = True
            if self.settings.after_ingest == "move":
                await session.ensure_mailbox(self.settings.processed_mailbox)
            # A catch-up after every (re)connect: whatever arrived meanwhile, however much
            # (lessons §3, reliability §5-6: no date or count window).
            await self._sync(session, status)
            use_idle = self.settings.idle and session.supports_idle
            self.health.idle = use_idle
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

        Before each window of at most `WINDOW` mails the UIDs above the position are
        listed again (`UID SEARCH`): that is how far behind the loop is (`Backlog`), and
        mail that arrived during a long catch-up is taken in too; the sync ends when the
        listing finds nothing above the position.
        """
        self.health.syncing = True
        backlog = self.health.backlog
        cursor = await self._position(status)
        while True:
            waiting = await session.waiting(cursor)
            backlog.listed(status.uidvalidity, cursor, waiting)
            if not waiting:
                break
            upto = waiting[min(WINDOW, len(waiting)) - 1]
            listed = await session.pending(cursor, upto)
            backlog.dated({p.uid: p.internal_date for p in listed if p.internal_date})
            pending = [p for p in listed if not self._handled_before_reset(p)]
            for batch in batches(pending):
                bodies = await session.fetch(batch)
                done = await self._take_in(bodies, batch, status.uidvalidity)
                # Once per batch (one IMAP round trip, one commit, not two per mail):
                # a crash before these lines fetches the batch again, and the mails
                # already stored are recognised by their Message-ID (issue 21).
                if done:
                    await self._done_on_server(session, done)
                await self._advance(status.uidvalidity, batch[-1])
            if (self.health.last_uid or 0) < upto:
                # UIDs only grow: nothing can appear at or below `upto` any more.
                await self._advance(status.uidvalidity, upto)
            cursor = upto
            self.health.last_progress = utcnow()
        self.health.last_success = self.health.last_progress = utcnow()
        self.health.syncing = False
        self.synced.set()

    def _handled_before_reset(self, mail: Pending) -> bool:
        """A read mail that was in the mailbox before its UIDVALIDITY changed: old mail."""
        if not mail.seen:
            return False
        if mail.uid <= self._recover_upto:
            return True
        return (self._recover_before is not None and mail.internal_date is not None
                and mail.internal_date < self._recover_before)

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
        them all lost every unread mail in the mailbox). "Read" is `\\Seen` up to the
        UIDNEXT of that moment, or `\\Seen` with an INTERNALDATE before it: a restore still
        running brings old read mail back later, under new UIDs, with its old dates.
        """
        saved = await self.store.get_state(self._position_key())
        if saved and saved.get("uidvalidity") == status.uidvalidity:
            last_uid = int(saved["last_uid"])
            self._recover_upto = int(saved.get("recover_upto", 0))
            before = saved.get("recover_before")
            self._recover_before = datetime.fromisoformat(before) if before else None
        elif not saved:
            last_uid, self._recover_upto, self._recover_before = status.uidnext - 1, 0, None
            log.warning("email.imap.baseline", mailbox=self.settings.mailbox,
                        uidvalidity=status.uidvalidity, skipped_existing=status.exists,
                        resume_after_uid=last_uid)
        else:
            last_uid = 0
            # Read mails up to here were handled before (or by a person): not again; nor
            # read mails dated before now that a restore in progress adds later.
            seen_mode = self.settings.after_ingest == "seen"
            self._recover_upto = status.uidnext - 1 if seen_mode else 0
            self._recover_before = utcnow() if seen_mode else None
            log.warning("email.imap.uidvalidity_changed", mailbox=self.settings.mailbox,
                        uidvalidity=status.uidvalidity,
                        previous_uidvalidity=saved.get("uidvalidity"),
                        rescanning=status.exists, skipping_seen_upto=self._recover_upto)
        if saved is None or saved.get("uidvalidity") != status.uidvalidity:
            await self._save_position(status.uidvalidity, last_uid)
        self.health.uidvalidity, self.health.last_uid = status.uidvalidity, last_uid
        return last_uid

    async def _advance(self, uidvalidity: int, uid: int) -> None:
        """Commit the position after a mail (or a window) is done."""
        await self._save_position(uidvalidity, uid)
        self.health.last_uid = uid
        self.health.backlog.advanced(uid)

    async def _save_position(self, uidvalidity: int, uid: int) -> None:
        position: dict[str, int | str] = {"uidvalidity": uidvalidity, "last_uid": uid}
        if uid < self._recover_upto:
            position["recover_upto"] = self._recover_upto
        if self._recover_before is not None:
            position["recover_before"] = self._recover_before.isoformat()
        await self.store.set_state(self._position_key(), position)

    async def _done_on_server(self, session: ImapSession, uids: list[int]) -> None:
        if self.settings.after_ingest == "move":
            await session.move(uids, self.settings.processed_mailbox)
        else:
            await session.mark_seen(uids)

    async def _take_in(self, bodies: dict[int, bytes], batch: list[int],
                       uidvalidity: int) -> list[int]:
        """Ingest a fetched batch in UID order; the UIDs committed (not quarantined).

        The worker process parses the next mails while one is stored (`ParseAhead`):
        parsing and the store's work overlap instead of taking turns (issue 21).
        """
        uids = [uid for uid in batch if uid in bodies]
        done: list[int] = []
        if self.tuning.parse_ahead <= 0:
            return [uid for uid in uids if await self._process(bodies[uid], uidvalidity, uid)]
        async with ParseAhead(self.intake.parse, [bodies[uid] for uid in uids],
                              self.tuning.parse_ahead, self.intake.parse_many) as ahead:
            for index, uid in enumerate(uids):
                if await self._process(bodies[uid], uidvalidity, uid, ahead.parsed(index)):
                    done.append(uid)
        return done

    async def _process(self, raw: bytes, uidvalidity: int, uid: int,
                       parsed: Awaitable[ParsedMail] | None = None) -> bool:
        """Ingest one mail (`parsed`: its parse under way); True when committed, False
        when quarantined.

        Store errors propagate (the database is down: retry the same mail later rather
        than quarantine good mail); anything else about this mail quarantines it.
        """
        try:
            async with asyncio.timeout(self.tuning.message_budget):
                result = await self.intake.ingest(raw, parsed)
        except StoreError:
            raise
        except Exception as exc:  # one bad mail must not block the inbox (zammad#2754)
            await self._quarantine(raw, f"{type(exc).__name__}: {exc}",
                                   {"mailbox": self.settings.mailbox,
                                    "uidvalidity": uidvalidity, "uid": uid})
            self.health.backlog.taken_in(uid)
            return False
        log.info("email.ingested", uid=uid, result=result)
        self.health.backlog.taken_in(uid)
        return True

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
        self.health.quarantined = len(index)
        log.error("email.quarantined", id=entry_id, error=error[:200])
