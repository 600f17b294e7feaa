"""The audit trail as an operator reads it: labels for events, details without internal ids,
assignees by name and due times in the desk's time zone."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.console.i18n import N_, _
from gateway.console.labels import label
from gateway.console.pages import UTC_ZONE, when
from gateway.console.sla import CLOCK_LABELS
from gateway.models import Event
from gateway.store import codec


@dataclass(frozen=True)
class AuditItem:
    created_at: datetime
    actor: str
    label: str
    details: list[str]
    note: str | None = None


_EVENT_LABELS = {
    "ticket.created": N_("Ticket created"),
    "ticket.assigned": N_("Taken"),
    "ticket.replied": N_("Operator replied"),
    "ticket.note": N_("Internal note"),
    "ticket.closed": N_("Closed"),
    "ticket.reopened": N_("Reopened"),
    "ticket.transferred": N_("Transferred"),
    "ticket.released": N_("Back to the queue (operator deactivated)"),
    "ticket.open": N_("Set to open"),
    "ticket.pending": N_("Set to pending (waiting on the customer)"),
    "ticket.solved": N_("Set to solved"),
    "ticket.merged": N_("Merged into another ticket"),
    "ticket.merged_from": N_("Another ticket merged into this one"),
    "ticket.split": N_("Messages split off to a new ticket"),
    "ticket.split_from": N_("Split off another ticket"),
    "answer.helpful": N_("Customer found the answer helpful"),
    "delivery.failed": N_("Delivery failed"),
    "delivery.uncertain": N_("Delivery uncertain"),
    "delivery.resending": N_("Delivery uncertain: sent once more (same Message-ID)"),
    "delivery.retried": N_("Resend requested"),
    "message.automated": N_("Automated message ignored"),
    "sla.warning": N_("SLA warning"),
    "sla.breached": N_("SLA breached"),
    "ticket.updated": N_("Details corrected"),
    "ticket.tagged": N_("Tags changed"),
    "email.bounce": N_("E-mail bounced"),
    "email.attachment_too_large": N_("Attachment too large to keep"),
    "verification.failed": N_("Identity verification failed"),
    "verification.succeeded": N_("Identity verified"),
    "customer.erased": N_("Customer data erased"),
    "csat.sent": N_("Satisfaction survey sent"),
    "csat.answered": N_("Customer answered the satisfaction survey"),
    "csat.bad_score": N_("Bad satisfaction score: supervisors alerted"),
}


def event_label(event_type: str) -> str:
    """What an operator reads for an event: a label, never the raw `ticket.updated`."""
    known = _EVENT_LABELS.get(event_type)
    if known is not None:
        return _(known)
    words = event_type.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _shown(value: Any) -> str:
    """A value in the trail: nothing set reads "not set", never "None"."""
    return _("not set") if value in (None, "") else str(value)


#: What a detail's key is called in the trail; a key without a name is shown as it is.
_DETAIL_NAMES = {"priority": N_("priority"), "subject": N_("subject"),
                 "category": N_("category"), "assignee": N_("assignee"), "queue": N_("queue"),
                 "status": N_("status"), "outcome": N_("outcome"), "summary": N_("summary"),
                 "reason": N_("reason"), "tags": N_("tags"), "due": N_("due"),
                 "clock": N_("clock"), "added": N_("added"), "removed": N_("removed")}
#: Details whose values are stable codes, shown by their label.
_CODED = {"status": "status", "outcome": "outcome", "category": "purpose"}


def _name(key: str) -> str:
    known = _DETAIL_NAMES.get(key)
    return _(known) if known is not None else key


def _value(key: str, value: Any) -> str:
    if key in _CODED and value not in (None, ""):
        return label(value, _CODED[key])
    return _shown(value)


#: Internal ids in event data that mean nothing to an operator.
_HIDDEN_DETAILS = frozenset({"message_id", "outbox_id", "survey_id"})


def _said(key: str, value: str) -> str:
    """"queue: general → sales"; French puts a space before the colon."""
    return _("%(name)s: %(value)s") % {"name": _name(key), "value": value}


def _detail(key: str, value: Any, names: dict[int, str], zone: ZoneInfo) -> str:
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        before, after = value["from"], value["to"]
        if key == "assignee_id":
            before = names.get(before, _("nobody")) if before else _("nobody")
            after = names.get(after, _("nobody")) if after else _("nobody")
        key = key.removesuffix("_id")
        return _said(key, f"{_value(key, before)} → {_value(key, after)}")
    if isinstance(value, list):
        return _said(key, ", ".join(str(v) for v in value))
    if key == "due" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return _said(key, when(codec.parse_ts(value), zone))
    if key == "clock" and isinstance(value, str):
        return _said(key, _(CLOCK_LABELS[value]) if value in CLOCK_LABELS else value)
    return _said(key, _value(key, value))


def audit_item(event: Event, names: dict[int, str], zone: ZoneInfo = UTC_ZONE) -> AuditItem:
    data = dict(event.data)
    note = str(data.pop("text", "")) if event.type == "ticket.note" else None
    details = [_detail(k, v, names, zone) for k, v in data.items()
               if k not in _HIDDEN_DETAILS and v not in (None, "", [], {})]
    return AuditItem(created_at=event.created_at, actor=event.actor,
                     label=event_label(event.type), details=details, note=note)
