"""Recognise mail written by machines, so that the gateway never answers it.

Answering auto-replies, bounces and list mail is how mail loops start (zammad#1131,
#5428, #4941). The rules are RFC 3834 §2 ("where to send automatic responses" and,
by implication, where not to) plus the de-facto headers that common mailers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from connectors.email.headers import (
    HEADER_ERRORS,
    content_type,
    decode_bytes,
    header_text,
    raw_header,
)

#: Message parts inspected when looking for delivery-status reports (bounded walk).
_MAX_PARTS = 200

_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_LIST_HEADERS = ("List-Id", "List-Unsubscribe")
_DAEMONS = {"mailer-daemon", "postmaster"}


@dataclass(frozen=True)
class Bounce:
    """A delivery status notification (RFC 3464) about a mail that did not arrive."""

    recipient: str | None
    status: str | None
    #: 5.x.x: the address is dead, stop writing to it (RFC 3463 §3.1).
    permanent: bool


def automated_reason(msg: Message, from_address: str | None) -> str | None:
    """Why `msg` looks machine-generated, or None for a human mail.

    Checked in this order, first match wins (RFC 3834 §2 lists these signals):
    "bounce" / "receipt" (delivery or read reports, first because a bounce must be
    recognised as one to suppress the dead address), "auto-submitted", "precedence",
    "autoreply", "loop", "list", "null-sender", then "bounce" again for mail from
    mailer-daemon@ or postmaster@.
    """
    report = _report_kind(msg)
    if report is not None:
        return report
    auto_submitted = _token(header_text(msg, "Auto-Submitted"))
    if auto_submitted and auto_submitted != "no":  # RFC 3834 §5: anything but "no"
        return "auto-submitted"
    if _token(header_text(msg, "Precedence")) in _PRECEDENCE:  # RFC 3834 §2, de facto
        return "precedence"
    if any(raw_header(msg, name) is not None for name in _AUTOREPLY_HEADERS):
        return "autoreply"
    if raw_header(msg, "X-Loop") is not None:
        return "loop"
    if any(raw_header(msg, name) is not None for name in _LIST_HEADERS):  # RFC 2369/2919
        return "list"
    return_path = raw_header(msg, "Return-Path")
    if return_path is not None and return_path.replace(" ", "") == "<>":
        return "null-sender"  # RFC 5321 §4.5.5: notifications use the null reverse-path
    if from_address and from_address.partition("@")[0].lower() in _DAEMONS:
        return "bounce"  # non-RFC 3464 bounces still come from these mailboxes
    return None


def _token(value: str | None) -> str | None:
    """The first token of a header such as `auto-replied; owner-email=...`, lower-cased."""
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def _report_kind(msg: Message) -> str | None:
    """ "receipt" for read receipts (RFC 8098), "bounce" for delivery reports (RFC 3464)."""
    if content_type(msg) == "multipart/report":
        try:
            kind = str(msg.get_param("report-type", "") or "").lower()
        except HEADER_ERRORS:
            kind = ""
        return "receipt" if kind == "disposition-notification" else "bounce"
    if _delivery_status_part(msg) is not None:
        return "bounce"
    return None


def _delivery_status_part(msg: Message) -> Message | None:
    for count, part in enumerate(msg.walk()):
        if count >= _MAX_PARTS:
            return None
        if content_type(part) == "message/delivery-status":
            return part
    return None


def parse_bounce(msg: Message) -> Bounce | None:
    """The failed recipient and status of a DSN (RFC 3464 §2.3), or None if `msg` is not one."""
    part = _delivery_status_part(msg)
    if part is None:
        return None
    blocks = _status_blocks(part)
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    if not recipients:
        return Bounce(recipient=None, status=None, permanent=False)
    # Report the first recipient that failed; a DSN may also list delayed or delivered ones.
    failed = [b for b in recipients if b.get("action", "").lower() == "failed"]
    block = (failed or recipients)[0]
    recipient = _recipient(block.get("final-recipient") or block.get("original-recipient"))
    status = (block.get("status") or "").split(" ", 1)[0] or None
    permanent = status.startswith("5") if status else block.get("action", "") == "failed"
    return Bounce(recipient=recipient, status=status, permanent=permanent)


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The per-message and per-recipient field groups of a message/delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [
            {key.lower(): (header_text(block, key) or "").strip() for key in block.keys()}
            for block in payload
            if isinstance(block, Message)
        ]
    # Encoded or oddly formatted reports are not split by the parser: read the text.
    data = part.get_payload(decode=True)
    text = decode_bytes(data)[0] if isinstance(data, bytes) else str(payload)
    blocks: list[dict[str, str]] = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in chunk.split("\n"):
            key, colon, value = line.partition(":")
            if colon and key.strip() and not key[0].isspace():
                fields[key.strip().lower()] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _recipient(value: str | None) -> str | None:
    """`rfc822; user@example.org` -> `user@example.org` (RFC 3464 §2.3.2 address-type)."""
    if not value:
        return None
    address = value.split(";", 1)[-1].strip().strip("<>").strip()
    return address.lower() or None
