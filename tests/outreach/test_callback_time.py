"""Reading the call-back window from what customers write, in the four languages, with the
business calendar (Brussels, Monday to Friday 09:00-18:00, Belgian holidays)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.calendar import BusinessCalendar
from gateway.outreach.callback_time import MAX_CHARS, asks_for_call_back, parse_window

OFFICE = BusinessCalendar({day: ["09:00-18:00"] for day in
                           ("monday", "tuesday", "wednesday", "thursday", "friday")})
#: Wednesday 2 December 2026, 11:00 in Brussels.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def local(text: str, language: str) -> tuple[str, str]:
    window = parse_window(text, language, OFFICE, NOW)
    return (window.start.astimezone(OFFICE.tz).strftime("%a %d %H:%M"),
            window.end.astimezone(OFFICE.tz).strftime("%a %d %H:%M"))


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("en", "call me tomorrow after 5", ("Thu 03 17:00", "Thu 03 19:00")),
    ("nl", "bel me morgen na 17u", ("Thu 03 17:00", "Thu 03 19:00")),
    ("fr", "rappelez-moi lundi matin", ("Mon 07 09:00", "Mon 07 12:00")),
    ("de", "ruf mich morgen früh an", ("Thu 03 09:00", "Thu 03 12:00")),
    ("en", "can you call me friday between 2 and 4pm", ("Fri 04 14:00", "Fri 04 16:00")),
    ("nl", "kunt u mij terugbellen vrijdag om 14u", ("Fri 04 14:00", "Fri 04 15:00")),
    ("fr", "rappelez-moi demain avant 11h", ("Thu 03 09:00", "Thu 03 11:00")),
    ("de", "Bitte rufen Sie mich am Montag um 15 Uhr an", ("Mon 07 15:00", "Mon 07 16:00")),
    ("en", "please call me back", ("Wed 02 11:00", "Wed 02 13:00")),
])
def test_the_window_in_each_language(language: str, text: str,
                                     expected: tuple[str, str]) -> None:
    assert asks_for_call_back(text)
    assert local(text, language) == expected


def test_a_window_while_the_desk_is_closed_moves_to_the_next_opening() -> None:
    # Saturday: closed; the call is planned for Monday's opening, keeping its length
    assert local("call me on saturday morning", "en") == ("Mon 07 09:00", "Mon 07 12:00")
    # 25 December (a Friday) is a Belgian public holiday: the next opening is Monday
    assert local("bel me op 25 december om 10u", "nl")[0] == "Mon 28 09:00"


def test_other_messages_are_not_call_back_requests() -> None:
    assert not asks_for_call_back("Where is my order?")
    assert not asks_for_call_back("Je voudrais rappeler que ma commande est en retard")


def test_a_long_message_is_read_only_up_to_the_limit() -> None:
    padding = "x " * 5000
    assert not asks_for_call_back(padding + "call me tomorrow")
    started = datetime.now(UTC)
    parse_window("call me tomorrow " + padding, "en", OFFICE, NOW)
    assert (datetime.now(UTC) - started).total_seconds() < 5  # bounded, not quadratic
    assert MAX_CHARS <= 1000
