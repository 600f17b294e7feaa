"""Read bounces, with or without a delivery-status part, and say whether the address is dead.

A third of real bounces carry no RFC 3464 `message/delivery-status` part (Exim, qmail,
Gmail, Yahoo, Google Groups…): they are recognised by who sent them and what they say,
and the failed recipient and status are read from the text. Whether to stop writing to
the address depends on the reason, not on the class of the status code: a full mailbox,
greylisting, a rate limit, a policy or spam block or an authentication failure (5.2.2,
5.7.26…) says nothing about the address, and only "no such user" / "no such domain"
(and "moved", "accepts no mail") suppresses it; bounce_reason.py reads the reason. A
bounce for several recipients is read for the one it reports. Every scan is bounded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from email.message import Message
from typing import Any

from connectors.email import bounce_reason
from connectors.email.headers import (
    HEADER_ERRORS,
    content_type,
    decode_bytes,
    header_text,
    normalise_message_id,
    raw_header,
)

#: Message parts inspected when looking for delivery-status reports (bounded walk).
_MAX_PARTS = 200
#: Bounce text read for the recipient, status and reason: the explanation is at the top.
MAX_BOUNCE_TEXT = 20_000
#: Longest JSON notification (Amazon SES) decoded.
_MAX_JSON = 200_000

_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail-delivery",
            "mail-delivery-subsystem", "noreply-mailer-daemon", "bounce", "bounces"}
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not delivered|delivery (?:status notification \(failure|fail"
    r"|has failed|problem|error|notification: delivery has failed)|returned mail"
    r"|returned to sender|mail delivery (?:failed|failure|system)|failure notice"
    r"|could not send|delivery failure|nondeliver|non-deliver|unzustellbar|non remis"
    r"|onbestelbaar|unable to deliver|mail system error|rejected|delayed mail"
    r"|warning: could not|message (?:status|delivery) |undeliverable",
    re.IGNORECASE,
)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|were not delivered"
    r"|delivery to the following recipient|delivery has failed|permanent (?:fatal )?error"
    r"|permanent failure|i'm sorry to have to inform you|i'm afraid i wasn't able"
    r"|this is the qmail-send program|created automatically by mail delivery software"
    r"|unable to deliver|undeliverable|failed to deliver|message you sent .{0,40}could not"
    r"|following address(?:es)? had (?:permanent )?(?:fatal )?errors|address(?:es)? failed"
    r"|recipient address rejected|user unknown|delivery failed|returned to sender"
    r"|your message (?:to .{0,80})?(?:wasn't|was not|couldn't be|could not be) delivered"
    r"|the email account that you tried to reach|message not delivered"
    r"|delivery (?:attempts|temporarily) |has been delayed|will be retried",
    re.IGNORECASE,
)
#: Where the returned copy of the original mail starts in a text bounce.
_RETURNED = re.compile(
    r"^[ \t>-]*(?:-{2,}.{0,40}(?:original message|copy of|returned message|below this line)"
    r"|original message follows|message headers follow|this is a copy of|here is a copy"
    r"|included below is a copy|content-description: undelivered message"
    r"|-{3,} ?(?:the )?header of the original|received: from )",
    re.IGNORECASE | re.MULTILINE,
)
_RETURNED_ID = re.compile(r"^[ \t>]*Message-ID:[ \t]*(<[^<>\s]{1,250}>)", re.I | re.M)
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_CODE = re.compile(r"(?<![\d.])([45])\d\d(?:[ -]|$)", re.MULTILINE)
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
_FAILED_LINE = re.compile(r"^[ \t]*[<\"]?(" + _ADDRESS.pattern + r")[>\"]?[ \t]*(?::|$)",
                          re.MULTILINE)

@dataclass(frozen=True)
class Bounce:
    """A mail about a mail that did not arrive (RFC 3464 report or a mailer's text)."""

    recipient: str | None
    status: str | None
    #: 5.x.x: the server will not retry (RFC 3463 §3.1). Not the same as a dead address.
    permanent: bool
    #: The address itself is dead (no such user or domain): stop writing to it.
    hard: bool = False
    #: Why, in sisimai's vocabulary (userunknown, mailboxfull, blocked...), or None.
    reason: str | None = None
    #: Message-ID of the returned copy quoted in a text bounce (threads it to its ticket).
    returned_message_id: str | None = None


def is_daemon(address: str | None) -> bool:
    """mailer-daemon@, postmaster@ and their kin: the senders of bounces (and of replies
    from a human postmaster, which is why the sender alone never makes a bounce)."""
    return bool(address) and str(address).partition("@")[0].lower() in _DAEMONS


def read_bounce(msg: Message, text: str, from_address: str | None) -> Bounce | None:
    """The bounce `msg` is, or None. `text` is the readable body (see parse.py)."""
    part = delivery_status_part(msg)
    explanation = _explanation(text)
    notification = ses_notification(text)
    if notification is not None:
        return _from_ses(notification)
    if part is not None:
        return _from_report(part, explanation)
    if content_type(msg) == "multipart/report":
        if _report_type(msg) != "delivery-status":
            return None  # a read receipt or a feedback report, not a bounce
    else:
        subject = header_text(msg, "Subject") or ""
        machine = (is_daemon(from_address) or from_address is None or _null_sender(msg)
                   or raw_header(msg, "X-Failed-Recipients") is not None)
        if not machine or not (_BOUNCE_SUBJECT.search(subject[:300])
                               or _BOUNCE_BODY.search(explanation)):
            return None
    recipient = _failed_recipient(msg, explanation, from_address)
    bounce = _verdict(recipient, _status(_section(explanation, recipient)), "", explanation)
    returned = _RETURNED_ID.search(text, len(explanation), len(explanation) + MAX_BOUNCE_TEXT)
    if returned is None:
        return bounce
    return replace(bounce, returned_message_id=normalise_message_id(returned.group(1)))


def ses_notification(text: str) -> dict[str, Any] | None:
    """An Amazon SES notification (JSON, often inside an SNS envelope), or None."""
    head = text.lstrip()[:_MAX_JSON]
    if not head.startswith("{") or '"notificationType"' not in head.replace('\\"', '"'):
        return None
    try:
        # raw_decode: SNS mails put an "If you wish to stop receiving…" footer after it;
        # strict=False: sendmail splits lines over 990 characters with "!\n " inside strings.
        decoder = json.JSONDecoder(strict=False)
        data, _ = decoder.raw_decode(head)
        if isinstance(data, dict) and isinstance(data.get("Message"), str):
            data, _ = decoder.raw_decode(data["Message"])  # the SNS envelope
    except ValueError:
        return None
    return data if isinstance(data, dict) and "notificationType" in data else None


def _from_ses(data: dict[str, Any]) -> Bounce | None:
    """SES "Bounce" notifications are bounces; "Complaint" and "Delivery" are not."""
    if data.get("notificationType") != "Bounce" or not isinstance(data.get("bounce"), dict):
        return None
    bounce = data["bounce"]
    recipients = bounce.get("bouncedRecipients") or [{}]
    first = recipients[0] if isinstance(recipients[0], dict) else {}
    diagnostic = str(first.get("diagnosticCode") or "")
    status = str(first.get("status") or "") or _status(diagnostic)
    if not status:
        status = "5.0.0" if bounce.get("bounceType") == "Permanent" else "4.0.0"
    address = str(first.get("emailAddress") or "").lower() or None
    return _verdict(address, status, f"{diagnostic}\n{bounce.get('bounceSubType', '')}")


def _report_type(msg: Message) -> str:
    try:
        return str(msg.get_param("report-type", "") or "").lower()
    except HEADER_ERRORS:
        return ""


def _null_sender(msg: Message) -> bool:
    return_path = raw_header(msg, "Return-Path")
    return return_path is not None and return_path.replace(" ", "") == "<>"


def _explanation(text: str) -> str:
    """The mailer's own words: the bounce text before the returned copy of the mail."""
    head = text[:MAX_BOUNCE_TEXT]
    match = _RETURNED.search(head, 40)
    return head[: match.start()] if match else head


def delivery_status_part(msg: Message) -> Message | None:
    for count, part in enumerate(msg.walk()):
        if count >= _MAX_PARTS:
            return None
        if content_type(part) == "message/delivery-status":
            return part
    return None


def _delivered(block: dict[str, str]) -> bool:
    action = block.get("action", "").lower()
    return action in ("delivered", "relayed", "expanded") or (
        not action and block.get("status", "").startswith("2"))


def _from_report(part: Message, explanation: str) -> Bounce | None:
    """The failed recipient and status of a DSN (RFC 3464 §2.3)."""
    blocks = _status_blocks(part)
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    if not recipients:
        return _verdict(None, _status(explanation), "", explanation)
    # Report the first recipient that failed; a DSN may also list delayed or delivered ones.
    failed = [b for b in recipients if b.get("action", "").lower() == "failed"]
    if not failed and all(_delivered(b) for b in recipients):
        return None  # a delivery notification (2.x.x, RFC 3464 "delivered"/"relayed")
    block = (failed or recipients)[0]
    recipient = _recipient(block.get("final-recipient") or block.get("original-recipient"))
    found = _STATUS.search(block.get("status") or "")
    status = found.group(0) if found else None
    diagnostic = block.get("diagnostic-code", "")
    said = _status(diagnostic)
    if status is None and block.get("action", "").lower() == "failed":
        status = said or _status(_section(explanation, recipient)) or "5.0.0"
    elif status and status.endswith(".0.0") and said and said[0] == status[0]:
        status = said  # "Status: 5.0.0" with "550 5.1.1 …" in the diagnostic
    return _verdict(recipient, status, diagnostic, explanation)


def _verdict(recipient: str | None, status: str | None, diagnostic: str,
             explanation: str = "") -> Bounce:
    """Permanent by the status class; the reason from the report's own diagnostic, else
    from what the explanation says about this recipient; hard by the reason."""
    permanent = bool(status and status.startswith("5"))
    about = f"{diagnostic}\n{_section(explanation, recipient)}"[:MAX_BOUNCE_TEXT]
    stage = bounce_reason.command(about)
    found = (bounce_reason.reason(status, diagnostic[:MAX_BOUNCE_TEXT], stage)
             if diagnostic.strip() else None)
    if found is None or found == bounce_reason.status_reason(status):
        found = bounce_reason.reason(status, about, stage)
    return Bounce(recipient=recipient, status=status, permanent=permanent,
                  hard=bounce_reason.is_hard(found, permanent, status), reason=found)


def _section(explanation: str, recipient: str | None) -> str:
    """The explanation's words about one recipient: a bounce for several addresses
    ("<a@x>: … user unknown", "<b@x>: … mailbox full") gives each its own lines."""
    if not recipient:
        return explanation
    lines = list(_FAILED_LINE.finditer(explanation))
    if len({m.group(1).lower() for m in lines}) < 2:
        return explanation
    own = next((i for i, m in enumerate(lines) if m.group(1).lower() == recipient), None)
    if own is None:
        return explanation
    start = lines[own].start()
    end = next((m.start() for m in lines[own + 1 :] if m.group(1).lower() != recipient),
               len(explanation))
    return explanation[: lines[0].start()] + explanation[start:end]


def _status(text: str) -> str | None:
    """The first enhanced status code (RFC 3463) in the text that says more than its class
    (5.1.1 rather than 5.0.0), else any, else one derived from an SMTP reply code."""
    codes = [m.group(0) for m in _STATUS.finditer(text)]
    specific = [c for c in codes if not c.endswith(".0.0")]
    if codes:
        return (specific or codes)[0]
    code = _SMTP_CODE.search(text)
    return f"{code.group(1)}.0.0" if code else None


def _failed_recipient(msg: Message, explanation: str, sender: str | None) -> str | None:
    """Exim's X-Failed-Recipients, else the first address the explanation puts on a line
    of its own ("<user@x>:", qmail, Postfix, Exim), else the first address it names."""
    header = raw_header(msg, "X-Failed-Recipients")
    if header:
        found = _ADDRESS.search(header)
        if found:
            return found.group(0).lower()
    ignored = {sender or "", (raw_header(msg, "To") or "").lower()}
    for pattern in (_FAILED_LINE, _ADDRESS):
        for match in pattern.finditer(explanation):
            address = (match.group(1) if match.groups() else match.group(0)).lower()
            if address not in ignored and not is_daemon(address) and address not in ignored:
                if not any(address in x for x in ignored):
                    return address
    return None


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
    for chunk in text[:MAX_BOUNCE_TEXT].replace("\r\n", "\n").split("\n\n"):
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
