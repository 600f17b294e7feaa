"""What the chat's header says about the people behind it: when they reply, or when they
open (from the business calendar and the SLA, so the promise is the one the desk keeps)."""

from __future__ import annotations

from datetime import datetime

from gateway.calendar import duration_phrase, moment_phrase
from gateway.config.settings import Settings
from gateway.texts import Texts


def hours_line(settings: Settings, texts: Texts, language: str, at: datetime) -> str:
    """"We reply within 4 hours." while the office is open (the first-response target of the
    default priority), "We are closed; we open on Monday 7 December at 09:00." otherwise."""
    calendar = settings.calendar.calendar()
    opens = calendar.next_open(at)
    if opens > at:
        return texts("hours_closed", language, when=moment_phrase(calendar, opens, language))
    priority = settings.priority
    default = priority.matrix[priority.default_urgency][priority.default_impact]
    first_response, _ = settings.sla.target(default)
    minutes = int(first_response.total_seconds() // 60)
    return texts("hours_open", language, within=duration_phrase(minutes, language))
