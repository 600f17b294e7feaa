"""The ticket lifecycle refuses illegal transitions and says what each does to the SLA."""

from __future__ import annotations

import pytest

from gateway.tickets.lifecycle import (
    IllegalTransition,
    check_transition,
    clock_effect,
    reopen_status,
)


def test_the_normal_path_is_allowed() -> None:
    for current, wanted in [("new", "open"), ("open", "pending"), ("pending", "open"),
                            ("open", "solved"), ("solved", "open"), ("solved", "closed"),
                            ("new", "closed"), ("open", "open")]:
        check_transition(current, wanted)


@pytest.mark.parametrize(("current", "wanted"), [
    ("closed", "open"), ("solved", "pending"), ("open", "new"), ("pending", "new"),
    ("open", "archived"),
])
def test_illegal_transitions_are_refused_with_a_clear_message(current: str, wanted: str) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot go from {current} to {wanted}"):
        check_transition(current, wanted)


def test_the_message_says_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match=r"allowed: closed, open\)"):
        check_transition("solved", "pending")
    with pytest.raises(IllegalTransition, match="closed is final"):
        check_transition("closed", "open")


def test_a_customer_reply_reopens_pending_and_solved_tickets() -> None:
    assert reopen_status("pending") == "open"
    assert reopen_status("solved") == "open"
    assert reopen_status("open") is None
    assert reopen_status("closed") is None


def test_pending_pauses_the_sla_and_reopening_resumes_it() -> None:
    assert clock_effect("open", "pending") == "pause"
    assert clock_effect("pending", "open") == "resume"
    assert clock_effect("open", "solved") == "pause"
    assert clock_effect("solved", "open") == "resume"
    assert clock_effect("pending", "closed") == "stop"
    assert clock_effect("new", "open") is None
