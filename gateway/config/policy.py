"""Typed `[calendar]`, `[sla]` and `[priority]` configuration sections, validated once at start-up.

The defaults describe a Belgian office: Monday to Friday 09:00-18:00, Europe/Brussels, Belgian
public holidays closed. Every key is documented in docs/sla.md.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gateway.calendar import WEEKDAYS, BusinessCalendar, CalendarError, parse_shift
from gateway.config.base import Section

Level = Literal["high", "medium", "low"]
LEVELS: tuple[Level, ...] = ("high", "medium", "low")
_OFFICE = ("09:00-18:00",)


class WeeklyHours(Section):
    """Shifts per weekday: several per day (split shifts), ``"22:00-06:00"`` runs overnight.
    A named schedule is closed on the days it does not list."""

    monday: tuple[str, ...] = ()
    tuesday: tuple[str, ...] = ()
    wednesday: tuple[str, ...] = ()
    thursday: tuple[str, ...] = ()
    friday: tuple[str, ...] = ()
    saturday: tuple[str, ...] = ()
    sunday: tuple[str, ...] = ()

    @field_validator(*WEEKDAYS)
    @classmethod
    def _shifts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            try:
                parse_shift(text)
            except CalendarError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _opens_sometime(self) -> WeeklyHours:
        if not any(self.weekly().values()):
            raise ValueError("no opening hours on any day")
        return self

    def weekly(self) -> dict[str, tuple[str, ...]]:
        return {day: getattr(self, day) for day in WEEKDAYS}


class CalendarSettings(WeeklyHours):
    """The office's hours (the weekday keys; Monday to Friday 09:00-18:00 unless given), plus
    named schedules for queues and operators."""

    monday: tuple[str, ...] = _OFFICE
    tuesday: tuple[str, ...] = _OFFICE
    wednesday: tuple[str, ...] = _OFFICE
    thursday: tuple[str, ...] = _OFFICE
    friday: tuple[str, ...] = _OFFICE

    timezone: str = "Europe/Brussels"
    #: Country code of the public holidays the office closes on ("" = none).
    public_holidays: str = "BE"
    #: Extra closed days (bridge days, company events), as "YYYY-MM-DD" or TOML dates.
    closed_days: tuple[date, ...] = ()
    #: Other weekly hours by name, e.g. an extended technical line or a night team.
    schedules: dict[str, WeeklyHours] = Field(default_factory=dict)
    #: Queue name → schedule name; a queue not listed keeps the office hours.
    queues: dict[str, str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("public_holidays")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays

        if value and value not in holidays.list_supported_countries():
            raise ValueError(f"no public holidays known for country {value!r}")
        return value

    @model_validator(mode="after")
    def _known_schedules(self) -> CalendarSettings:
        missing = sorted(set(self.queues.values()) - set(self.schedules))
        if missing:
            raise ValueError(f"queues name unknown schedules: {missing}")
        return self

    def calendar(self, schedule: str | None = None) -> BusinessCalendar:
        """The office calendar, or a named schedule in the office's zone, holidays and closures.

        Raises `KeyError` for a schedule that is not configured.
        """
        hours: WeeklyHours = self if schedule is None else self.schedules[schedule]
        return BusinessCalendar(hours.weekly(), timezone=self.timezone,
                                public_holidays=self.public_holidays or None,
                                closed_days=self.closed_days)

    def for_queue(self, queue: str) -> BusinessCalendar:
        """The calendar the SLA of a ticket in this queue counts in."""
        return self.calendar(self.queues.get(queue))


class SlaTarget(Section):
    """Targets in business minutes (minutes during which the calendar is open)."""

    first_response: int = Field(gt=0)
    resolution: int = Field(gt=0)


_DEFAULT_TARGETS = {
    "P1": SlaTarget(first_response=30, resolution=4 * 60),
    "P2": SlaTarget(first_response=2 * 60, resolution=9 * 60),
    "P3": SlaTarget(first_response=4 * 60, resolution=3 * 9 * 60),
    "P4": SlaTarget(first_response=9 * 60, resolution=5 * 9 * 60),
}


class SlaSettings(Section):
    targets: dict[str, SlaTarget] = Field(default_factory=lambda: dict(_DEFAULT_TARGETS))
    #: Warn when this fraction of a target's business time has been used...
    warning_fraction: float = Field(0.75, gt=0, lt=1)
    #: ...or, when set, when at most this many business minutes remain (overrides the fraction).
    warning_minutes: int | None = Field(None, gt=0)
    #: Seconds between two passes of the SLA watcher.
    check_interval: float = Field(30.0, gt=0)
    #: Remind a call-back's assignee this many minutes before its window ends.
    callback_reminder_minutes: int = Field(30, ge=0, le=24 * 60)

    def target(self, priority: str) -> tuple[timedelta, timedelta]:
        """(first response, resolution) for a priority; `KeyError` names an unknown one."""
        target = self.targets[priority]
        return timedelta(minutes=target.first_response), timedelta(minutes=target.resolution)

    def warning_window(self, target: timedelta) -> timedelta:
        """How long before the breach a clock turns to `warning`."""
        if self.warning_minutes is not None:
            return min(timedelta(minutes=self.warning_minutes), target)
        return target * (1 - self.warning_fraction)


_DEFAULT_MATRIX: dict[Level, dict[Level, str]] = {
    "high": {"high": "P1", "medium": "P2", "low": "P3"},
    "medium": {"high": "P2", "medium": "P3", "low": "P4"},
    "low": {"high": "P3", "medium": "P4", "low": "P4"},
}
_HIGH: Level = "high"
_URGENT_WORDS = ("urgent", "urgently", "asap", "emergency", "urgence", "dringend", "spoed",
                 "eilig", "notfall")


class PrioritySettings(Section):
    #: urgency → impact → priority (ITIL style); every cell must be given.
    matrix: dict[Level, dict[Level, str]] = Field(default_factory=lambda: {
        urgency: dict(row) for urgency, row in _DEFAULT_MATRIX.items()})
    default_urgency: Level = "medium"
    default_impact: Level = "medium"
    #: Customer segment → impact; a segment not listed has `default_impact`.
    segments: dict[str, Level] = Field(default_factory=lambda: {"business": _HIGH})
    #: Words that raise urgency one level (matched as whole words, any case).
    urgent_words: tuple[str, ...] = _URGENT_WORDS
    #: A frustration score (0..1, from knowledge_base.signals) at or above this raises urgency.
    frustration_threshold: float = Field(0.6, ge=0, le=1)

    @field_validator("matrix")
    @classmethod
    def _complete(cls, value: dict[Level, dict[Level, str]]) -> dict[Level, dict[Level, str]]:
        missing = [f"{u}.{i}" for u in LEVELS for i in LEVELS if i not in value.get(u, {})]
        if missing:
            raise ValueError(f"missing cells: {', '.join(missing)}")
        return value

    def priorities(self) -> set[str]:
        return {priority for row in self.matrix.values() for priority in row.values()}


def policy_problems(sla: SlaSettings, priority: PrioritySettings) -> list[tuple[str, str]]:
    """Cross-section checks for `load_settings`: (dotted key, problem) pairs, empty when fine."""
    return [("sla.targets", f"no target for priority {name!r} used in priority.matrix")
            for name in sorted(priority.priorities() - set(sla.targets))]
