"""Priority from urgency × impact: words and frustration raise urgency, the segment sets impact."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from gateway.config.policy import PrioritySettings
from gateway.tickets import priority

DEFAULTS = PrioritySettings()


@pytest.fixture(autouse=True)
def no_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    """The words alone, whether or not knowledge_base.signals exists yet."""
    monkeypatch.setattr(priority, "_signals", lambda: None)


@pytest.mark.parametrize(("text", "segment", "expected"), [
    ("Where is my order?", "consumer", "P3"),
    ("Where is my order? It is urgent.", "consumer", "P2"),
    ("C'est URGENT, merci", None, "P2"),
    ("Het is dringend!", "consumer", "P2"),
    ("Bitte dringend zurückrufen", "business", "P1"),
    ("Where is our fleet order?", "business", "P2"),
    ("An insurgent plot", "consumer", "P3"),  # a whole word only
])
def test_default_matrix(text: str, segment: str | None, expected: str) -> None:
    assert priority.assess(text, segment, DEFAULTS).priority == expected


def test_frustration_raises_urgency_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    signals = SimpleNamespace(frustration=lambda text: 0.9 if "!!!" in text else 0.1,
                              urgency=lambda text: False)
    monkeypatch.setattr(priority, "_signals", lambda: signals)
    calm = priority.assess("Where is my bike?", "consumer", DEFAULTS)
    angry = priority.assess("Where is my bike!!!", "consumer", DEFAULTS)
    assert (calm.priority, calm.reasons) == ("P3", ())
    assert (angry.priority, angry.urgency, angry.reasons) == ("P2", "high", ("frustration 0.90",))


def test_the_signals_urgency_detector_is_used_when_present(
        monkeypatch: pytest.MonkeyPatch) -> None:
    signals = SimpleNamespace(frustration=lambda text: 0.0, urgency=lambda text: "now" in text)
    monkeypatch.setattr(priority, "_signals", lambda: signals)
    assert priority.assess("I need it now", "consumer", DEFAULTS).priority == "P2"


def test_urgency_is_raised_one_level_only() -> None:
    settings = PrioritySettings(default_urgency="low")
    assessed = priority.assess("urgent", "consumer", settings, urgent=True)
    assert (assessed.urgency, assessed.priority) == ("medium", "P3")
    assert assessed.reasons == ("flagged urgent", "urgent word")


def test_the_caller_may_flag_a_contact_urgent() -> None:
    assessed = priority.assess("Where is my order?", "business", DEFAULTS, urgent=True)
    assert (assessed.priority, assessed.reasons) == ("P1", ("flagged urgent",))


def test_matrix_and_segments_are_configurable() -> None:
    settings = PrioritySettings(
        matrix={u: {i: "P9" for i in ("high", "medium", "low")} for u in ("high", "medium", "low")}
        | {"high": {"high": "P0", "medium": "P9", "low": "P9"}},
        segments={"vip": "high"}, urgent_words=("asap",),
    )
    assert priority.assess("asap please", "vip", settings).priority == "P0"
    assert priority.assess("urgent please", "vip", settings).priority == "P9"


def test_an_incomplete_matrix_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match=r"missing cells: low\.low"):
        PrioritySettings(matrix={"high": {"high": "P1", "medium": "P2", "low": "P3"},
                                 "medium": {"high": "P2", "medium": "P3", "low": "P4"},
                                 "low": {"high": "P3", "medium": "P4"}})


def test_missing_signals_module_means_words_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    import sys

    monkeypatch.setitem(sys.modules, "knowledge_base.signals", None)
    assert priority._signals() is None


def test_with_the_real_signals_module_when_it_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    assert priority.assess("Where is my order?", "consumer", DEFAULTS).priority == "P3"
    assert priority.assess("This is urgent", "business", DEFAULTS).priority == "P1"
