"""Turn the raw bytes of one inbound mail into a `ParsedMail`, whatever state they are in.

One unparseable mail must not block an inbox (zammad#2754), so nothing here raises on
bad input: malformed headers fall back to their raw text, bad charsets to a decoding
that works, broken MIME to what the parser recovered, and every problem is listed in
`ParsedMail.defects`. Pure functions, no network: the IMAP fetcher calls
`parse_message` and decides what to do with the result.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser

from connectors.email.automated import automated_reason
from connectors.email.bounce import Bounce, read_bounce
from connectors.email.headers import (
    HEADER_ERRORS,
    address_list,
    content_type,
    decode_bytes,
    header_text,
    message_ids,
    normalise_message_id,
    one_line,
    raw_header,
    strict_address,
)
from connectors.email.htmltext import html_to_text
from connectors.email.quotes import strip_reply

#: Deeper MIME trees are not walked (cpython#75630-style resource exhaustion); real mail
#: rarely nests more than five levels.
MAX_DEPTH = 20
#: References kept per mail: the newest ones are the ones that thread (RFC 5322 §3.6.4).
MAX_REFERENCES = 100

#: X-Auto-Response-Suppress values that ask for no automatic answer ([MS-OXCMAIL]
#: 2.2.3.2.14); "DR", "RN"... only concern delivery and read receipts.
_SUPPRESS_ANSWERS = {"all", "oof", "autoreply"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    #: None when `too_large`: the mail is still processed, the file is not kept.
    data: bytes | None
    too_large: bool


@dataclass(frozen=True)
class ParsedMail:
    """One inbound mail, normalised. `defects` lists everything that had to be repaired."""

    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_address: str | None
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: str | None
    subject: str
    date: datetime | None
    text: str
    new_text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    automated: str | None
    bounce: Bounce | None
    auto_response_suppress: bool
    defects: tuple[str, ...]
    raw: bytes = field(repr=False)


def parse_message(
    raw: bytes, *, max_attachment_bytes: int = 10 * 1024 * 1024, max_parts: int = 200
) -> ParsedMail:
    """Parse one mail. Never raises on malformed input; see `ParsedMail.defects`."""
    defects: list[str] = []
    msg = _parse_bytes(raw, defects)
    walker = _Walker(max_attachment_bytes, max_parts, defects)
    body = walker.render(msg, depth=0)
    text = body.text.strip()
    if not text:
        defects.append("no readable text body")
    from_address, from_name = strict_address(msg, "From", defects)
    reply_to, _ = strict_address(msg, "Reply-To", defects)
    bounce = read_bounce(msg, text, from_address)
    return ParsedMail(
        message_id=normalise_message_id(header_text(msg, "Message-ID", defects))
        or _hash_id(msg, raw),
        in_reply_to=message_ids(raw_header(msg, "In-Reply-To")),
        references=message_ids(raw_header(msg, "References"))[-MAX_REFERENCES:],
        from_address=from_address,
        from_name=one_line(from_name),
        to=address_list(msg, "To", defects),
        cc=address_list(msg, "Cc", defects),
        reply_to=reply_to,
        subject=one_line(header_text(msg, "Subject", defects) or ""),
        date=_date(header_text(msg, "Date", defects), defects),
        text=text,
        new_text=strip_reply(text),
        html=body.html,
        attachments=tuple(walker.attachments),
        automated=automated_reason(msg, from_address, bounce, text),
        bounce=bounce,
        auto_response_suppress=_suppresses_answers(raw_header(msg, "X-Auto-Response-Suppress")),
        defects=tuple(_defect_text(d) for d in defects),
        raw=raw,
    )


_HEADER_LINE = re.compile(rb"^(?:[!-9;-~]+[ \t]*:|[ \t])")


def _repair_header_block(raw: bytes, defects: list[str]) -> bytes:
    """Drop non-header lines that sit between headers.

    The standard parser ends the header block at the first such line and reads every
    later header as body text (MissingHeaderBodySeparatorDefect), which loses the
    MIME structure of the whole mail. Junk after the last header is left alone: that
    is a body whose blank separator line is missing, and the parser reads it as such.
    """
    match = re.search(rb"\r?\n\r?\n", raw)
    if match is None:
        return raw
    lines = raw[: match.start()].splitlines(keepends=True)
    is_header = [bool(_HEADER_LINE.match(line)) for line in lines]
    last = max((i for i, ok in enumerate(is_header) if ok), default=-1)
    kept = [line for i, line in enumerate(lines) if is_header[i] or i > last]
    if len(kept) == len(lines):
        return raw
    defects.append(f"{len(lines) - len(kept)} malformed header line(s) dropped")
    head = b"".join(kept).rstrip(b"\r\n")
    return head + raw[match.start() :]


def _parse_bytes(raw: bytes, defects: list[str]) -> Message:
    raw = _repair_header_block(raw, defects)
    try:
        return email.message_from_bytes(raw, policy=email.policy.default)
    except RecursionError:
        # The feed parser recurses once per nesting level: a hostile tree exhausts the
        # stack. Keep the headers and read the body as text.
        defects.append("MIME nesting too deep for the parser; body read as plain text")
        return BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)


def _hash_id(msg: Message, raw: bytes) -> str:
    """A stable id for mail without a usable Message-ID (chatwoot#9069).

    Built from the sender's headers and the body only, so that the same mail fetched
    twice (with different Received: trace headers) gets the same id.
    """
    _, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        _, sep, body = raw.partition(b"\n\n")
    digest = hashlib.sha256()
    for name in ("From", "To", "Cc", "Date", "Subject"):
        digest.update((raw_header(msg, name) or "").encode("utf-8", "surrogateescape") + b"\0")
    digest.update(body)
    return f"<{digest.hexdigest()}@hash.invalid>"


def _defect_text(defect: str) -> str:
    """Defects quote raw input and end up in logs: one line, valid UTF-8, bounded."""
    text = defect.encode("utf-8", "backslashreplace").decode("utf-8")
    return one_line(text)[:300]


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("Date: unparseable, ignored")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _suppresses_answers(value: str | None) -> bool:
    if value is None:
        return False
    return bool({v.strip().lower() for v in value.split(",")} & _SUPPRESS_ANSWERS)


@dataclass
class _Rendered:
    text: str = ""
    html: str | None = None
    #: The text came from a text/plain part (preferred over HTML in alternatives).
    plain: bool = False


class _Walker:
    """Walks the MIME tree once, within bounds, collecting readable text and attachments."""

    def __init__(self, max_attachment_bytes: int, max_parts: int, defects: list[str]) -> None:
        self.max_attachment_bytes = max_attachment_bytes
        self.max_parts = max_parts
        self.defects = defects
        self.attachments: list[Attachment] = []
        self.parts = 0
        self.truncated = False

    def render(self, part: Message, depth: int) -> _Rendered:
        self.parts += 1
        if self.parts > self.max_parts or depth > MAX_DEPTH:
            if not self.truncated:
                self.truncated = True
                self.defects.append("MIME tree too large or too deep; remaining parts skipped")
            return _Rendered()
        self.defects.extend(f"MIME: {type(d).__name__}: {d}" for d in part.defects)
        ctype = content_type(part)
        maintype = ctype.partition("/")[0]
        if ctype == "message/rfc822" and isinstance(part.get_payload(), list):
            return self._forwarded(part, depth)
        if maintype == "message":  # delivery-status, disposition-notification...
            self._attach(part, ctype)
            return _Rendered()
        if part.is_multipart():
            return self._multipart(part, ctype, depth)
        if maintype != "multipart" and _is_attachment(part, ctype):
            self._attach(part, ctype)
            return _Rendered()
        content = self._decode(part)
        if ctype == "text/html":
            return _Rendered(html_to_text(content), content, plain=False)
        # text/plain, and multiparts whose boundary was never found (payload is text).
        return _Rendered(content, None, plain=True)

    def _multipart(self, part: Message, ctype: str, depth: int) -> _Rendered:
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype == "multipart/report" and children:
            # RFC 6522: the first part is for humans; the status and the returned mail
            # are machine data, kept as attachments.
            first = self.render(children[0], depth + 1)
            for child in children[1:]:
                self._attach(child, content_type(child))
            return first
        rendered = [self.render(child, depth + 1) for child in children]
        html = "\n".join(r.html for r in rendered if r.html) or None
        if ctype == "multipart/alternative":
            # RFC 2046 §5.1.4: alternatives of one content; prefer the plain text, else
            # the last (richest) alternative that has any text.
            with_text = [r for r in rendered if r.text.strip()]
            plain = [r for r in with_text if r.plain]
            chosen = plain[0] if plain else (with_text[-1] if with_text else _Rendered())
            return _Rendered(chosen.text, html, chosen.plain)
        text = "\n\n".join(r.text.strip() for r in rendered if r.text.strip())
        return _Rendered(text, html, any(r.plain for r in rendered))

    def _forwarded(self, part: Message, depth: int) -> _Rendered:
        """A message/rfc822 part: its text is kept, under a Gmail-style forward marker."""
        inner = part.get_payload(0)
        if not isinstance(inner, Message):  # pragma: no cover - the caller checked the payload
            return _Rendered()
        rendered = self.render(inner, depth + 1)
        lines = ["---------- Forwarded message ----------"]
        for name in ("From", "Date", "Subject", "To"):
            value = header_text(inner, name)
            if value:
                lines.append(f"{name}: {one_line(value)}")
        text = "\n".join(lines) + "\n\n" + rendered.text.strip()
        return _Rendered(text, rendered.html, rendered.plain)

    def _decode(self, part: Message) -> str:
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return ""
        text, defect = decode_bytes(data, _param(part, "charset"))
        if defect:
            self.defects.append(defect)
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def _attach(self, part: Message, ctype: str) -> None:
        data = _part_bytes(part)
        too_large = len(data) > self.max_attachment_bytes
        self.attachments.append(
            Attachment(
                filename=_filename(part, ctype, len(self.attachments) + 1),
                content_type=ctype,
                size=len(data),
                data=None if too_large else data,
                too_large=too_large,
            )
        )


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except HEADER_ERRORS:
        return None
    return email.utils.collapse_rfc2231_value(value) if value else None


def _is_attachment(part: Message, ctype: str) -> bool:
    try:
        disposition = part.get_content_disposition()
    except HEADER_ERRORS:
        disposition = None
    return disposition == "attachment" or ctype not in ("text/plain", "text/html")


def _part_bytes(part: Message) -> bytes:
    """A part's decoded content; whole sub-messages are kept as their raw bytes."""
    if not part.is_multipart():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            return data
    # compat32 serialises without refolding, so it cannot raise on bad headers.
    return part.as_bytes(policy=email.policy.compat32)


_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f]+")


def _filename(part: Message, ctype: str, number: int) -> str:
    """The declared file name without path parts or control characters, or a made-up one."""
    try:
        name = part.get_filename() or ""
    except HEADER_ERRORS:
        name = ""
    name = re.split(r"[/\\]", str(name))[-1]  # a name, never a path (../../etc/...)
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    if name:
        return name[:255]
    return f"attachment-{number}{mimetypes.guess_extension(ctype) or '.bin'}"
