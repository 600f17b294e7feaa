"""What an inbound mail says about the conversation it belongs to.

Only facts are extracted here; deciding whether the sender may join that conversation
(reliability.md §16, lessons §2: a stranger quoting "[#123]" gets a new ticket) is the
core's job. Named `mailthread` so that it never shadows the standard `threading`.
"""

from __future__ import annotations

import re

from connectors.email.parse import ParsedMail

#: Reply/forward prefixes of common mailers: English, French (TR = transféré), German
#: (AW = Antwort, WG = Weitergeleitet), Dutch (Antw, Doorst), Nordic (SV, VS).
_PREFIX = re.compile(
    r"^\s*(?:re|fw|fwd|tr|aw|wg|antw|doorst|sv|vs)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)


def _tag(prefix: str) -> re.Pattern[str]:
    # 18 digits at most: a ticket number, never an arbitrarily large integer.
    return re.compile(r"\[\s*" + re.escape(prefix) + r"\s*(\d{1,18})\s*\]")


def subject_ticket_ref(subject: str, prefix: str = "#") -> int | None:
    """The ticket number of the first "[#1234]" tag anywhere in the subject."""
    match = _tag(prefix).search(subject)
    return int(match.group(1)) if match else None


def clean_subject(subject: str, prefix: str = "#") -> str:
    """The subject without reply/forward prefixes and without the ticket tag."""
    text = _tag(prefix).sub(" ", subject)
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def thread_candidates(mail: ParsedMail) -> tuple[str, ...]:
    """Message-IDs to look up, most reliable first.

    The References chain, newest first, then In-Reply-To: Outlook rewrites In-Reply-To
    while keeping References (chatwoot#10028, lessons §1), so References is the stronger
    signal and In-Reply-To only a fallback.
    """
    ordered: list[str] = []
    for message_id in (*reversed(mail.references), *mail.in_reply_to):
        if message_id not in ordered:
            ordered.append(message_id)
    return tuple(ordered)
