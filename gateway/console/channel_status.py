"""Which channels are not working, said on every console page (issue 11).

A mailbox that stopped being read loses nothing (the mail waits on the server), but the
customers wait too: the operators must see it where they work, not only a probe in
`/readyz`. The figures are the channels' own health reports, the ones /readyz and
/metrics show, read from memory on each page (no query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gateway.channels import Connector, health_of

#: How the console names a channel.
LABELS = {"email": "E-mail", "webchat": "Web chat", "slack": "Slack", "api": "REST API"}

#: What a state means to an operator.
STATES = {
    "disconnected": "cannot reach its server",
    "stale": "has stopped checking for new messages",
    "standby": "read by another replica",
    "syncing": "catching up",
    "idle": "connected, waiting for new messages",
    "polling": "connected, checking regularly",
}


@dataclass(frozen=True)
class ChannelStatus:
    name: str
    label: str
    ok: bool
    #: What the channel is doing, in words (empty for a channel without a remote service).
    doing: str
    #: Since when nothing completed, e.g. "14 min"; empty when unknown or recent.
    quiet_for: str
    last_error: str | None
    #: The mailbox or workspace the channel reads, when it says.
    source: str


def statuses(connectors: dict[str, Connector]) -> list[ChannelStatus]:
    """Every channel, those not working first."""
    found = [_status(name, health_of(connector)) for name, connector in connectors.items()]
    return sorted(found, key=lambda status: (status.ok, status.label))


def problems(connectors: dict[str, Connector]) -> list[ChannelStatus]:
    return [status for status in statuses(connectors) if not status.ok]


def _status(name: str, report: dict[str, Any]) -> ChannelStatus:
    since = report.get("seconds_since_sync")
    quiet = (_duration(float(since))
             if isinstance(since, int | float) and since >= 60 else "")
    error = report.get("last_error")
    return ChannelStatus(
        name=name, label=LABELS.get(name, name), ok=bool(report.get("ok", True)),
        doing=STATES.get(str(report.get("state", "")), str(report.get("state", ""))),
        quiet_for=quiet, last_error=str(error)[:300] if error else None,
        source=str(report.get("mailbox", "")),
    )


def _duration(seconds: float) -> str:
    span = timedelta(seconds=int(seconds))
    if span < timedelta(hours=1):
        return f"{span.seconds // 60} min"
    if span < timedelta(days=2):
        return f"{int(span.total_seconds() // 3600)} h {span.seconds % 3600 // 60} min"
    return f"{span.days} days"
