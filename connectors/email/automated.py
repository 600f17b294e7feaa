"""Recognise mail written by machines, so that the gateway never answers it.

Answering auto-replies, bounces and list mail is how mail loops start (zammad#1131,
#5428, #4941). The rules are RFC 3834 §2 ("where to send automatic responses" and,
by implication, where not to) plus the de-facto headers and subjects that common
mailers use. Bounces themselves are read by bounce.py.
"""

from __future__ import annotations

import re
from email.message import Message

from connectors.email.bounce import Bounce, delivery_status_part, is_daemon, ses_notification
from connectors.email.headers import HEADER_ERRORS, content_type, header_text, raw_header

_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_LIST_HEADERS = ("List-Id", "List-Unsubscribe")
#: Subjects of auto-replies sent without any RFC 3834 header (Exchange, Gmail, Zimbra…).
_AUTOREPLY_SUBJECT = re.compile(
    r"^\s*(?:\[?auto(?:matic|matische|matisch)?[- ]?(?:reply|response|antwort|antwoord"
    r"|respuesta|risposta|svar)\b|out of (?:the )?office|réponse automatique"
    r"|abwesenheitsnotiz|autosvar)",
    re.IGNORECASE,
)
#: ARF (RFC 5965) reports that arrive without their multipart/report wrapper.
_FEEDBACK_TYPE = re.compile(r"^Feedback-Type:\s*\S", re.IGNORECASE | re.MULTILINE)
_MAX_FEEDBACK_SCAN = 20_000
#: Hotmail's JMRP complaint reports forward the mail under this subject.
_COMPLAINT_SUBJECT = re.compile(r"^\s*complaint about message from\b", re.IGNORECASE)
_SES_KINDS = {"Complaint": "feedback", "Delivery": "delivered", "Bounce": "bounce"}


def automated_reason(msg: Message, from_address: str | None, bounce: Bounce | None = None,
                     text: str = "") -> str | None:
    """Why `msg` looks machine-generated, or None for a human mail.

    Checked in this order, first match wins (RFC 3834 §2 lists these signals):
    "bounce" (a bounce read by bounce.py, first because it must be recognised as one to
    suppress a dead address), "receipt" / "feedback" / "delivered" (other reports),
    "auto-submitted", "precedence", "autoreply" (headers or subject), "loop", "list",
    "null-sender", then "daemon" for other mail from mailer-daemon@ (a postmaster@ mail
    with no bounce in it is a human's).
    """
    if bounce is not None:
        return "bounce"
    report = _report_kind(msg, text)
    if report is not None:
        return report
    auto_submitted = _token(header_text(msg, "Auto-Submitted"))
    if auto_submitted and auto_submitted != "no":  # RFC 3834 §5: anything but "no"
        return "auto-submitted"
    if _token(header_text(msg, "Precedence")) in _PRECEDENCE:  # RFC 3834 §2, de facto
        return "precedence"
    if any(raw_header(msg, name) is not None for name in _AUTOREPLY_HEADERS):
        return "autoreply"
    if _AUTOREPLY_SUBJECT.match((header_text(msg, "Subject") or "")[:200]):
        return "autoreply"
    if raw_header(msg, "X-Loop") is not None:
        return "loop"
    if any(raw_header(msg, name) is not None for name in _LIST_HEADERS):  # RFC 2369/2919
        return "list"
    return_path = raw_header(msg, "Return-Path")
    if return_path is not None and return_path.replace(" ", "") == "<>":
        return "null-sender"  # RFC 5321 §4.5.5: notifications use the null reverse-path
    if is_daemon(from_address) and not str(from_address).startswith("postmaster@"):
        return "daemon"
    return None


def _token(value: str | None) -> str | None:
    """The first token of a header such as `auto-replied; owner-email=...`, lower-cased."""
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def _report_kind(msg: Message, text: str) -> str | None:
    """Reports that are not bounces: read receipts (RFC 8098), abuse feedback (RFC 5965),
    delivery notifications ("delivered", 2.x.x, RFC 3464)."""
    if content_type(msg) == "multipart/report":
        try:
            kind = str(msg.get_param("report-type", "") or "").lower()
        except HEADER_ERRORS:
            kind = ""
        if kind == "disposition-notification":
            return "receipt"
        if kind == "feedback-report":
            return "feedback"
        return "delivered" if delivery_status_part(msg) is not None else "report"
    if _FEEDBACK_TYPE.search(text[:_MAX_FEEDBACK_SCAN]):
        return "feedback"
    if _COMPLAINT_SUBJECT.match((header_text(msg, "Subject") or "")[:200]):
        return "feedback"
    notification = ses_notification(text)
    if notification is not None:  # Amazon SES: complaints, deliveries
        return _SES_KINDS.get(str(notification.get("notificationType")), "report")
    if delivery_status_part(msg) is not None:
        return "delivered"
    return None
