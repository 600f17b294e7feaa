"""The [calendar], [sla] and [priority] sections: Belgian-office defaults, the documented
example is valid, and mistakes are refused at start-up."""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from gateway.config.policy import (
    CalendarSettings,
    PrioritySettings,
    SlaSettings,
    policy_problems,
)

from .helpers import local

DOC = Path(__file__).resolve().parents[2] / "docs" / "sla.md"


def documented_example() -> dict[str, Any]:
    (block,) = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return tomllib.loads(block)


def test_defaults_describe_a_belgian_office() -> None:
    calendar = CalendarSettings().calendar()
    assert calendar.is_open(local(2026, 3, 9, 9)) and not calendar.is_open(local(2026, 3, 9, 18))
    assert not calendar.is_open(local(2026, 3, 7, 12))  # Saturday
    assert not calendar.is_open(local(2026, 11, 11, 12))  # Armistice Day
    assert SlaSettings().target("P1") == (timedelta(minutes=30), timedelta(hours=4))
    assert policy_problems(SlaSettings(), PrioritySettings()) == []


def test_the_documented_example_is_valid_and_means_what_it_says() -> None:
    data = documented_example()
    calendar = CalendarSettings.model_validate(data["calendar"])
    sla = SlaSettings.model_validate(data["sla"])
    priority = PrioritySettings.model_validate(data["priority"])
    assert calendar.closed_days == (date(2026, 12, 24), date(2026, 12, 31))
    office, technical = calendar.for_queue("billing"), calendar.for_queue("technical")
    assert not office.is_open(local(2026, 3, 9, 13))  # Monday lunch break
    assert technical.is_open(local(2026, 3, 9, 19))
    assert technical.is_open(local(2026, 3, 8, 3))  # Saturday's night shift, Sunday 03:00
    assert not technical.is_open(local(2026, 3, 8, 12))  # not listed: closed
    assert not technical.is_open(local(2026, 12, 24, 12))  # the office's closed days apply
    assert calendar.calendar("night").is_open(local(2026, 3, 10, 2))
    assert policy_problems(sla, priority) == []
    assert priority == PrioritySettings() and sla == SlaSettings()


@pytest.mark.parametrize(("section", "data", "message"), [
    ("calendar", {"monday": ["9-18"]}, "HH:MM-HH:MM"),
    ("calendar", {"monday": ["09:00-25:00"]}, "not a time of day"),
    ("calendar", {"timezone": "Europe/Bruxelles"}, "unknown time zone"),
    ("calendar", {"public_holidays": "XX"}, "no public holidays known"),
    ("calendar", {"queues": {"technical": "nights"}}, "unknown schedules: \\['nights'\\]"),
    ("calendar", {day: [] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
     "no opening hours"),
    ("calendar", {"mondy": ["09:00-18:00"]}, "Extra inputs are not permitted"),
    ("sla", {"warning_fraction": 1.5}, "less than 1"),
    ("sla", {"targets": {"P1": {"first_response": 0, "resolution": 60}}}, "greater than 0"),
    ("priority", {"segments": {"business": "huge"}}, "'high', 'medium' or 'low'"),
])
def test_mistakes_are_refused_with_the_key(section: str, data: dict[str, Any],
                                           message: str) -> None:
    model: dict[str, type[BaseModel]] = {
        "calendar": CalendarSettings, "sla": SlaSettings, "priority": PrioritySettings}
    with pytest.raises(ValidationError, match=message):
        model[section].model_validate(data)


def test_a_matrix_priority_without_an_sla_target_is_reported() -> None:
    sla = SlaSettings(targets={"P1": {"first_response": 30, "resolution": 240}})
    problems = policy_problems(sla, PrioritySettings())
    assert problems == [("sla.targets", f"no target for priority {p!r} used in priority.matrix")
                        for p in ("P2", "P3", "P4")]


def test_warning_minutes_override_the_fraction() -> None:
    hour = timedelta(hours=1)
    assert SlaSettings().warning_window(hour) == 15 * timedelta(minutes=1)
    assert SlaSettings(warning_minutes=10).warning_window(hour) == 10 * timedelta(minutes=1)
    assert SlaSettings(warning_minutes=90).warning_window(hour) == hour
