"""Reading "call me tomorrow after 5", "bel me morgen na 17u", "rappelez-moi lundi matin",
"ruf mich morgen früh an": is it a call-back request, and for which window.

The day comes from `dateparser` (well kept, all four languages); the part of the day and
the hours ("after 5", "na 17u", "avant 11h", "um 15 Uhr") from the small patterns here,
since dateparser reads "after 5" as nothing or as the 5th. The window is then put in
opening hours with the business calendar: a window that falls while the desk is closed
moves to the next opening, keeping its length.

This is CPU work on customer input: the text is cut to `MAX_CHARS` first, and the parse
runs in a worker thread (`read_window`): dateparser's first use of a language loads its
data (170-780 ms measured), later calls take 1-25 ms.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import dateparser.search

from gateway.calendar import BusinessCalendar

#: What is read of a message: a call-back request is a sentence, not a document.
MAX_CHARS = 300
#: The window of "call me back" without a day or time.
ASAP = timedelta(hours=2)

_ASKS = re.compile(
    r"\b(call\s+me|call\s+(?:me\s+)?back|ring\s+me|phone\s+me|contact\s+me|get\s+back\s+to\s+me"
    r"|bel\s+(?:me|mij)|terugbellen|terug\s+bellen|(?:me|mij)\s+opbellen|contacteer\s+(?:me|mij)"
    r"|rappel(?:ez|er)[-\s]?moi|me\s+rappeler|appel(?:ez|er)[-\s]?moi|contactez[-\s]?moi"
    r"|ruf(?:en)?(?:\s+sie)?\s+mich|rückruf|zurückrufen|mich\s+anrufen"
    r"|kontaktieren\s+sie\s+mich)",
    re.IGNORECASE)

#: Parts of the day, in local time.
_PARTS = {"morning": (time(9), time(12)), "afternoon": (time(13), time(17)),
          "evening": (time(17), time(20))}
_PART_WORDS = (
    ("afternoon", r"afternoon|namiddag|'s\s+middags|middag|après[-\s]midi|apres[-\s]midi"
                  r"|nachmittags?"),
    ("morning", r"morning|ochtend|voormiddag|'s\s+morgens|matin(?:ée)?|früh|vormittags?"
                r"|morgens"),
    ("evening", r"evening|tonight|avond|'s\s+avonds|soir(?:ée)?|abends?"),
)
_HOUR = r"(\d{1,2})(?:\s*[:.hu]\s*(\d{2}))?\s*(am|pm|h|u|uur|uhr|o'clock)?"
_BOUNDS = (
    ("between", rf"\b(?:between|tussen|entre|zwischen)\s+{_HOUR}\s+(?:and|en|et|und)\s+{_HOUR}"),
    ("after", rf"(?:\bafter|\bfrom|\bna|\bvanaf|\baprès|\bapres|à\s+partir\s+de|\bnach|\bab)"
              rf"\s+{_HOUR}"),
    ("before", rf"(?:\bbefore|\bvoor|\bvóór|\bavant|\bvor|\bbis)\s+{_HOUR}"),
    ("at", rf"(?:\bat|\bom|\bà|\bum)\s+{_HOUR}"),
)
_TODAY_EVENING = re.compile(r"\b(tonight|vanavond|ce\s+soir|heute\s+abend)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """When to call, in UTC; `phrase` is what the customer wrote of it."""

    start: datetime
    end: datetime
    phrase: str


def asks_for_call_back(text: str) -> bool:
    return bool(_ASKS.search(text[:MAX_CHARS]))


def _hour(hour: str, minute: str | None, suffix: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    suffix = (suffix or "").lower()
    if suffix == "pm" and h < 12:
        h += 12
    elif suffix != "am" and 1 <= h < 8:  # "after 5" at a helpdesk is 17:00
        h += 12
    return time(h, m) if h < 24 and m < 60 else None


def _times(text: str) -> tuple[tuple[time, time] | None, str]:
    """(local start and end of the day's window, the text without it)."""
    for kind, pattern in _BOUNDS:
        match = re.search(pattern, text, re.IGNORECASE)
        if not match:
            continue
        first = _hour(*match.groups()[:3])
        if first is None:
            continue
        rest = text[:match.start()] + " " + text[match.end():]
        if kind == "between":
            second = _hour(*match.groups()[3:6])
            if second is not None and second > first:
                return (first, second), rest
        elif kind == "after":
            return (first, min(_add(first, 2), time(23, 59))), rest
        elif kind == "before":
            return (max(time(9), _add(first, -2)), first), rest
        else:
            return (first, min(_add(first, 1), time(23, 59))), rest
    for part, pattern in _PART_WORDS:
        match = re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE)
        if match:
            return _PARTS[part], text[:match.start()] + " " + text[match.end():]
    return None, text


def _add(moment: time, hours: int) -> time:
    total = max(0, min(23 * 60 + 59, moment.hour * 60 + moment.minute + hours * 60))
    return time(total // 60, total % 60)


def parse_window(text: str, language: str | None, calendar: BusinessCalendar,
                 now: datetime) -> Window:
    """The window a call-back request asks for, in opening hours (synchronous: CPU work)."""
    text = text[:MAX_CHARS]
    local_now = now.astimezone(calendar.tz)
    hours, rest = _times(text)
    rest = _ASKS.sub(" ", rest)
    day = local_now.date()
    found = None
    if not _TODAY_EVENING.search(text):
        found = dateparser.search.search_dates(
            rest, languages=[language] if language in ("en", "fr", "nl", "de") else None,
            settings={"PREFER_DATES_FROM": "future",
                      "RELATIVE_BASE": local_now.replace(tzinfo=None)})
    if found:
        day = found[0][1].date()
    if hours is None and not found:  # "call me back": as soon as we can, within two hours
        start, end = local_now, local_now + ASAP
    else:  # a day without hours: that working day
        begin, finish = hours or (time(9), time(17))
        start = datetime.combine(day, begin, calendar.tz)
        end = datetime.combine(day, finish, calendar.tz)
    if end <= now:  # that moment of today is over: the same time on the next day
        start, end = start + timedelta(days=1), end + timedelta(days=1)
    start = max(start, now.astimezone(calendar.tz))
    opened = calendar.next_open(start)
    if opened != start.astimezone(opened.tzinfo):  # closed then: from the next opening
        end, start = opened + (end - start), opened
    return Window(start.astimezone(opened.tzinfo), end.astimezone(opened.tzinfo),
                  " ".join(text.split())[:120])


async def read_window(text: str, language: str | None, calendar: BusinessCalendar,
                      now: datetime) -> Window:
    """`parse_window` in a worker thread: the event loop keeps serving meanwhile."""
    return await asyncio.to_thread(parse_window, text, language, calendar, now)


def warm_up() -> None:
    """Load dateparser's data for the four languages (at start, in a thread)."""
    for language, word in (("en", "tomorrow"), ("fr", "demain"), ("nl", "morgen"),
                           ("de", "morgen")):
        dateparser.search.search_dates(word, languages=[language])
