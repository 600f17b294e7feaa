"""Shared builders for the SLA tests: Brussels wall times and calendars."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from gateway.calendar import BusinessCalendar

BRUSSELS = ZoneInfo("Europe/Brussels")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
ALL_DAYS = (*WEEKDAYS, "saturday", "sunday")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Brussels wall-clock moment, as the UTC datetime the calendar works with."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


def office(**extra: list[str]) -> BusinessCalendar:
    """Monday to Friday 09:00-18:00 in Brussels, Belgian holidays closed, plus `extra` days."""
    return BusinessCalendar({**{day: ["09:00-18:00"] for day in WEEKDAYS}, **extra})


def always_open() -> BusinessCalendar:
    return BusinessCalendar({day: ["00:00-24:00"] for day in ALL_DAYS}, public_holidays=None)
