"""The audit trail as an operator reads it: labels for events, details without internal ids,
assignees by name and due times in the desk's time zone."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.console.pages import UTC_ZONE, when
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
    "ticket.created": "Ticket created",
    "ticket.assigned": "Taken",
    "ticket.replied": "Operator replied",
    "ticket.note": "Internal note",
    "ticket.closed": "Closed",
    "ticket.reopened": "Reopened",
    "ticket.transferred": "Transferred",
    "ticket.released": "Back to the queue (operator deactivated)",
    "ticket.open": "Set to open",
    "ticket.pending": "Set to pending (waiting on the customer)",
    "ticket.solved": "Set to solved",
    "ticket.merged": "Merged into another ticket",
    "ticket.merged_from": "Another ticket merged into this one",
    "ticket.split": "Messages split off to a new ticket",
    "ticket.split_from": "Split off another ticket",
    "answer.helpful": "Customer found the answer helpful",
    "delivery.failed": "Delivery failed",
    "delivery.uncertain": "Delivery uncertain",
    "delivery.resending": "Delivery uncertain: sent once more (same Message-ID)",
    "delivery.retried": "Resend requested",
    "message.automated": "Automated message ignored",
    "sla.warning": "SLA warning",
    "sla.breached": "SLA breached",
    "ticket.updated": "Details corrected",
    "ticket.tagged": "Tags changed",
    "email.bounce": "E-mail bounced",
    "email.attachment_too_large": "Attachment too large to keep",
    "verification.failed": "Identity verification failed",
    "verification.succeeded": "Identity verified",
    "customer.erased": "Customer data erased",
    "csat.sent": "Satisfaction survey sent",
    "csat.answered": "Customer answered the satisfaction survey",
    "csat.bad_score": "Bad satisfaction score: supervisors alerted",
}


def event_label(event_type: str) -> str:
    """What an operator reads for an event: a label, never the raw `ticket.updated`."""
    known = _EVENT_LABELS.get(event_type)
    if known is not None:
        return known
    words = event_type.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _shown(value: Any) -> str:
    """A value in the trail: nothing set reads "not set", never "None"."""
    return "not set" if value in (None, "") else str(value)


#: Internal ids in event data that mean nothing to an operator.
_HIDDEN_DETAILS = frozenset({"message_id", "outbox_id", "survey_id"})


def _detail(key: str, value: Any, names: dict[int, str], zone: ZoneInfo) -> str:
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        before, after = value["from"], value["to"]
        if key == "assignee_id":
            before = names.get(before, "nobody") if before else "nobody"
            after = names.get(after, "nobody") if after else "nobody"
        return f"{key.removesuffix('_id')}: {_shown(before)} → {_shown(after)}"
    if isinstance(value, list):
        return f"{key}: {', '.join(str(v) for v in value)}"
    if key == "due" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return f"due: {when(codec.parse_ts(value), zone)}"
    return f"{key}: {value}"


def audit_item(event: Event, names: dict[int, str], zone: ZoneInfo = UTC_ZONE) -> AuditItem:
    data = dict(event.data)
    note = str(data.pop("text", "")) if event.type == "ticket.note" else None
    details = [_detail(k, v, names, zone) for k, v in data.items()
               if k not in _HIDDEN_DETAILS and v not in (None, "", [], {})]
    return AuditItem(created_at=event.created_at, actor=event.actor,
                     label=event_label(event.type), details=details, note=note)
