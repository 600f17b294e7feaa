"""Language detection over the four supported languages."""

from __future__ import annotations

import pytest

from knowledge_base.language import detect_language


@pytest.mark.parametrize(("text", "language"), [
    ("When will my new bike be delivered?", "en"),
    ("Quand est-ce que mon nouveau vélo sera livré ?", "fr"),
    ("Wanneer wordt mijn nieuwe fiets geleverd?", "nl"),
    ("Wann wird mein neues Fahrrad geliefert?", "de"),
])
def test_sentences_are_recognised(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert detect_language(text, default="nl") == language


def test_short_or_ambiguous_text_keeps_the_default() -> None:
    assert detect_language("ok", default="fr") == "fr"
    assert detect_language("?!", default="de") == "de"
    assert detect_language("", default="nl") == "nl"
    assert detect_language("Velora", default="nl") == "nl"
