"""SLA escalation by e-mail: a breach (or warning), and a bad satisfaction score, is mailed
to `[email] escalate_to`, in `[email] escalate_language` (else the desk's default).

The SLA watcher publishes each alarm once across all gateway processes (see
gateway/sla/watcher.py), so each is mailed once. Escalation mail is internal and stamped
`Auto-Submitted: auto-generated` (RFC 3834 §5) so no auto-responder answers it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

import structlog

from connectors.email.compose import new_message_id
from connectors.email.smtp import SmtpSender
from gateway.config.channels import EmailSettings
from gateway.console.i18n import N_, translator
from gateway.errors import DeliveryError

log = structlog.get_logger(__name__)
#: Says a console msgid in the escalation mails' language.
Say = Callable[[str], str]


def escalation_mail(note: dict[str, Any], settings: EmailSettings, recipient: str,
                    public_url: str, domain: str, say: Say) -> EmailMessage:
    breached = note["type"] == "sla.breached"
    clock = str(note.get("clock", "")).replace("_", " ")
    message = _internal(settings, recipient, domain)
    values = {"ticket": note["ticket_id"], "clock": clock,
              "priority": note.get("priority", ""), "queue": note.get("queue", ""),
              "due": str(note.get("due", ""))[:16].replace("T", " "),
              "supervisors": ", ".join(note.get("supervisors") or []) or say(N_("none"))}
    message["Subject"] = say(
        N_("[#%(ticket)s] SLA breached: %(clock)s (%(priority)s, %(queue)s)") if breached
        else N_("[#%(ticket)s] SLA warning: %(clock)s (%(priority)s, %(queue)s)")) % values
    body = say(N_("Ticket #%(ticket)s: the %(clock)s target was due %(due)s UTC.") if breached
               else N_("Ticket #%(ticket)s: the %(clock)s target is due %(due)s UTC.")) % values
    body += "\n" + say(N_("Queue: %(queue)s, priority %(priority)s, supervisors:"
                          " %(supervisors)s.")) % values
    message.set_content(f"{body}\n\n{_link(public_url, note)}\n")
    return message


def bad_score_mail(note: dict[str, Any], settings: EmailSettings, recipient: str,
                   public_url: str, domain: str, say: Say) -> EmailMessage:
    """A customer's bad satisfaction score, for the supervisors (docs/reports.md)."""
    message = _internal(settings, recipient, domain)
    values = {"ticket": note["ticket_id"], "score": note.get("score"),
              "queue": note.get("queue", "")}
    message["Subject"] = say(N_("[#%(ticket)s] Bad satisfaction score: %(score)s/5"
                                " (%(queue)s)")) % values
    body = say(N_("Ticket #%(ticket)s (queue %(queue)s) was rated %(score)s of 5.")) % values
    comment = str(note.get("comment") or "").strip()
    if comment:
        body += "\n\n" + say(N_("The customer wrote:")) + f"\n{comment}"
    message.set_content(f"{body}\n\n{_link(public_url, note)}\n")
    return message


def _internal(settings: EmailSettings, recipient: str, domain: str) -> EmailMessage:
    """An internal mail, stamped so that no auto-responder answers it."""
    message = EmailMessage()
    message["From"] = formataddr((settings.display_name, settings.address))
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = new_message_id(domain or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    return message


def _link(public_url: str, note: dict[str, Any]) -> str:
    return f"{public_url.rstrip('/')}/console/tickets/{note['ticket_id']}"


#: What is mailed to `escalate_to`, per notification type.
_MAILS = {"sla.warning": escalation_mail, "sla.breached": escalation_mail,
          "csat.bad_score": bad_score_mail}


async def follow(feed: asyncio.Queue[dict[str, Any]], sender: SmtpSender,
                 settings: EmailSettings, public_url: str, domain: str,
                 language: str) -> None:
    """Mail every SLA alarm and bad satisfaction score published on the Hub's
    "notifications" topic, in `language` (the console's catalogues).

    `domain` is the support address's, as the connector derived it, for Message-IDs.
    """
    say = translator(language).gettext
    while True:
        note = await feed.get()
        compose = _MAILS.get(str(note.get("type")))
        if compose is None:
            continue
        for recipient in settings.escalate_to:
            try:
                await sender.send(compose(note, settings, recipient, public_url, domain, say),
                                  settings.address, recipient)
            except DeliveryError as exc:  # best effort: the console and audit trail have it
                log.warning("email.escalation_failed", ticket_id=note.get("ticket_id"),
                            error=str(exc))
