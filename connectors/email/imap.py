"""One IMAP session on one mailbox: select, list new UIDs, fetch, flag or move, IDLE.

Only UID commands are used (reliability §2, zammad#1662: sequence numbers shift when
another client expunges). Fetches use BODY.PEEK[] so that reading a mail never marks it
\\Seen: the connector flags it explicitly after the commit (reliability §1). No decision
about what a mail means is taken here.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import aioimaplib

from gateway.config.channels import EmailSettings

#: Server pushes that mean "the mailbox changed" (RFC 3501 §7.3-7.4) or "going away".
_CHANGED = re.compile(rb"\b(EXISTS|RECENT|EXPUNGE)\b")
_BYE = re.compile(rb"^\s*BYE\b")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_UID_LIST = re.compile(rb"(?:SEARCH)?[\d ]*")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FETCH_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_FETCH_DATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                       "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
#: UIDs listed per UID FETCH of sizes: aioimaplib parses each answer line in one more
#: level of recursion, so an unbounded `n:*` over a backlog of ~1,000 mails raises
#: RecursionError inside its reader and the command never ends (issue 11).
WINDOW = 200
#: Mails fetched per UID FETCH: bounded by count and by size, so a run of 10 MB mails is
#: never held in memory together.
BATCH_COUNT = 50
BATCH_BYTES = 8 * 1024 * 1024


T = TypeVar("T")


class ImapError(Exception):
    """The server refused a command or the session broke; the caller reconnects."""


@dataclass(frozen=True)
class MailboxStatus:
    uidvalidity: int
    #: The UID the next mail will get (RFC 3501 §2.3.1.1); UIDNEXT - 1 is "everything so far".
    uidnext: int
    exists: int


@dataclass(frozen=True)
class Pending:
    """A mail newer than the last committed UID, not fetched yet."""

    uid: int
    size: int
    seen: bool = False
    #: When the server says the mail arrived (RFC 3501 INTERNALDATE; a restore keeps it).
    internal_date: datetime | None = None


def quote_mailbox(name: str) -> str:
    """A mailbox name as an IMAP quoted string (RFC 3501 §4.3); aioimaplib sends args raw."""
    if any(c in name for c in "\r\n\0"):
        raise ValueError(f"unusable mailbox name: {name!r}")
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tls_context(security: str) -> ssl.SSLContext | None:
    """The TLS context for `imap_security`; None for plain IMAP."""
    # aioimaplib (2.0) has no STARTTLS command, so the settings only offer tls and plain.
    return ssl.create_default_context() if security == "tls" else None


class ImapSession:
    """A logged-in session with `mailbox` selected. Open with `connect`, end with `close`."""

    def __init__(self, client: aioimaplib.IMAP4, mailbox: str, timeout: float) -> None:
        self.client = client
        self.mailbox = mailbox
        #: Seconds any one command may take before the session is declared dead.
        self.timeout = timeout
        #: Set when the connection goes away or the server says BYE: every wait ends at once.
        self.lost = asyncio.Event()
        self.lost_reason = ""
        _watch_bye(client, self)

    def _lose(self, reason: str) -> None:
        if not self.lost.is_set():
            self.lost_reason = reason
            self.lost.set()

    @classmethod
    async def connect(
        cls, settings: EmailSettings, *, ssl_context: ssl.SSLContext | None, command_timeout: float
    ) -> tuple[ImapSession, MailboxStatus]:
        """Connect, log in and select; raise `ImapError`, `OSError` or `TimeoutError`."""
        sessions: list[ImapSession] = []
        client = aioimaplib.IMAP4(
            host=settings.imap_host,
            port=settings.imap_port,
            timeout=command_timeout,
            conn_lost_cb=lambda exc: sessions[0]._lose(f"connection lost ({exc or 'EOF'})"),
            ssl_context=ssl_context,
        )
        session = cls(client, settings.mailbox, command_timeout)
        sessions.append(session)
        try:
            await session._wait("greeting", client.wait_hello_from_server())
            await session._command("LOGIN", client.login(
                settings.imap_user, settings.imap_password.get_secret_value()))
            status = await session.select()
        except BaseException:
            session.abort()
            raise
        return session, status

    async def _wait(self, what: str, step: Awaitable[T]) -> T:
        """One step of the session, given up at once when the connection is lost or the
        server says BYE, and after `timeout` seconds: a hang or a cut mid-command becomes
        an error the caller reconnects on, never a silent wait (issue 11)."""
        task = asyncio.ensure_future(step)
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait({task, lost}, timeout=self.timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task.cancelled() or not task.done():
            if self.lost.is_set():
                raise ImapError(f"{what}: {self.lost_reason}")
            raise TimeoutError(f"{what}: no answer within {self.timeout:g} s")
        return task.result()

    async def _command(self, what: str, step: Awaitable[aioimaplib.Response]
                       ) -> aioimaplib.Response:
        return _check(await self._wait(what, step), what)

    async def select(self) -> MailboxStatus:
        response = await self._command("SELECT", self.client.select(quote_mailbox(self.mailbox)))
        validity = _search(_UIDVALIDITY, response.lines)
        uidnext = _search(_UIDNEXT, response.lines)
        if validity is None:
            raise ImapError(f"SELECT {self.mailbox!r} gave no UIDVALIDITY")
        if uidnext is None:  # optional before RFC 9051; STATUS always has it
            status = await self._command(
                "STATUS", self.client.status(quote_mailbox(self.mailbox), "(UIDNEXT)"))
            uidnext = _search(re.compile(rb"UIDNEXT (\d+)"), status.lines) or 1
        return MailboxStatus(validity, uidnext, aioimaplib.extract_exists(response) or 0)

    async def waiting(self, after: int) -> list[int]:
        """Every UID above `after` now, oldest first (`UID SEARCH UID after+1:*`).

        One answer line however many mails (aioimaplib recurses per line, not per UID,
        see `WINDOW`). `n:*` also matches the newest mail when it is below `n` (RFC 3501
        §6.4.4: a range is unordered), so the UIDs are filtered.
        """
        response = await self._command("UID SEARCH", self.client.uid_search(
            "UID", f"{after + 1}:*", charset=None))
        found: set[int] = set()
        for line in response.lines:
            # aioimaplib hands `* SEARCH 4 5 6` over as `4 5 6`; an unsolicited `7 EXISTS`
            # or FETCH among the lines has words in it, the tagged OK too.
            if isinstance(line, bytes) and _UID_LIST.fullmatch(line):
                found.update(int(n) for n in line.split() if n.isdigit())
        return sorted(uid for uid in found if uid > after)

    async def pending(self, after: int, upto: int) -> list[Pending]:
        """Mails with a UID in `after+1..upto`, oldest first, with size, \\Seen flag and
        INTERNALDATE.

        The caller keeps `upto - after` at most `WINDOW`: see there.
        """
        response = await self._command("UID FETCH", self.client.uid(
            "fetch", f"{after + 1}:{upto}", "(UID FLAGS RFC822.SIZE INTERNALDATE)"))
        found: dict[int, Pending] = {}
        for line in response.lines:
            if not isinstance(line, bytes):
                continue
            uid, size = _search(_FETCH_UID, [line]), _search(_FETCH_SIZE, [line])
            flags = _FETCH_FLAGS.search(line)
            date = _FETCH_DATE.search(line)
            if uid is not None and size is not None and after < uid <= upto:
                found[uid] = Pending(uid, size, bool(flags and b"\\Seen" in flags.group(1)),
                                     internal_date(date.group(1)) if date else None)
        return [found[uid] for uid in sorted(found)]

    async def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The raw bytes of each mail (BODY.PEEK[]: reading does not set \\Seen).

        A UID missing from the answer was expunged meanwhile; the caller skips it.
        """
        response = await self._command(
            "UID FETCH", self.client.uid("fetch", _uid_set(uids), "(UID BODY.PEEK[])"))
        return dict(_literals(response.lines))

    async def mark_seen(self, uids: list[int]) -> None:
        await self._command("UID STORE", self.client.uid("store", _uid_set(uids),
                                                         "+FLAGS.SILENT (\\Seen)"))

    async def move(self, uids: list[int], target: str) -> None:
        """RFC 6851 MOVE, or COPY + \\Deleted + UID EXPUNGE (RFC 4315) without it."""
        uid_set = _uid_set(uids)
        if self.client.has_capability("MOVE"):
            await self._command("UID MOVE",
                                self.client.uid("move", uid_set, quote_mailbox(target)))
            return
        await self._command("UID COPY", self.client.uid("copy", uid_set, quote_mailbox(target)))
        await self._command("UID STORE",
                            self.client.uid("store", uid_set, "+FLAGS.SILENT (\\Deleted)"))
        await self._command("UID EXPUNGE", self.client.uid("expunge", uid_set))

    async def ensure_mailbox(self, name: str) -> None:
        """Create `name` if missing (the target of `after_ingest = "move"`)."""
        response = await self._wait("CREATE", self.client.create(quote_mailbox(name)))
        if response.result != "OK" and b"ALREADYEXISTS" not in b" ".join(
            line for line in response.lines if isinstance(line, bytes)
        ):
            raise ImapError(f"CREATE {name!r} failed: {_text(response)}")

    @property
    def supports_idle(self) -> bool:
        return self.client.has_capability("IDLE")

    async def idle(self, renew: float, watchdog: float) -> bool:
        """Wait in IDLE (RFC 2177) until the mailbox changes or `renew` seconds pass.

        Returns True when the server reported a change. A lost connection or `* BYE` (a
        server shutting down) ends the wait at once with `ImapError`; DONE is only sent on
        a live session and its answer awaited like any command. The whole exchange also
        runs under a watchdog: a silently dropped connection sends no signal at all, and
        `idle_start` can hang when the server answers `* BYE` (aioimaplib#110).
        """
        async with asyncio.timeout(renew + watchdog):
            idle = await self._wait("IDLE", self.client.idle_start(timeout=renew))
            try:
                push = asyncio.ensure_future(self.client.wait_server_push(timeout=renew + 1))
                lost = asyncio.ensure_future(self.lost.wait())
                try:
                    await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    lost.cancel()
                    if not push.done():
                        push.cancel()
                lines = (push.result() if push.done() and not push.cancelled()
                         and push.exception() is None else [])
                if isinstance(lines, list) and any(_BYE.search(bytes(line)) for line in lines):
                    self._lose("server said BYE during IDLE")
                if self.lost.is_set():
                    raise ImapError(f"IDLE: {self.lost_reason}")
                return isinstance(lines, list) and any(_CHANGED.search(bytes(line))
                                                       for line in lines)
            finally:
                if self.client.has_pending_idle() and not self.lost.is_set():
                    self.client.idle_done()
                    await self._wait("DONE", idle)

    def abort(self) -> None:
        """Drop the connection now, also when it is still being opened."""
        connecting = self.client._client_task  # aioimaplib exposes no public handle
        if not connecting.done():
            connecting.cancel()
        transport = self.client.protocol.transport if self.client.protocol else None
        if transport is not None:
            transport.close()
        # An IDLE interrupted inside `idle_start` leaves its helper tasks waiting forever.
        for task in (*self.client.tasks, *self.client.protocol.tasks):
            task.cancel()


def _watch_bye(client: aioimaplib.IMAP4, session: ImapSession) -> None:
    """Tell `session` when the server says `* BYE` (RFC 3501 §7.1.5: it is closing the
    connection), whatever command is running: the pending command would otherwise wait
    for a tagged answer that never comes. aioimaplib has no hook, so its untagged-line
    handler is wrapped on this one client."""
    protocol = client.protocol
    handle = protocol._untagged_response

    def untagged(line: bytes) -> object:
        if _BYE.search(line[1:] if line.startswith(b"*") else line):
            session._lose("server said BYE: " + line.decode("utf-8", "replace")[:200])
        return handle(line)

    protocol._untagged_response = untagged  # type: ignore[method-assign]


def _check(response: aioimaplib.Response, command: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise ImapError(f"{command} failed: {response.result} {_text(response)}")
    return response


def internal_date(text: bytes) -> datetime | None:
    """`b" 2-Dec-2026 13:20:01 +0100"` as an aware datetime; None when unreadable (the
    month names are RFC 3501's, whatever the process locale)."""
    try:
        date, clock, zone = text.decode("ascii").split()
        day, month, year = date.split("-")
        hour, minute, second = (int(part) for part in clock.split(":"))
        sign = -1 if zone[0] == "-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
        return datetime(int(year), _MONTHS[month], int(day), hour, minute, second,
                        tzinfo=timezone(offset))
    except (ValueError, KeyError, IndexError, UnicodeDecodeError):
        return None


def _text(response: aioimaplib.Response) -> str:
    last = response.lines[-1] if response.lines else b""
    return bytes(last).decode("utf-8", "replace")[:200]


def _search(pattern: re.Pattern[bytes], lines: list[bytes]) -> int | None:
    for line in lines:
        if isinstance(line, bytes):
            match = pattern.search(line)
            if match:
                return int(match.group(1))
    return None


def _uid_set(uids: list[int]) -> str:
    """`[1, 2, 3, 7]` -> `1:3,7`: short command lines for big batches."""
    parts: list[str] = []
    start = previous = uids[0]
    for uid in uids[1:]:
        if uid == previous + 1:
            previous = uid
            continue
        parts.append(f"{start}:{previous}" if start != previous else str(start))
        start = previous = uid
    parts.append(f"{start}:{previous}" if start != previous else str(start))
    return ",".join(parts)


def _literals(lines: list[bytes]) -> Iterator[tuple[int, bytes]]:
    """(UID, body) pairs from a UID FETCH answer, whichever side of the literal UID is on.

    aioimaplib gives `b'n FETCH (UID u BODY[] {size}'`, then the literal as a bytearray,
    then `b' UID u)'` or `b')'`. Unsolicited FETCH lines (flag changes by other clients)
    carry no literal and are skipped.
    """
    uid: int | None = None
    body: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            body = bytes(line)
            continue
        if b"FETCH (" in line:
            if uid is not None and body is not None:
                yield uid, body
            uid, body = _search(_FETCH_UID, [line]), None
        elif uid is None:
            uid = _search(_FETCH_UID, [line])
    if uid is not None and body is not None:
        yield uid, body


def batches(pending: list[Pending]) -> Iterator[list[int]]:
    """UIDs grouped for fetching: at most BATCH_COUNT mails or BATCH_BYTES per batch."""
    batch: list[int] = []
    size = 0
    for mail in pending:
        if batch and (len(batch) >= BATCH_COUNT or size + mail.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(mail.uid)
        size += mail.size
    if batch:
        yield batch
