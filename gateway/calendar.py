"""The one business-calendar engine: SLA clocks, operators' working hours, out-of-hours replies
and notifications all ask it whether the helpdesk is open, and for how long.

Opening hours are weekly wall-clock shifts in one time zone (default Europe/Brussels); a day
may hold several shifts (split shifts) and a shift whose end is not after its start runs into
the next day (overnight, e.g. ``22:00-06:00``). A shift belongs to the day it starts on: when
that day is a public holiday or a closed day, the whole shift is off. Durations are real
elapsed time, so a night shift is 7 h on the night clocks spring forward and 9 h when they
fall back. Every datetime in and out is timezone-aware; results are in UTC.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from gateway.errors import GatewayError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHIFT = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_DAY_MINUTES = 24 * 60
#: A calendar closed this long in a row (holidays, closed days) is treated as never opening.
_MAX_CLOSED_DAYS = 800

Interval = tuple[datetime, datetime]


class CalendarError(GatewayError, ValueError):
    """Opening hours that cannot be used: a malformed shift, or a calendar that never opens."""


@dataclass(frozen=True)
class Shift:
    """Minutes after local midnight of the day it starts; `end` may pass 1440 (overnight)."""

    start: int
    end: int


def parse_shift(text: str) -> Shift:
    """``"09:00-12:30"``; ``"22:00-06:00"`` runs overnight; ``24:00`` is accepted as an end."""
    match = _SHIFT.match(text.strip())
    if match is None:
        raise CalendarError(f"{text!r}: expected HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise CalendarError(f"{text!r}: not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        end += _DAY_MINUTES
    return Shift(start, end)


@functools.cache
def _public_holidays(country: str) -> holidays.HolidayBase:
    """Shared per country: the package computes each year's holidays once, on first use."""
    return holidays.country_holidays(country)


class BusinessCalendar:
    """Weekly opening hours in one time zone, minus public holidays and extra closed days."""

    def __init__(
        self,
        weekly: Mapping[str, Sequence[str]],
        *,
        timezone: str = "Europe/Brussels",
        public_holidays: str | None = "BE",
        closed_days: Collection[date] = (),
    ) -> None:
        unknown = set(weekly) - set(WEEKDAYS)
        if unknown:
            raise CalendarError(f"unknown weekdays: {sorted(unknown)}")
        self.tz = ZoneInfo(timezone)
        self._shifts = tuple(
            tuple(sorted((parse_shift(text) for text in weekly.get(day, ())),
                         key=lambda shift: shift.start))
            for day in WEEKDAYS
        )
        if not any(self._shifts):
            raise CalendarError("no opening hours on any day")
        self._holidays = _public_holidays(public_holidays) if public_holidays else None
        self._closed = frozenset(closed_days)

    def is_closed_day(self, day: date) -> bool:
        """A public holiday or an extra closed day: no shift starts on it."""
        return day in self._closed or (self._holidays is not None and day in self._holidays)

    def is_open(self, at: datetime) -> bool:
        return self.next_open(at) == _utc(at)

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the start of the next opening (UTC)."""
        start, _ = next(self._intervals(_utc(at)))
        return start

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest moment at which `duration` of opening time has passed since `start`."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        remaining = duration
        moment = _utc(start)
        if not remaining:
            return moment
        for begin, end in self._intervals(moment):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("_intervals never ends")  # pragma: no cover

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Opening time within [a, b); zero when b is not after a."""
        a, b = _utc(a), _utc(b)
        total = timedelta(0)
        if b <= a:
            return total
        for begin, end in self._intervals(a):
            if begin >= b:
                break
            total += min(end, b) - begin
        return total

    def _intervals(self, after: datetime) -> Iterator[Interval]:
        """Opening intervals in UTC, in order, cut so that they start at `after` or later and
        never overlap (overlapping shifts from two days are merged by clipping)."""
        day = after.astimezone(self.tz).date() - timedelta(days=1)  # yesterday's night shift
        last_end = after
        closed_streak = 0
        while True:
            yielded = False
            if not self.is_closed_day(day):
                midnight = datetime(day.year, day.month, day.day)
                for shift in self._shifts[day.weekday()]:
                    begin = self._to_utc(midnight + timedelta(minutes=shift.start))
                    end = self._to_utc(midnight + timedelta(minutes=shift.end))
                    begin = max(begin, last_end)
                    if end > begin:
                        yield begin, end
                        last_end, yielded = end, True
            closed_streak = 0 if yielded else closed_streak + 1
            if closed_streak > _MAX_CLOSED_DAYS:
                raise CalendarError(f"the calendar does not open after {after.isoformat()}")
            day += timedelta(days=1)

    def _to_utc(self, wall: datetime) -> datetime:
        """Local wall time → UTC. A time skipped by spring-forward (02:30) reads with the offset
        before the change (PEP 495 fold=0), i.e. as 03:30 summer time."""
        return wall.replace(tzinfo=self.tz).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the calendar needs aware ones")
    return moment.astimezone(UTC)


# -- out-of-hours notice --------------------------------------------------------------------

_NOTICES = {
    "en": "We are closed now; you can expect an answer from {when}.",
    "fr": "Nous sommes fermés pour le moment ; vous pouvez attendre une réponse à partir du"
          " {when}.",
    "nl": "We zijn nu gesloten; u kunt een antwoord verwachten vanaf {when}.",
    "de": "Wir haben gerade geschlossen; Sie können ab {when} mit einer Antwort rechnen.",
}
_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_MONTH_NAMES = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"),
}
_WHEN = {
    "en": "{day} {d} {month} at {time}",
    "fr": "{day} {d} {month} à {time}",
    "nl": "{day} {d} {month} om {time}",
    "de": "{day}, {d}. {month}, {time} Uhr",
}


_UNITS = {  # (one minute, minutes, one hour, hours)
    "en": ("minute", "minutes", "hour", "hours"),
    "fr": ("minute", "minutes", "heure", "heures"),
    "nl": ("minuut", "minuten", "uur", "uur"),
    "de": ("Minute", "Minuten", "Stunde", "Stunden"),
}


def out_of_hours_notice(calendar: BusinessCalendar, at: datetime,
                        language: str | None) -> str | None:
    """The sentence for a contact outside opening hours, or None when the helpdesk is open."""
    opens = calendar.next_open(at)
    if opens == _utc(at):
        return None
    lang = language if language in _NOTICES else "en"
    return _NOTICES[lang].format(when=moment_phrase(calendar, opens, lang))


def moment_phrase(calendar: BusinessCalendar, moment: datetime, language: str | None) -> str:
    """`moment` as people say it, in the calendar's zone: "Monday 7 December at 09:00".

    Names are spelled out here rather than taken from the OS locale, which a container
    rarely has for all four languages. Unknown languages get English.
    """
    lang = language if language in _WHEN else "en"
    local = moment.astimezone(calendar.tz)
    return _WHEN[lang].format(
        day=_DAY_NAMES[lang][local.weekday()], d=local.day,
        month=_MONTH_NAMES[lang][local.month - 1], time=local.strftime("%H:%M"),
    )


def duration_phrase(minutes: int, language: str | None) -> str:
    """"45 minutes", "4 hours" (whole hours from 60 minutes on, rounded up)."""
    one_minute, minutes_word, one_hour, hours_word = _UNITS.get(language or "en", _UNITS["en"])
    if minutes < 60:
        return f"{minutes} {one_minute if minutes == 1 else minutes_word}"
    hours = -(-minutes // 60)
    return f"{hours} {one_hour if hours == 1 else hours_word}"
