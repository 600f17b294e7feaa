"""The business calendar: opening hours, holidays, split and overnight shifts, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.calendar import BusinessCalendar, CalendarError, out_of_hours_notice

from .helpers import ALL_DAYS, WEEKDAYS, always_open, local, office

H = timedelta(hours=1)


def test_due_time_skips_the_weekend() -> None:
    friday_5pm = local(2026, 3, 6, 17)
    assert office().add_business_time(friday_5pm, 2 * H) == local(2026, 3, 9, 10)


def test_due_time_skips_the_belgian_national_day() -> None:
    # 21 July 2026 is a Tuesday.
    monday = local(2026, 7, 20, 17, 30)
    assert office().add_business_time(monday, H) == local(2026, 7, 22, 9, 30)
    assert not office().is_open(local(2026, 7, 21, 11))


def test_due_time_skips_easter_monday_but_not_good_friday() -> None:
    calendar = office()
    assert calendar.is_open(local(2026, 4, 3, 11))  # Good Friday is a working day in Belgium
    assert calendar.add_business_time(local(2026, 4, 3, 17), 2 * H) == local(2026, 4, 7, 10)


def test_extra_closed_days_are_skipped_with_the_holidays_around_them() -> None:
    weekly = {day: ["09:00-18:00"] for day in WEEKDAYS}
    calendar = BusinessCalendar(weekly, closed_days=[date(2026, 12, 24)])
    # Thu 24 closed, Fri 25 Christmas, then the weekend.
    assert calendar.add_business_time(local(2026, 12, 23, 17), 2 * H) == local(2026, 12, 28, 10)


def test_opening_hours_include_the_start_and_exclude_the_end() -> None:
    calendar = office()
    assert calendar.is_open(local(2026, 3, 9, 9))
    assert not calendar.is_open(local(2026, 3, 9, 18))
    assert calendar.next_open(local(2026, 3, 9, 18)) == local(2026, 3, 10, 9)
    assert calendar.next_open(local(2026, 3, 9, 12)) == local(2026, 3, 9, 12)


def test_split_shift_leaves_the_lunch_break_out() -> None:
    calendar = office(monday=["09:00-12:30", "13:30-18:00"])
    assert not calendar.is_open(local(2026, 3, 9, 13))
    assert calendar.add_business_time(local(2026, 3, 9, 12), H) == local(2026, 3, 9, 14)
    assert calendar.business_time_between(local(2026, 3, 9, 8), local(2026, 3, 9, 20)) == 8 * H


def test_overnight_shift_runs_into_the_next_morning() -> None:
    calendar = office(saturday=["22:00-06:00"])
    assert calendar.is_open(local(2026, 3, 7, 23))
    assert calendar.is_open(local(2026, 3, 8, 5, 59))
    assert not calendar.is_open(local(2026, 3, 8, 6))
    assert calendar.next_open(local(2026, 3, 8, 7)) == local(2026, 3, 9, 9)
    # Saturday 23:00 + 8 h: 7 h of night shift, then one hour on Monday morning.
    assert calendar.add_business_time(local(2026, 3, 7, 23), 8 * H) == local(2026, 3, 9, 10)


def test_a_holiday_cancels_the_night_shift_starting_on_it_not_the_one_ending_on_it() -> None:
    nights = BusinessCalendar({day: ["22:00-06:00"] for day in ALL_DAYS})
    assert nights.is_open(local(2026, 7, 21, 3))  # started on Monday 20 July
    assert not nights.is_open(local(2026, 7, 21, 23))  # would start on the national day
    assert not nights.is_open(local(2026, 7, 22, 3))
    assert nights.next_open(local(2026, 7, 21, 7)) == local(2026, 7, 22, 22)


def test_night_shift_is_seven_hours_when_clocks_spring_forward() -> None:
    calendar = office(saturday=["22:00-06:00"])
    # Sunday 29 March 2026, 02:00 → 03:00.
    night = calendar.business_time_between(local(2026, 3, 28, 12), local(2026, 3, 29, 12))
    assert night == 7 * H
    assert calendar.add_business_time(local(2026, 3, 28, 22), 7 * H) == local(2026, 3, 29, 6)
    assert local(2026, 3, 29, 6) == datetime(2026, 3, 29, 4, tzinfo=UTC)


def test_night_shift_is_nine_hours_when_clocks_fall_back() -> None:
    calendar = office(saturday=["22:00-06:00"])
    # Sunday 25 October 2026, 03:00 → 02:00.
    night = calendar.business_time_between(local(2026, 10, 24, 12), local(2026, 10, 25, 12))
    assert night == 9 * H
    assert calendar.add_business_time(local(2026, 10, 24, 22), 9 * H) == local(2026, 10, 25, 6)
    assert local(2026, 10, 25, 6) == datetime(2026, 10, 25, 5, tzinfo=UTC)


def test_office_hours_follow_local_time_across_dst() -> None:
    calendar = office()
    due = calendar.add_business_time(local(2026, 3, 27, 17), 2 * H)
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)  # 10:00 summer time
    due = calendar.add_business_time(local(2026, 10, 23, 17), 2 * H)
    assert due == datetime(2026, 10, 26, 9, tzinfo=UTC)  # 10:00 winter time


def test_a_24_hour_calendar_counts_real_time_on_dst_days() -> None:
    always = always_open()
    assert always.business_time_between(local(2026, 3, 29), local(2026, 3, 30)) == 23 * H
    assert always.business_time_between(local(2026, 10, 25), local(2026, 10, 26)) == 25 * H
    start = local(2026, 3, 28, 12)
    assert always.add_business_time(start, 100 * H) == start + 100 * H


def test_business_time_between_and_add_business_time_agree() -> None:
    calendar = office(monday=["09:00-12:30", "13:30-18:00"], saturday=["22:00-06:00"])
    start = local(2026, 3, 27, 16, 15)
    for minutes in (0, 1, 45, 600, 2000, 5000):
        due = calendar.add_business_time(start, timedelta(minutes=minutes))
        assert calendar.business_time_between(start, due) == timedelta(minutes=minutes)


def test_naive_datetimes_and_bad_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        office().is_open(datetime(2026, 3, 9, 10))
    with pytest.raises(CalendarError, match="HH:MM"):
        BusinessCalendar({"monday": ["9-17"]})
    with pytest.raises(CalendarError, match="no opening hours"):
        BusinessCalendar({"monday": []})
    with pytest.raises(CalendarError, match="unknown weekdays"):
        BusinessCalendar({"mon": ["09:00-17:00"]})


def test_a_calendar_that_never_opens_again_says_so() -> None:
    closed = [date(2026, 1, 1) + timedelta(days=n) for n in range(900)]
    calendar = BusinessCalendar({"monday": ["09:00-17:00"]}, closed_days=closed)
    with pytest.raises(CalendarError, match="does not open"):
        calendar.next_open(local(2026, 1, 1))


@pytest.mark.parametrize(("language", "sentence"), [
    ("en", "We are closed now; you can expect an answer from Monday 9 March at 09:00."),
    ("fr", "Nous sommes fermés pour le moment ; vous pouvez attendre une réponse à partir du"
           " lundi 9 mars à 09:00."),
    ("nl", "We zijn nu gesloten; u kunt een antwoord verwachten vanaf maandag 9 maart om 09:00."),
    ("de", "Wir haben gerade geschlossen; Sie können ab Montag, 9. März, 09:00 Uhr mit einer"
           " Antwort rechnen."),
    ("es", "We are closed now; you can expect an answer from Monday 9 March at 09:00."),
])
def test_out_of_hours_notice_names_the_next_opening_in_local_time(language: str,
                                                                  sentence: str) -> None:
    assert out_of_hours_notice(office(), local(2026, 3, 6, 19), language) == sentence


def test_no_out_of_hours_notice_while_open_and_holidays_count() -> None:
    assert out_of_hours_notice(office(), local(2026, 3, 9, 10), "en") is None
    notice = out_of_hours_notice(office(), local(2026, 7, 20, 18, 30), "nl")
    assert notice is not None and "woensdag 22 juli om 09:00" in notice
