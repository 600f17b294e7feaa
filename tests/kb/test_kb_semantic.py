"""The optional sentence-embedding matcher (`helpdesk-gateway[semantic]`), with the real model.

CI installs the extra, so these run on every build: the default install stays light, and
the heavier option is proved to work rather than assumed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FIXTURE_KB

from knowledge_base import semantic as semantic_module
from knowledge_base.cli import main
from knowledge_base.decide import decide
from knowledge_base.files import LoadResult
from knowledge_base.index import Matcher, MatcherSettings
from knowledge_base.model import Article, Translation

#: Shares no word with password-reset's examples ("log in", "password").
PARAPHRASE = "I cannot sign in"


@pytest.fixture(scope="module")
def semantic(kb: LoadResult) -> Matcher:
    return Matcher.build(kb.articles.values(), MatcherSettings(semantic=True))


def test_sentence_embeddings_answer_what_shares_no_words_with_the_examples(
        semantic: Matcher, matcher: Matcher) -> None:
    assert decide(matcher.match(PARAPHRASE, "en")).kind != "answer"  # not sure enough
    decision = decide(semantic.match(PARAPHRASE, "en"))
    assert (decision.kind, decision.article_id) == ("answer", "password-reset")


def test_other_languages_keep_the_word_and_character_model(semantic: Matcher) -> None:
    # The embedding model is English; a French question must not be read through it.
    match = semantic.match("leasing de vélos pour les entreprises et les employés", "fr")
    assert match.candidates[0].article_id == "business-leasing"
    assert decide(semantic.match("je n'arrive pas à me connecter", "fr")).article_id == (
        "password-reset")


def test_cli_ask_takes_the_semantic_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", str(FIXTURE_KB), PARAPHRASE, "--lang", "en", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decision"]["kind"] != "answer"
    assert main(["ask", str(FIXTURE_KB), PARAPHRASE, "--lang", "en", "--semantic",
                 "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)["decision"]
    assert (decision["kind"], decision["article_id"]) == ("answer", "password-reset")


def test_a_rebuild_encodes_only_the_questions_that_changed(
        kb: LoadResult, monkeypatch: pytest.MonkeyPatch) -> None:
    # Hot reload must stay within seconds: re-encoding every question would not.
    model = semantic_module._model()
    batches: list[list[str]] = []
    encode = model.encode

    def spy(texts: list[str], **options: Any) -> Any:
        batches.append(list(texts))
        return encode(texts, **options)

    monkeypatch.setattr(model, "encode", spy)
    Matcher.build(kb.articles.values(), MatcherSettings(semantic=True))
    batches.clear()
    gift_cards = Article("gift-cards", "sales", {"en": Translation(
        "Gift cards", ("Do you sell gift vouchers?",), "Yes, in every shop.")})
    rebuilt = Matcher.build([*kb.articles.values(), gift_cards], MatcherSettings(semantic=True))
    assert batches == [["Gift cards", "Do you sell gift vouchers?"]]
    assert rebuilt.match("can I buy a present voucher for my dad", "en").candidates[0].article_id \
        == "gift-cards"
