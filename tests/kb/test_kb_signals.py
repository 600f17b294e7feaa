"""The pipeline's message signals in the four languages, with typos, without false alarms."""

from __future__ import annotations

import pytest

from knowledge_base.signals import (
    asks_for_status,
    frustration,
    negative_feedback,
    urgency,
    wants_human,
)


@pytest.mark.parametrize("text", [
    "agent", "Agent please!", "human", "I want to talk to a human", "can I speak to a person",
    "talk to an agnet", "Je veux parler à un conseiller humain", "une vraie personne svp",
    "Kan ik met een medewerker spreken?", "medewerker aub", "mens", "Ik wil met een mens praten",
    "Ich möchte mit einem Menschen sprechen", "Mitarbeiter bitte", "mit einem Mitarbieter",
    "ik wil een mens spreken", "Ik wil graag een persoon spreken",
])
def test_asking_for_a_person_is_recognised(text: str) -> None:
    assert wants_human(text)


@pytest.mark.parametrize("text", [
    "what is a travel agent", "is the bike suitable for one person", "human resources address",
    "Wie viele Mitarbeiter hat Ihre Firma?", "when will my bike arrive", "",
    "Ghent", "ghent please", "Mons", "Namen",  # a town answered to "which shop?"
])
def test_other_uses_of_the_same_words_are_not(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize("text", [
    "no", "Nope.", "that didn't help", "That did not help at all", "wrong answer",
    "ça n'aide pas", "Ca ne m'aide pas du tout", "non", "dat helpt niet", "nee",
    "das hilft nicht", "Nein", "falsche Antwort",
])
def test_negative_feedback_is_recognised(text: str) -> None:
    assert negative_feedback(text)


@pytest.mark.parametrize("text", [
    "no problem, thanks", "yes that helped", "I know", "Non merci, c'est parfait, ça m'aide",
    "is there no delivery on Sunday", "nee hoor, dank je, alles is duidelijk",
])
def test_thanks_and_questions_are_not_negative_feedback(text: str) -> None:
    assert not negative_feedback(text)


def test_frustration_grows_with_anger_and_shouting() -> None:
    assert frustration("when will my bike arrive?") == 0.0
    assert 0.3 <= frustration("this is unacceptable") < 0.7
    assert frustration("THIS IS UNACCEPTABLE!!!") >= 0.7
    assert frustration("c'est scandaleux, vous êtes nuls !!") >= 0.7
    assert frustration("Dit is schandalig!!") >= 0.7
    assert frustration("Das ist inakzeptabel!!!") >= 0.7
    assert frustration("you idiots") >= 0.5


@pytest.mark.parametrize(("text", "expected"), [
    ("urgent: my battery is on fire", True), ("I need it asap", True), ("dringend bitte", True),
    ("zo snel mogelijk aub", True), ("répondez immédiatement", True), ("c'est urgnet", True),
    ("when are you open", False), ("is the delivery free", False),
])
def test_urgency(text: str, expected: bool) -> None:
    assert urgency(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Any news on my ticket?", True), ("any updates on my request?", True),
    ("I'm still waiting!", True),
    ("Avez-vous des nouvelles ?", True), ("Wat is de stand van zaken?", True),
    ("Gibt es Neuigkeiten?", True), ("It is about my invoice of March", False),
    ("The new battery is still not charging", False),
])
def test_asking_for_news(text: str, expected: bool) -> None:
    assert asks_for_status(text) is expected


def test_signals_read_a_bounded_prefix_of_a_huge_message() -> None:
    """A megabyte-long e-mail is scanned only up to MAX_SIGNAL_CHARS (fuzzy scans)."""
    from knowledge_base.signals import MAX_SIGNAL_CHARS

    filler = "the bike arrived and the wheel is fine " * (2 * MAX_SIGNAL_CHARS // 39)
    assert wants_human("I want to talk to an agnet. " + filler)
    assert not wants_human(filler + " talk to a human")


def test_signals_read_a_bounded_number_of_words() -> None:
    """A request for a person within the first MAX_SIGNAL_WORDS words counts, later not."""
    from knowledge_base.signals import MAX_SIGNAL_WORDS

    filler = "the bike arrived and the wheel is fine ".split()
    early = filler * ((MAX_SIGNAL_WORDS - 20) // len(filler))
    assert wants_human(" ".join(early + "can I talk to a humna please".split()))
    late = filler * (MAX_SIGNAL_WORDS // len(filler) + 1)
    assert not wants_human(" ".join(late + "can I talk to a human please".split()))


def test_the_indexed_scan_finds_what_the_window_by_window_scan_found() -> None:
    """Issue 21 replaced the phrase-by-phrase scan with one indexed pass: on messages with
    phrases typed with typos at any place, between questions from Banking77, both say the
    same for all five signals (benchmarks/signals_before.py is the earlier scan)."""
    import csv
    import random

    from conftest import DATASETS

    from benchmarks import signals_before as before
    from knowledge_base import signals as after

    with (DATASETS / "banking77" / "test.csv").open(newline="") as handle:
        questions = [row[0] for row in csv.reader(handle)][1:]
    phrases = (after._HUMAN_PHRASES + after._NEGATIVE_PHRASES + after._STATUS_PHRASES
               + after._ANGER + after._URGENT + after._HUMAN_WORDS + after._NEGATIVE_WORDS)
    pick = random.Random(21)

    def typo(phrase: str) -> str:
        at = pick.randrange(len(phrase))
        return pick.choice([phrase[:at] + phrase[at + 1:],
                            phrase[:at] + pick.choice("aeinost ") + phrase[at:],
                            phrase[:at] + pick.choice("aeinost") + phrase[at + 1:], phrase])

    def signals(module: object, text: str) -> tuple[object, ...]:
        return tuple(getattr(module, name)(text) for name in (
            "wants_human", "negative_feedback", "asks_for_status", "frustration", "urgency"))

    found = 0
    for _ in range(400):
        around = pick.sample(questions, pick.choice([0, 1, 1, 3, 12]))
        words = " ".join(around).split()
        at = pick.randrange(len(words) + 1)
        text = " ".join([*words[:at], typo(typo(pick.choice(phrases))), *words[at:]])
        expected = signals(before, text)
        assert signals(after, text) == expected, text
        found += any(expected)
    assert found > 200  # the typos left most phrases recognisable: the comparison has teeth
