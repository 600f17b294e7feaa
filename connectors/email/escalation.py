"""SLA escalation by e-mail: a breach (or warning), and a bad satisfaction score, is mailed
to `[email] escalate_to`.

The SLA watcher publishes each alarm once across all gateway processes (see
gateway/sla/watcher.py), so each is mailed once. Escalation mail is internal and stamped
`Auto-Submitted: auto-generated` (RFC 3834 §5) so no auto-responder answers it.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

import structlog

from connectors.email.compose import new_message_id
from connectors.email.smtp import SmtpSender
from gateway.config.channels import EmailSettings
from gateway.errors import DeliveryError

log = structlog.get_logger(__name__)


def escalation_mail(note: dict[str, Any], settings: EmailSettings, recipient: str,
                    public_url: str, domain: str) -> EmailMessage:
    breached = note["type"] == "sla.breached"
    clock = str(note.get("clock", "")).replace("_", " ")
    message = EmailMessage()
    message["From"] = formataddr((settings.display_name, settings.address))
    message["To"] = recipient
    message["Subject"] = (f"[#{note['ticket_id']}] SLA {'breached' if breached else 'warning'}:"
                          f" {clock} ({note.get('priority', '')}, {note.get('queue', '')})")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = new_message_id(domain or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    supervisors = ", ".join(note.get("supervisors") or []) or "none"
    message.set_content(
        f"Ticket #{note['ticket_id']}: the {clock} target "
        f"{'was' if breached else 'is'} due {str(note.get('due', ''))[:16].replace('T', ' ')}"
        f" UTC.\nQueue: {note.get('queue', '')}, priority {note.get('priority', '')}, "
        f"supervisors: {supervisors}.\n\n{public_url.rstrip('/')}/console/tickets/"
        f"{note['ticket_id']}\n")
    return message


def bad_score_mail(note: dict[str, Any], settings: EmailSettings, recipient: str,
                   public_url: str, domain: str) -> EmailMessage:
    """A customer's bad satisfaction score, for the supervisors (docs/reports.md)."""
    message = EmailMessage()
    message["From"] = formataddr((settings.display_name, settings.address))
    message["To"] = recipient
    message["Subject"] = (f"[#{note['ticket_id']}] Bad satisfaction score: {note.get('score')}/5"
                          f" ({note.get('queue', '')})")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = new_message_id(domain or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    comment = str(note.get("comment") or "").strip()
    message.set_content(
        f"Ticket #{note['ticket_id']} (queue {note.get('queue', '')}) was rated "
        f"{note.get('score')} of 5.\n" + (f"\nThe customer wrote:\n{comment}\n" if comment else "")
        + f"\n{public_url.rstrip('/')}/console/tickets/{note['ticket_id']}\n")
    return message


#: What is mailed to `escalate_to`, per notification type.
_MAILS = {"sla.warning": escalation_mail, "sla.breached": escalation_mail,
          "csat.bad_score": bad_score_mail}


async def follow(feed: asyncio.Queue[dict[str, Any]], sender: SmtpSender,
                 settings: EmailSettings, public_url: str, domain: str) -> None:
    """Mail every SLA alarm and bad satisfaction score published on the Hub's
    "notifications" topic.

    `domain` is the support address's, as the connector derived it, for Message-IDs.
    """
    while True:
        note = await feed.get()
        compose = _MAILS.get(str(note.get("type")))
        if compose is None:
            continue
        for recipient in settings.escalate_to:
            try:
                await sender.send(compose(note, settings, recipient, public_url, domain),
                                  settings.address, recipient)
            except DeliveryError as exc:  # best effort: the console and audit trail have it
                log.warning("email.escalation_failed", ticket_id=note.get("ticket_id"),
                            error=str(exc))
