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

from babel.dates import format_timedelta

from gateway.channels import Connector, health_of
from gateway.console.i18n import N_, Np_, _, format_locale, ngettext

#: How the console names a channel.
LABELS = {"email": N_("E-mail"), "webchat": N_("Web chat"), "slack": "Slack",
          "api": N_("REST API")}

#: How far behind a mailbox is (`behind`, `oldest_waiting_seconds` of its report).
WAITING = Np_("%(num)d mail waiting, the oldest for %(duration)s",
              "%(num)d mails waiting, the oldest for %(duration)s")

#: What a state means to an operator.
STATES = {
    "disconnected": N_("cannot reach its server"),
    "stale": N_("has stopped checking for new messages"),
    "stuck": N_("has mail waiting but is not taking any in"),
    "behind": N_("is taking mail in, but is behind"),
    "standby": N_("read by another replica"),
    "syncing": N_("catching up"),
    "idle": N_("connected, waiting for new messages"),
    "polling": N_("connected, checking regularly"),
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
    #: "1204 mails waiting, the oldest for 9 min"; empty unless one waited a minute.
    waiting: str = ""


def statuses(connectors: dict[str, Connector]) -> list[ChannelStatus]:
    """Every channel, those not working first."""
    found = [_status(name, health_of(connector)) for name, connector in connectors.items()]
    return sorted(found, key=lambda status: (status.ok, status.label))


def problems(connectors: dict[str, Connector]) -> list[ChannelStatus]:
    return [status for status in statuses(connectors) if not status.ok]


def _status(name: str, report: dict[str, Any]) -> ChannelStatus:
    """In the request's language (labels and states are translated here)."""
    state = str(report.get("state", ""))
    since = report.get("seconds_since_sync")
    quiet = (_duration(float(since))
             if isinstance(since, int | float) and since >= 60 else "")
    error = report.get("last_error")
    return ChannelStatus(
        name=name, label=_(LABELS[name]) if name in LABELS else name,
        ok=bool(report.get("ok", True)), doing=_(STATES[state]) if state in STATES else state,
        quiet_for=quiet, last_error=str(error)[:300] if error else None,
        source=str(report.get("mailbox", "")), waiting=_waiting(report),
    )


def _waiting(report: dict[str, Any]) -> str:
    behind, waited = report.get("behind"), report.get("oldest_waiting_seconds")
    if not isinstance(behind, int) or not behind or not isinstance(waited, int | float) \
            or waited < 60:
        return ""
    return ngettext(*WAITING, behind) % {"num": behind, "duration": _duration(float(waited))}


def _duration(seconds: float) -> str:
    """"14 min", "3 h 5 min", "4 days", in the request's language."""
    span, where = timedelta(seconds=int(seconds)), format_locale()
    if span >= timedelta(days=2):
        return format_timedelta(span, format="long", granularity="day", locale=where)
    hours, minutes = divmod(int(span.total_seconds()) // 60, 60)
    parts = ([format_timedelta(timedelta(hours=hours), format="short", locale=where)]
             if hours else [])
    if minutes or not hours:
        parts.append(format_timedelta(timedelta(minutes=minutes), format="short",
                                      locale=where))
    return " ".join(parts)
